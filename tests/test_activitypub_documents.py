"""The ActivityPub documents (pure), the key file and the [activitypub] config."""

from __future__ import annotations

import dataclasses
import stat
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from scofeed import HOMEPAGE
from scofeed import config as config_mod
from scofeed.activitypub import documents, keys
from scofeed.activitypub.documents import PUBLIC, Urls
from scofeed.errors import ConfigError
from scofeed.model import Entry
from scofeed.normalise.ids import web_address
from tests import fedi  # the offline JSON-LD loader (bovine's contexts)
from tests.conftest import Site

T0 = datetime(2026, 5, 5, 10, 0, tzinfo=UTC)
ENTRY = Entry(
    id="tag:test.example,2026:entries/abc123",
    title="SCO ministers meet <in> Astana",
    summary="The ministers met & talked.",
    content_html="<p>The ministers met &amp; talked.</p>",
    published=T0,
    updated=T0,
    author="SCO Secretariat",
    language="ru",
    link="https://sco.example/news/1",
    url="https://sco.example/news/1",
    tags=("economy", "foreign ministers", "!!!"),
)


@pytest.fixture
def cfg(site: Site) -> config_mod.Config:
    return site.config("activitypub.enabled=true", 'site.base_url="https://sco.example/"')


def test_urls_and_webfinger(cfg: config_mod.Config) -> None:
    urls = Urls.of(cfg)
    assert urls.actor == "https://sco.example/@releases"
    assert urls.acct == "acct:releases@sco.example"
    jrd = documents.webfinger(urls)
    assert jrd["subject"] == urls.acct
    assert {"rel": "self", "type": "application/activity+json", "href": urls.actor} in jrd["links"]
    for ok in ("acct:releases@sco.example", "releases@SCO.example", "@releases@sco.example",
               "ACCT:Releases@sco.example", "acct:@releases@sco.example", urls.actor):  # fmt: skip
        assert documents.webfinger_matches(urls, ok)
    for bad in ("acct:other@sco.example", "acct:releases@evil.example", ""):
        assert not documents.webfinger_matches(urls, bad)


def test_nodeinfo_and_host_meta(cfg: config_mod.Config) -> None:
    urls = Urls.of(cfg)
    links = documents.nodeinfo_links(urls)["links"]
    assert [x["href"] for x in links] == [
        "https://sco.example/nodeinfo/2.0",
        "https://sco.example/nodeinfo/2.1",
    ]
    info = documents.nodeinfo(cfg, 42)
    assert info["version"] == "2.1" and info["protocols"] == ["activitypub"]
    assert info["software"]["name"] == "scofeed" and info["usage"]["localPosts"] == 42
    assert info["usage"]["users"]["total"] == 1 and info["openRegistrations"] is False
    # the software's homepage, the same on every server (it was the site's own address)
    assert info["software"]["homepage"] == info["software"]["repository"] == HOMEPAGE
    assert "homepage" not in documents.nodeinfo(cfg, 42, "2.0")["software"]  # 2.0's schema
    xrd = etree.fromstring(documents.host_meta(urls).encode())
    (lrdd,) = xrd
    assert lrdd.get("template") == "https://sco.example/.well-known/webfinger?resource={uri}"


def test_actor(cfg: config_mod.Config) -> None:
    doc = documents.actor(cfg, "PEM")
    assert doc["type"] == "Service" and doc["preferredUsername"] == "releases"
    assert doc["name"] == cfg.site.title
    assert doc["publicKey"] == {
        "id": "https://sco.example/@releases#main-key",
        "owner": "https://sco.example/@releases",
        "publicKeyPem": "PEM",
    }
    assert doc["endpoints"] == {"sharedInbox": "https://sco.example/inbox"}
    assert doc["following"].endswith("/following") and "icon" not in doc
    assert doc["manuallyApprovesFollowers"] is False and doc["discoverable"] is True


def test_note_from_entry(cfg: config_mod.Config) -> None:
    note = documents.note(cfg, ENTRY)
    assert note["id"] == "https://sco.example/entries/abc123"
    assert note["type"] == "Note" and note["to"] == [PUBLIC]
    assert note["cc"] == ["https://sco.example/@releases/followers"]
    assert note["published"] == "2026-05-05T10:00:00Z" and "updated" not in note
    assert "&lt;in&gt;" in note["content"] and "met &amp; talked" in note["content"]
    assert note["contentMap"] == {"ru": note["content"]}
    assert [t["name"] for t in note["tag"]] == ["#economy", "#ForeignMinisters"]
    assert 'href="https://sco.example/news/1"' in note["content"]
    assert "summary" not in note  # Mastodon would show a summary as a content warning
    corrected = dataclasses.replace(ENTRY, revision=2, updated=T0.replace(hour=12))
    assert documents.note(cfg, corrected)["updated"] == "2026-05-05T12:00:00Z"
    article = documents.note(
        dataclasses.replace(
            cfg, activitypub=dataclasses.replace(cfg.activitypub, object_type="Article")
        ),
        ENTRY,
    )
    assert article["type"] == "Article" and article["name"] == ENTRY.title  # fmt: skip
    assert "<strong>" not in article["content"]


# addresses a release may come with, each taken by the ingest as it is, that the WHATWG
# URL parser (Node's and the browsers': Fedify's vocabulary, tests/fedify.mjs) refuses:
# an escaped space in the host, a number past 255, a numeric last label, punycode that
# decodes to nothing, an IPv6 zone, an IPvFuture literal
UNPARSABLE = (
    "https://sectsco.org%20/news/1", "https://192.168.1.300/news/1", "https://news.2023/1",
    "https://xn--zz.example/1", "https://[::1%25eth0]/1", "https://[v1.x]/1",
)  # fmt: skip
PARSABLE = (
    "https://sectsco.org/news/1?id=5#top", "https://xn--d1acufc.example/1",
    "http://[::1]:8443/x", "https://127.0.0.1/x", "http://a_b.example/x",
)  # fmt: skip


def test_note_url_is_one_fediverse_servers_parse(cfg: config_mod.Config) -> None:
    """Fedify refuses a Note whose ``url`` its URL parser cannot read, whole, and with it
    the outbox page that holds it: such an address is left to the content's link, and
    ``url`` is the entry's own page."""
    for address in UNPARSABLE + PARSABLE:
        assert web_address(address) == address  # the ingest takes it as it is
        note = documents.note(cfg, dataclasses.replace(ENTRY, url=address, link=address))
        assert note["url"] == (note["id"] if address in UNPARSABLE else address), address
        assert f'href="{address}"' in note["content"], address


def test_activities(cfg: config_mod.Config) -> None:
    create = documents.create(cfg, ENTRY)
    assert create["id"] == "https://sco.example/entries/abc123#create"
    assert create["actor"] == Urls.of(cfg).actor and "@context" not in create["object"]
    upd = documents.update(cfg, dataclasses.replace(ENTRY, revision=3), T0)
    assert upd["id"].endswith(f"#update-3-{ENTRY.content_hash[:8]}") and upd["type"] == "Update"
    gone = documents.delete(cfg, create["object"]["id"], T0)
    assert gone["object"] == {
        "id": create["object"]["id"],
        "type": "Tombstone",
        "deleted": "2026-05-05T10:00:00Z",
    }
    follow = {"id": "https://r/f/1", "type": "Follow", "actor": "https://r/u", "object": "x",
              "extra": "dropped"}  # fmt: skip
    acc = documents.accept(Urls.of(cfg), follow, 1000.5)
    assert acc["object"] == {k: follow[k] for k in ("id", "type", "actor", "object")}
    assert acc["to"] == ["https://r/u"]
    # the same Follow accepted again later is a new Accept
    assert acc["id"] == documents.accept(Urls.of(cfg), follow, 1000.5)["id"]
    assert acc["id"] != documents.accept(Urls.of(cfg), follow, 1000.6)["id"]


def test_outbox_paging(cfg: config_mod.Config) -> None:
    urls = Urls.of(cfg)
    coll = documents.outbox(urls, total=45, page_size=20)
    assert coll["first"].endswith("?page=1") and coll["last"].endswith("?page=3")
    first = documents.outbox_page(cfg, 1, [ENTRY], 45, 20)
    assert "prev" not in first and first["next"].endswith("?page=2")
    last = documents.outbox_page(cfg, 3, [ENTRY], 45, 20)
    assert "next" not in last and last["prev"].endswith("?page=2")
    assert documents.outbox(urls, 0, 20)["last"].endswith("?page=1")


def test_key_file_made_once_with_0600(tmp_path) -> None:
    path = tmp_path / "state" / "ap.pem"
    pair = keys.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.load_or_create(path).public_pem == pair.public_pem
    assert "PRIVATE" not in repr(pair) and "BEGIN" not in repr(pair)
    assert not list(path.parent.glob(".*tmp"))
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        keys.load(path)
    path.chmod(0o600)
    path.write_text("junk")
    with pytest.raises(ConfigError, match="not an unencrypted PEM"):
        keys.load(path)


def test_config_section(site: Site) -> None:
    cfg = site.config()
    assert cfg.activitypub.enabled is False and cfg.activitypub.username == "releases"
    assert cfg.activitypub.key_path(cfg.paths.state).name == "activitypub-key.pem"
    site.config("activitypub.enabled=true")  # loopback http is fine for tests
    with pytest.raises(ConfigError, match="https"):
        site.config("activitypub.enabled=true", 'site.base_url="http://sco.example/"')
    site.config("activitypub.enabled=true", 'site.base_url="https://sco.example/"')
    with pytest.raises(ConfigError, match="activitypub.username"):
        site.config('activitypub.username="Bad Name"')
    with pytest.raises(ConfigError, match="activitypub.object_type"):
        site.config('activitypub.object_type="Page"')


@pytest.mark.parametrize(
    "override",
    ['activitypub.icon="https://192.168.1.300/icon.png"',
     'site.base_url="https://news.2023/"', 'site.base_url="https://sco%20x.example/"'],
)  # fmt: skip
def test_an_address_the_fediverse_cannot_parse_is_refused_in_the_config(site, override):
    """An icon, or the site's address (the actor's id), whose host the WHATWG URL parser
    refuses: a Fedify-based server refused the whole actor, and no one could follow."""
    with pytest.raises(ConfigError, match=override.split("=")[0] + "|activitypub.enabled"):
        site.config("activitypub.enabled=true", 'site.base_url="https://sco.example/"',
                    override)  # fmt: skip
    site.config("activitypub.enabled=true", 'site.base_url="https://sco.example/"',
                'activitypub.icon="https://sco.example/icon.png"')  # fmt: skip


def test_an_update_is_never_older_than_the_build_that_sends_it(cfg: config_mod.Config) -> None:
    """Mastodon applies an edit only when its ``updated`` is later than the last one:
    two corrections stating the same ``updated`` (or an older one) are sent with the
    time of the build that saw each, so the second is not dropped."""
    stated = dataclasses.replace(ENTRY, revision=2, updated=T0)
    first = documents.update(cfg, stated, T0 + timedelta(days=1))
    second = documents.update(cfg, dataclasses.replace(stated, revision=3), T0 + timedelta(days=2))
    assert first["object"]["updated"] == "2026-05-06T10:00:00Z" == first["published"]
    assert second["object"]["updated"] == "2026-05-07T10:00:00Z"
    # an entry updated after the build's clock (a source stating a later time) keeps it
    ahead = documents.update(cfg, stated, T0 - timedelta(hours=1))
    assert ahead["object"]["updated"] == "2026-05-05T10:00:00Z"
    # the Note served at its id says the entry's own time
    assert documents.note(cfg, stated)["updated"] == "2026-05-05T10:00:00Z"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("हिन्दी", "हिन्दी"),  # Hindi: the vowel signs are combining marks
        ("हिन्दी समाचार", "हिन्दीसमाचार"),
        ("ภาษาไทย", "ภาษาไทย"),  # Thai
        ("শিক্ষা", "শিক্ষা"),  # Bengali
        ("حقوق\u200cبشر", "حقوق\u200cبشر"),  # Persian: the ZWNJ is part of the word
        ("Қазақстан экономикасы", "ҚазақстанЭкономикасы"),
        ("経済", "経済"),
        # an apostrophe inside a word is dropped, not a break ("#WomenSRights")
        ("Women's rights", "WomensRights"),
        ("Xi Jinping’s visit", "XiJinpingsVisit"),
        ("rock 'n' roll", "RockNRoll"),
    ],
)
def test_hashtags_keep_the_marks_of_their_script(
    cfg: config_mod.Config, tag: str, expected: str
) -> None:
    """Mastodon's hashtags are ``[[:word:]]`` runs, marks included (and a ZWNJ or ``·``
    inside one); a tag split at each mark was a different word (``हनद``) in the post."""
    note = documents.note(cfg, dataclasses.replace(ENTRY, tags=(tag,)))
    assert [t["name"] for t in note["tag"]] == ["#" + expected]
    assert f"#<span>{expected}</span>" in note["content"]


def test_actor_opts_in_to_search_as_mastodon_reads_it(cfg: config_mod.Config) -> None:
    """Mastodon 4.2+ indexes an account's posts for full-text search only when its actor
    says ``indexable: true`` (``toot:indexable``; absent reads as false), so a followed
    release could not be found by its words. The flag must also expand to Mastodon's
    IRI, not be dropped by a JSON-LD reader."""
    doc = documents.actor(cfg, "PEM")
    assert doc["indexable"] is True and doc["discoverable"] is True
    (expanded,) = fedi.jsonld.expand(doc)
    for term in ("indexable", "discoverable"):
        assert expanded["http://joinmastodon.org/ns#" + term] == [{"@value": True}]


def test_the_acct_domain_is_the_host_mastodon_asks_for(site: Site) -> None:
    """Mastodon takes an actor's WebFinger domain from its id's host, normalised (lower
    case, no port: FetchRemoteActorService, ``normalized_host``), and asks for
    ``acct:releases@sco.example``. A base_url written ``https://SCO.example:443/``
    answered that with 404 (its acct said ``SCO.example:443``): Mastodon could not
    resolve the actor at all. A port that is not the scheme's default stays."""
    cfg = site.config("activitypub.enabled=true", 'site.base_url="https://SCO.example:443/"')
    urls = Urls.of(cfg)
    assert urls.acct == "acct:releases@sco.example"
    assert documents.webfinger_matches(urls, "acct:releases@sco.example")
    assert documents.webfinger(urls)["subject"] == "acct:releases@sco.example"
    loopback = Urls.of(site.config("activitypub.enabled=true"))  # http://127.0.0.1:8080/
    assert loopback.acct == "acct:releases@127.0.0.1:8080"


def test_a_tag_without_a_letter_is_no_hashtag(cfg: config_mod.Config) -> None:
    """Mastodon's hashtag names need a letter (Tag::HASHTAG_NAME_PAT ends in
    ``[[:alpha:]]``): ``#2025`` is no tag there, so the post carried a hashtag link and
    a Hashtag object Mastodon dropped. Such a tag is left out; ``SCO 2025`` stays, and
    so does ``1_000`` (a separator inside the name passes there too)."""
    note = documents.note(cfg, dataclasses.replace(ENTRY, tags=("2025", "SCO 2025", "1_000")))
    assert [t["name"] for t in note["tag"]] == ["#SCO2025", "#1_000"]
    assert "#<span>2025</span>" not in note["content"]
    assert "#<span>SCO2025</span>" in note["content"]
