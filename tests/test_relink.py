"""Re-linking: a change of site.base_url or site.author reaches the entries already
stored (``scofeed.relink``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import feedparser
from lxml import etree

from conftest import BASE_CONFIG, webhook_toml
from scofeed.build import build
from scofeed.store import published as published_rows

NOW = datetime(2026, 1, 1, tzinfo=UTC)
HOOK = webhook_toml("hook", "http://127.0.0.1:9/")  # nothing is sent in a build
FORUM = (
    "---\ntitle: SCO holds a forum\ndate: 2021-06-03\n---\n"
    "The forum opened in Astana. [The programme](programme.pdf) is online.\n"
)
ENVOY = "SCO meets envoy\n\nOn 4 June 2021, the envoy came to the Secretariat.\n"


def _stored(site) -> dict[str, tuple[str, str, int, datetime]]:
    store = site.store()
    try:
        return {
            e.origin: (e.link, e.author, e.revision, e.updated)
            for e in published_rows.latest(store.db)
        }
    finally:
        store.close()


def _queued(site) -> int:
    store = site.store()
    try:
        return store.db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    finally:
        store.close()


def _site(base: str, author: str) -> str:
    return BASE_CONFIG.replace(
        'base_url = "http://127.0.0.1:8080/"', f'base_url = "{base}"\nauthor = "{author}"'
    )


def test_a_new_base_url_and_author_reach_every_stored_entry_and_send_nothing(site):
    """Entries without an address of their own link to their page here, and the link
    was written when the release was read: a site moved to its public address kept
    every release it had read linking to the old one (and their relative links with
    them), and a new site.author reached only new releases."""
    (site.sources / "forum.md").write_text(FORUM, encoding="utf-8")
    (site.sources / "envoy.txt").write_text(ENVOY, encoding="utf-8")
    local = _site("http://127.0.0.1:8080/", "SCO Secretariat")
    site.config_path.write_text(local + HOOK, encoding="utf-8")
    build(site.config(), site.store(), NOW)
    before = _stored(site)
    assert len(before) == 3  # these two and the seed
    assert all(link.startswith("http://127.0.0.1:8080/entries/") for link, *_ in before.values())
    queued = _queued(site)

    public = _site("https://feeds.example.org/sco", "SCO Press Office")
    site.config_path.write_text(public + HOOK, encoding="utf-8")
    report = build(site.config(), site.store(), NOW + timedelta(days=1))
    assert (report.new, report.updated, report.deliveries) == (0, 0, 0)
    after = _stored(site)
    for origin, (link, author, revision, updated) in after.items():
        slug = before[origin][0].rsplit("/", 1)[1]
        assert link == f"https://feeds.example.org/sco/entries/{slug}"
        assert (author, revision, updated) == ("SCO Press Office", *before[origin][2:])
    assert _queued(site) == queued

    # every feed says so: Atom, RSS and JSON Feed, the relative link in the content too
    atom = feedparser.parse((site.feeds / "atom.xml").read_bytes())
    assert sorted(e.link for e in atom.entries) == sorted(link for link, *_ in after.values())
    forum = next(e for e in atom.entries if e.title == "SCO holds a forum")
    pdf = forum.link.rsplit("/", 1)[0] + "/programme.pdf"
    assert f'href="{pdf}"' in forum.content[0].value
    rss = etree.parse(str(site.feeds / "rss.xml"))
    assert sorted(rss.xpath("//item/link/text()")) == sorted(link for link, *_ in after.values())
    doc = json.loads((site.feeds / "feed.json").read_bytes())
    assert sorted(i["url"] for i in doc["items"]) == sorted(link for link, *_ in after.values())
    assert {a["name"] for i in doc["items"] for a in i["authors"]} == {"SCO Press Office"}
    # the feed's home is the folder, with its slash, written with or without one
    assert doc["home_page_url"] == "https://feeds.example.org/sco/"
    assert rss.xpath("/rss/channel/link/text()") == ["https://feeds.example.org/sco/"]

    # the same site again: nothing to do, and the feeds are the same bytes
    atom_bytes = (site.feeds / "atom.xml").read_bytes()
    build(site.config(), site.store(), NOW + timedelta(days=2))
    assert _stored(site) == after and (site.feeds / "atom.xml").read_bytes() == atom_bytes
