"""Provenance and authority: an official page against a third-party copy of it.

A real SCO-shaped site on 127.0.0.1 (pytest-httpserver, host ``localhost``, listed in
``site.official_hosts``) and a third-party RSS feed served from ``127.0.0.1`` (another
host, so the feed is "other" by default); a real webhook receiver takes the deliveries.
"""

from __future__ import annotations

import random
import re
import sqlite3
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from standardwebhooks import Webhook

import forkserver
from conftest import SECRET, webhook_toml
from scofeed import config as config_mod
from scofeed.deliver import runner
from scofeed.errors import ConfigError
from scofeed.ingest import ingest
from scofeed.model import Release
from scofeed.normalise import canonical_url, url_key
from scofeed.poll import poll_due
from scofeed.render.links import shown_url
from scofeed.store import Store
from scofeed.store import deliveries as delivery_rows
from scofeed.store import entries as entry_rows
from scofeed.store import origins as origin_rows
from scofeed.store import published as published_rows
from scofeed.store.schema import MIGRATIONS

SCO = Path(__file__).resolve().parent / "data" / "sco"
ARTICLE = "/20220125/813122.html"
TITLE = "SCO Secretary-General meets with Ambassador of Pakistan"
# the SCO's English site, polled, and a news agency's feed (other by default)
SCO_SOURCE = (
    '\n[[sources]]\nname = "sco"\nkind = "page-list"\nurl = "https://eng.sectsco.org/"\n'
    'preset = "sco"\n'
)
AGENCY_SOURCE = (
    '\n[[sources]]\nname = "agency"\nkind = "feed"\nurl = "https://agency.example/rss"\n'
)
LISTING = f'<html><body><ul><li><a href="{ARTICLE}">{TITLE}</a></li></ul></body></html>'


def mirror_rss(port: int, query: str, path: str = ARTICLE) -> str:
    """A news agency's feed: the official page's address (or ``path``, another address
    of the article) with a tracking parameter, another date and a one-line summary."""
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Agency</title>'
        f"<link>http://127.0.0.1:{port}/</link><description>d</description>"
        f"<item><title>{TITLE}</title>"
        f"<link>http://localhost:{port}{path}{query}</link>"
        "<pubDate>Thu, 27 Jan 2022 10:00:00 +0000</pubDate>"
        "<description>SCO chief met Pakistan envoy.</description>"
        "</item></channel></rss>"
    )


def setup_site(site, web, hook_url: str, query: str = "?utm_source=x", path: str = ARTICLE) -> None:
    (site.sources / "000_8062ea63522097a7.txt").unlink()  # only the remote inputs here
    web.expect_request("/news/").respond_with_data(LISTING, content_type="text/html")
    web.expect_request(ARTICLE).respond_with_data(
        (SCO / "article_en.html").read_bytes(), content_type="text/html"
    )
    web.expect_request("/agency.rss").respond_with_data(
        mirror_rss(web.port, query, path), content_type="application/rss+xml"
    )
    text = site.config_path.read_text(encoding="utf-8")
    text = text.replace("[site]\n", '[site]\nofficial_hosts = ["localhost", "sectsco.org"]\n')
    text += (
        f'\n[[sources]]\nname = "sco"\nkind = "page-list"\nurl = "{web.url_for("/news/")}"\n'
        'preset = "sco"\ndelay = 0\ntimeout = 2\n'
        f'\n[[sources]]\nname = "agency"\nkind = "feed"\n'
        f'url = "http://127.0.0.1:{web.port}/agency.rss"\ndelay = 0\ntimeout = 2\n'
    )
    site.config_path.write_text(text + webhook_toml("hub", hook_url), encoding="utf-8")


def deliver(cfg, store, at: datetime) -> runner.DeliverReport:
    """Send what is due at ``at`` (the time of the poll before it, or later)."""
    return runner.run_due(cfg, store, now=at + timedelta(seconds=1), rng=random.Random(7))


def show(site, entry_id: str) -> str:
    proc = forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "show", entry_id],
        capture_output=True, text=True, cwd=site.root, timeout=60, check=True,
    )  # fmt: skip
    return proc.stdout


def test_a_third_party_copy_never_revises_the_official_page(site, web, receivers):
    hook = receivers([200])
    setup_site(site, web, hook.url)
    cfg, store = site.config(), site.store()
    now = datetime.now(UTC)
    first = poll_due(cfg, store, now, only="sco")
    assert [(r.name, r.new) for r in first.results] == [("sco", 1)]
    assert deliver(cfg, store, now).delivered == 1
    feeds = {name: (site.feeds / name).read_bytes() for name in ("atom.xml", "rss.xml")}

    second = poll_due(cfg, store, now + timedelta(minutes=5), only="agency")
    (result,) = second.results
    assert (result.new, result.updated, result.duplicates, result.error) == (0, 0, 1, None)
    assert second.written == []  # nothing re-published: no WebSub ping, no feed change
    assert {n: (site.feeds / n).read_bytes() for n in feeds} == feeds
    assert deliver(cfg, store, now + timedelta(minutes=5)).attempted == 0
    (entry,) = published_rows.latest(store.db)
    assert entry.title == TITLE and entry.revision == 1
    assert "Moin ul Haque" in entry.content_html and "envoy" not in entry.content_html
    assert entry.tags == ("economy",)
    assert entry.url == f"http://localhost:{web.port}{ARTICLE}"
    assert entry.published.date().isoformat() == "2022-01-25"
    parsed = feedparser.parse(feeds["atom.xml"])
    assert [e.title for e in parsed.entries] == [TITLE]

    # exactly one delivery, the official one, as the receiver saw it
    (got,) = hook.received
    doc = Webhook(SECRET).verify(got.body, got.headers)
    assert doc["type"] == "release.published" and "Moin ul Haque" in doc["data"]["content_html"]
    assert len(delivery_rows.listing(store.db)) == 1

    inputs = origin_rows.inputs_of(store.db, entry.id)
    assert [(i.kind, i.mirror) for i in inputs] == [("official", False), ("other", True)]
    assert inputs[1].origin.endswith("?utm_source=x") and inputs[1].seen is not None
    out = show(site, entry.id)
    lines = out.split("inputs:\n", 1)[1].split("content:", 1)[0].splitlines()
    assert lines[0].split()[:2] == ["official", "current"]
    assert lines[1].split()[:2] == ["other", "mirror"]
    assert lines[1].endswith(f"{ARTICLE}?utm_source=x")

    # the copy polled again, changed or not: still a mirror, still nothing delivered
    third = poll_due(cfg, store, now + timedelta(hours=2), force=True, only="agency")
    assert third.results[0].updated == 0 and third.written == []
    assert deliver(cfg, store, now + timedelta(hours=2)).attempted == 0
    assert len(hook.received) == 1


@pytest.mark.parametrize("query", ["?utm_source=x", ""])
def test_the_official_page_takes_over_an_entry_a_copy_made(site, web, receivers, query):
    hook = receivers([200])
    setup_site(site, web, hook.url, query)
    cfg, store = site.config(), site.store()
    now = datetime.now(UTC)
    poll_due(cfg, store, now, only="agency")
    (copy,) = published_rows.latest(store.db)
    assert copy.summary == "SCO chief met Pakistan envoy." and copy.tags == ()
    assert deliver(cfg, store, now).delivered == 1

    poll_due(cfg, store, now + timedelta(minutes=5), only="sco")
    (entry,) = published_rows.latest(store.db)
    assert entry.id == copy.id and entry.revision == 2  # a correction of the same entry
    assert "Moin ul Haque" in entry.content_html and entry.tags == ("economy",)
    assert entry.url == f"http://localhost:{web.port}{ARTICLE}"
    assert entry.published.date().isoformat() == "2022-01-25"
    assert deliver(cfg, store, now + timedelta(minutes=5)).delivered == 1
    events = [Webhook(SECRET).verify(r.body, r.headers)["type"] for r in hook.received]
    assert events == ["release.published", "release.updated"]

    # from now on the copy is the mirror: its next poll changes nothing
    again = poll_due(cfg, store, now + timedelta(hours=2), force=True, only="agency")
    assert again.results[0].updated == 0 and again.written == []
    assert entry_rows.get(store.db, entry.id).revision == 2
    assert deliver(cfg, store, now + timedelta(hours=2)).attempted == 0
    kinds = {i.kind: i.mirror for i in origin_rows.inputs_of(store.db, entry.id)}
    if query:
        assert kinds == {"official": False, "other": True}
    else:  # one address, one input row: the copy polled last, as a mirror
        assert kinds == {"other": True}


# the official page's article at another address: with the slug its headline gives it
# (an agency linking the page a headline correction moved), or under news/
ELSEWHERE = [
    "/20220125/-SCO-Secretary-General-meets-with-Ambassador-of-Pakistan-813122.html",
    "/news/20220125/813122.html",
]


@pytest.mark.parametrize("official_first", [True, False])
@pytest.mark.parametrize("path", ELSEWHERE)
def test_a_copy_linking_another_address_of_the_article_is_the_same_entry(
    site, web, receivers, path, official_first
):
    """An SCO article is named by the day and number its address ends with: an agency
    item linking it with or without its slug, or under news/, was a second entry."""
    hook = receivers([200])
    setup_site(site, web, hook.url, "", path)
    cfg, store = site.config(), site.store()
    now = datetime.now(UTC)
    order = ["sco", "agency"] if official_first else ["agency", "sco"]
    for minutes, name in enumerate(order):
        poll_due(cfg, store, now + timedelta(minutes=minutes), only=name)
    (entry,) = published_rows.latest(store.db)
    assert "Moin ul Haque" in entry.content_html and entry.revision == 1 + (not official_first)
    assert entry.url == f"http://localhost:{web.port}{ARTICLE}"
    kinds = {i.origin.split(str(web.port), 1)[1]: (i.kind, i.mirror) for i in
             origin_rows.inputs_of(store.db, entry.id)}  # fmt: skip
    # (a copy that made the entry is marked a mirror when it next comes)
    assert kinds == {ARTICLE: ("official", False), path: ("other", official_first)}
    assert deliver(cfg, store, now + timedelta(minutes=5)).delivered == len(order) - official_first
    events = [Webhook(SECRET).verify(r.body, r.headers)["type"] for r in hook.received]
    assert events == ["release.published"] + ["release.updated"] * (not official_first)


def test_an_article_is_one_only_by_its_own_day_and_number_on_an_official_host(site):
    site.write_config(SCO_SOURCE + AGENCY_SOURCE)
    cfg, store = site.config(), site.store()
    now = datetime.now(UTC)
    official = "https://eng.sectsco.org/20250303/-SCO-ministers-meet-10001.html"
    others = [
        "https://eng.sectsco.org/20250303/10002.html",  # another number
        "https://eng.sectsco.org/20250304/10001.html",  # another day
        "https://rus.sectsco.org/20250303/10001.html",  # another site: the Russian one
        "https://agency.example/20250303/10001.html",  # not an official host
        "https://agency.example/20250303/-SCO-ministers-meet-10001.html",
    ]
    made = [c.entry.id for c in ingest(cfg, store, [release(official, "sco", "A.", official)], now)]
    for n, url in enumerate(others):
        made += [c.entry.id for c in ingest(cfg, store, [release(url, "agency", f"{n}", url)], now)]
    assert len(set(made)) == len(made) == 6
    same = "https://eng.sectsco.org./news/20250303/10001.html?utm_source=x"
    (copy,) = ingest(cfg, store, [release(same, "agency", "Copy.", same)], now)
    assert (copy.kind, copy.entry.id) == ("mirror", made[0])


def release(origin: str, source: str, body: str, url: str | None = None) -> Release:
    text = f"SCO ministers meet in Astana\n\nOn 3 March 2025 the ministers met. {body}"
    return Release(origin=origin, text=text, url=url, source=source)


def test_a_local_file_outranks_an_official_page_and_same_rank_edits_stay_corrections(site):
    site.write_config(SCO_SOURCE)
    cfg, store = site.config(), site.store()
    now = datetime.now(UTC)
    page = "https://eng.sectsco.org/20250303/1.html"
    (made,) = ingest(cfg, store, [release("a.txt", "local", "Operator text.", page)], now)
    (page_change,) = ingest(cfg, store, [release(page, "sco", "Page text.", page)], now)
    assert page_change.kind == "mirror"
    (edit,) = ingest(cfg, store, [release("a.txt", "local", "Operator edit.", page)], now)
    assert edit.kind == "updated" and edit.entry.revision == 2
    stored = entry_rows.get(store.db, made.entry.id)
    assert "Operator edit." in stored.content_html


def test_an_entry_stored_before_authorities_takes_edits_from_its_own_input(site):
    """An aggregator's item linking to the SCO site, stored before authorities were
    kept: its URL looks official, its source is not; its own edits still revise it."""
    site.write_config(
        '\n[[sources]]\nname = "agg"\nkind = "feed"\nurl = "https://news.example/rss"\n'
    )
    cfg, store = site.config(), site.store()
    now = datetime.now(UTC)
    page = "https://eng.sectsco.org/20250303/1.html"
    (made,) = ingest(cfg, store, [release(page, "agg", "First text.", page)], now)
    store.db.execute("UPDATE entries SET authority = NULL")  # as an older store holds it
    store.db.commit()
    (edit,) = ingest(cfg, store, [release(page, "agg", "Edited text.", page)], now)
    assert edit.kind == "updated" and edit.entry.revision == 2
    assert "Edited text." in entry_rows.get(store.db, made.entry.id).content_html


@pytest.mark.parametrize(
    ("source", "block", "kind"),
    [
        ("local", "", "local"),
        ("p", 'kind = "page-list"\nurl = "https://example.org/"\npreset = "sco"', "official"),
        ("f", 'kind = "feed"\nurl = "https://rus.sectsco.org./rss"', "official"),
        ("f", 'kind = "feed"\nurl = "https://news.example/rss"', "other"),
        ("f", 'kind = "feed"\nurl = "https://a.example/"\nauthority = "official"', "official"),
        (
            "p",
            'kind = "page-list"\nurl = "https://x.example/"\npreset = "sco"\nauthority = "mirror"',
            "other",
        ),
        ("gone", "", "other"),
    ],
)
def test_the_authority_of_each_source(tmp_path, source, block, kind):
    path = tmp_path / "c.toml"
    text = f'[[sources]]\nname = "{source}"\n{block}\n' if block else ""
    path.write_text(text, encoding="utf-8")
    assert config_mod.load(path).authority_of(source) == kind


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            '[[sources]]\nname = "x"\nkind = "feed"\nurl = "https://a.example/"\nauthority = "top"',
            "sources[0].authority: expected one of 'official', 'mirror'",
        ),
        (
            '[[sources]]\nname = "local"\nkind = "feed"\nurl = "https://a.example/"',
            "sources[0].name: 'local' names sources/",
        ),
        ('[site]\nofficial_hosts = ["Bad Host"]', "site.official_hosts: expected a list"),
    ],
)
def test_authority_config_errors_name_the_key(tmp_path, block, message):
    path = tmp_path / "c.toml"
    path.write_text(block + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        config_mod.load(path)


@pytest.mark.parametrize(
    "spelling",
    [
        "https://eng.sectsco.org/20250303/1.html",
        "http://eng.sectsco.org/20250303/1.html",
        "https://www.eng.sectsco.org/20250303/1.html",
        "https://eng.sectsco.org./20250303/1.html?utm_source=x&utm_medium=rss",
        "https://ENG.sectsco.org/20250303/1.html?fbclid=a&gclid=b&yclid=c&mc_cid=d&mc_eid=e",
    ],
)
def test_url_identity_ignores_tracking_www_dot_and_scheme(spelling):
    assert url_key(spelling) == "https://eng.sectsco.org/20250303/1.html"


@pytest.mark.parametrize(
    "param", ["ysclid=lq2x9", "gbraid=0AAA", "wbraid=CjkK", "_openstat=dGVzdA", "utm_1a=x"]
)
def test_a_tracker_an_entry_is_shown_without_is_no_part_of_its_url_key(param):
    """Every tracker ``shown_url`` takes out, the URL key leaves out too: two addresses
    shown as one are one release (``ysclid`` made a second entry with the same link)."""
    page = "https://eng.sectsco.org/20250303/1.html"
    assert shown_url(f"{page}?{param}") == page
    assert url_key(f"{page}?{param}") == url_key(page) == page
    assert url_key(f"{page}?id=5&{param}") == f"{page}?id=5"
    # ids and content hashes are made from the canonical URL as they always were
    assert canonical_url(f"{page}?{param}") == f"{page}?{param}"


@pytest.mark.parametrize("keyed_before", [False, True])
def test_a_copy_without_ysclid_revises_the_entry_of_the_address_with_it(site, keyed_before):
    """Read with ``?ysclid=`` and then without, a release was two entries with one link;
    ``keyed_before``: the store keyed by an earlier scofeed (the tracker in its URL key)
    and not re-keyed yet, which the next ingest does, once."""
    cfg, store = site.config(), site.store()
    page = "https://eng.sectsco.org/20260421/1001200.html"
    now = datetime.now(UTC)
    (made,) = ingest(
        cfg, store, [release("a.md", "local", "First text.", page + "?ysclid=ab")], now
    )
    if keyed_before:
        with store.transaction() as db:
            db.execute("UPDATE entries SET url_key = ?", (page + "?ysclid=ab",))
            db.execute("DELETE FROM meta WHERE key = 'url_keys'")
    (again,) = ingest(cfg, store, [release("b.md", "local", "Second text.", page)], now)
    assert again.entry.id == made.entry.id and again.kind == "updated"
    assert published_rows.count(store.db) == 1
    (key,) = store.db.execute("SELECT url_key FROM entries").fetchone()
    assert key == page


def test_www_stays_on_a_host_with_no_dot_after_it():
    assert url_key("https://www.com/x") == "https://www.com/x"
    assert url_key("https://www.localhost:8080/x") == "https://www.localhost:8080/x"


def _old_store(path: Path) -> None:
    """A store as scofeed made it before issue 14 (six migrations): one entry whose
    URL key has ``www.``."""
    db = sqlite3.connect(path)
    for sql in MIGRATIONS[:6]:
        db.executescript(sql)
    db.execute("PRAGMA user_version = 6")
    old_key = canonical_url("https://www.example.org/sco/1.html")
    db.execute(
        "INSERT INTO entries VALUES ('tag:test.example,2026:release/old', ?, ?, 'fp', "
        "'SCO ministers meet in Astana', 's', '<p>x</p>', '2025-03-03T00:00:00+08:00', 0, "
        "'2025-03-03T00:00:00+08:00', 0, 'a', 'en', ?, ?, '[]', 'h', 1, ?, 'text', 0)",
        (f"url:{old_key}", old_key, old_key, old_key, old_key),
    )
    db.execute(
        "INSERT INTO entry_origins VALUES (?, 'tag:test.example,2026:release/old', 'h')",
        (old_key,),
    )
    db.commit()
    db.close()


def test_an_old_store_is_re_keyed_and_keeps_its_ids(site):
    cfg = site.config()
    _old_store(cfg.paths.state.parent.mkdir(parents=True) or cfg.paths.state)
    store = Store(cfg.paths.state)
    (row,) = store.db.execute("SELECT id, identity, url_key, authority FROM entries")
    assert row["url_key"] == "https://example.org/sco/1.html"
    assert row["identity"] == "url:https://www.example.org/sco/1.html"  # as minted
    assert row["authority"] is None
    # the same release again, without www. and from sources/: the same entry, revised
    rel = release("b.txt", "local", "New text.", "http://example.org/sco/1.html?utm_source=x")
    (change,) = ingest(cfg, store, [rel], datetime.now(UTC))
    assert change.entry.id == "tag:test.example,2026:release/old"
    assert change.kind == "updated" and change.entry.revision == 2
    assert published_rows.count(store.db) == 1


def test_an_official_page_with_the_same_text_still_takes_the_entry_over(site):
    site.write_config(SCO_SOURCE + AGENCY_SOURCE)
    cfg, store = site.config(), site.store()
    now = datetime.now(UTC)
    page = "https://eng.sectsco.org/20250303/1.html"
    copy = f"{page}?utm_source=agency"
    (made,) = ingest(cfg, store, [release(copy, "agency", "Same text.", copy)], now)
    (same,) = ingest(cfg, store, [release(page, "sco", "Same text.", page)], now)
    assert same.kind == "unchanged"
    # the entry is the official page's now: the copy's next edit is only a mirror
    (later,) = ingest(cfg, store, [release(copy, "agency", "Agency rewrite.", copy)], now)
    assert later.kind == "mirror"
    stored = entry_rows.get(store.db, made.entry.id)
    assert stored.revision == 1 and "Same text." in stored.content_html
    assert stored.origin == page
