"""The whole feed layout (issue 10) against a real store, real files and a real server:
per-language and per-tag feeds, RFC 5005 archive pages walked with feedparser, OPML,
and re-rendering only what changed."""

from __future__ import annotations

import fcntl
import http.client
import json
import shutil
import threading
import tomllib
import types
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import feedparser
import listparser
import pytest
import requests
from lxml import etree

from scofeed import publish
from scofeed.build import build as run_build
from scofeed.config import show, tag_slug
from scofeed.errors import ConfigError
from scofeed.publish import contained, publish_feeds, published_sets
from scofeed.render import opml
from scofeed.render.catalog import FeedSet, feed_sets
from scofeed.serve import App, HttpServer
from scofeed.store import Store
from scofeed.store import published as published_rows
from tests.conftest import free_port
from tests.test_withdraw import feed_dates

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
N = 360
FH = "{http://purl.org/syndication/history/1.0}archive"
TEXT = {
    "en": "On that day the Secretariat held a meeting on {topic}.\n\nDelegates took part.",
    "ru": "В этот день в Секретариате прошла встреча, тема: {topic}.\n\nУчаствовали делегаты.",
    "zh": "当天，秘书处举行了关于{topic}的会议。\n\n各代表团出席了会议。",
}
TAGS = [["security"], ["Энергетика"], [], ["security", "culture"], []]


def release(i: int) -> dict:
    lang = ("en", "ru", "zh")[i % 3]
    day = date(2023, 1, 1) + timedelta(days=(i * 7) % 700)
    return {
        "id": f"r{i}",
        "title": f"Release {i} ({lang})",
        "date": day.isoformat(),
        "lang": lang,
        "tags": TAGS[i % len(TAGS)],
        "text": TEXT[lang].format(topic=f"topic {i}"),
    }


def write(site, i: int, **changes) -> None:
    (site.sources / f"r{i:04d}.json").write_text(
        json.dumps(release(i) | changes, ensure_ascii=False), encoding="utf-8"
    )


@pytest.fixture
def big(site):
    """N releases in three languages over two years; metadata tags get feeds; the site
    is served (a real server) at its base URL."""
    (site.sources / "000_8062ea63522097a7.txt").unlink()
    for i in range(N):
        write(site, i)
    port = free_port()
    site.write_config(
        "\n[feeds]\nentries = 20\nmetadata_tags = true\n"
        '[feeds.languages.ru]\ntitle = "Пресс-релизы ШОС"\n'
    )
    overrides = [f"site.base_url='http://127.0.0.1:{port}/'"]
    cfg = site.config(*overrides)
    store = Store(cfg.paths.state)
    report = run_build(cfg, store, NOW)
    assert report.new == N and not report.rejected
    server = HttpServer(App(lambda: cfg, store), "127.0.0.1", port)
    server.start()
    site.overrides = overrides
    yield site, cfg, store, report
    server.stop()
    store.close()


def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    with requests.Session() as s:
        s.trust_env = False
        resp = s.get(url, timeout=10)
    assert resp.status_code == 200, url
    return resp.content, {k.lower(): v for k, v in resp.headers.items()}


def raw_status(cfg, path: str) -> int:
    parts = urlsplit(cfg.site.base_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def sets_of_store(cfg, store) -> list[FeedSet]:
    entries = published_rows.latest(store.db)
    return feed_sets(cfg, {e.language for e in entries}, {t for e in entries for t in e.tags})


def test_every_feed_exists_parses_and_says_its_language(big):
    site, cfg, store, _ = big
    entries = published_rows.latest(store.db)
    sets = sets_of_store(cfg, store)
    assert [fs.key for fs in sets] == [
        "main", "lang:en", "lang:ru", "lang:zh",
        "tag:culture", "tag:economy", "tag:security", "tag:энергетика",
    ]  # fmt: skip
    assert sets == published_sets(cfg, store)
    for fs in sets:
        want = [e.id for e in entries if fs.holds(cfg, e.language, {tag_slug(t) for t in e.tags})]
        for fmt in cfg.feeds.formats:
            data = (site.feeds / fs.path(fmt)).read_bytes()
            if fmt == "json":
                ids = [item["id"] for item in json.loads(data)["items"]]
            else:
                parsed = feedparser.parse(data)
                assert not parsed.bozo, (fs.path(fmt), parsed.get("bozo_exception"))
                ids = [e.id for e in parsed.entries]
            assert ids == want[:20], fs.path(fmt)
            lang = fs.language or "en"
            if fmt == "json":
                assert json.loads(data)["language"] == lang
            elif fmt == "atom":
                assert (
                    etree.fromstring(data).get("{http://www.w3.org/XML/1998/namespace}lang") == lang
                )
            else:
                assert etree.fromstring(data).findtext("channel/language") == lang
    ru = feedparser.parse((site.feeds / "ru/atom.xml").read_bytes())
    assert ru.feed.title == "Пресс-релизы ШОС"
    zh = feedparser.parse((site.feeds / "zh/rss.xml").read_bytes())
    assert zh.feed.title == "上海合作组织秘书处新闻稿"
    assert (site.feeds / "tags/энергетика/atom.xml").is_file()


def test_every_format_tells_a_reader_each_entrys_language(big):
    """The main and tag feeds mix languages. Atom marks an entry of another language
    than the feed's (xml:lang) and JSON Feed an item (language), but RSS said only the
    channel's: a reader took a Russian or Chinese item of the main RSS feed for English.
    Such an item carries dc:language, which feedparser reads as the entry's language."""
    site, cfg, store, _ = big
    language = {e.id: e.language for e in published_rows.latest(store.db)}
    for prefix in ("", "tags/security/", "ru/"):
        atom = feedparser.parse((site.feeds / f"{prefix}atom.xml").read_bytes())
        rss = feedparser.parse((site.feeds / f"{prefix}rss.xml").read_bytes())
        feed = json.loads((site.feeds / f"{prefix}feed.json").read_bytes())
        seen = {
            "atom": {e.id: e.title_detail.language for e in atom.entries},
            "rss": {e.id: e.get("language") or rss.feed.language for e in rss.entries},
            "json": {i["id"]: i.get("language", feed["language"]) for i in feed["items"]},
        }
        for fmt, shown in seen.items():
            assert shown == {k: language[k] for k in shown}, (prefix, fmt)
        assert len(set(seen["rss"].values())) == (1 if prefix == "ru/" else 3), prefix
    channel_only = etree.fromstring((site.feeds / "ru/rss.xml").read_bytes())
    assert channel_only.find(".//{http://purl.org/dc/elements/1.1/}language") is None


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_an_rfc5005_walk_over_http_reaches_every_entry_exactly_once(big, fmt):
    site, cfg, store, _ = big
    subscription, _ = fetch(cfg.feed_url(fmt))
    parsed = feedparser.parse(subscription)
    assert not parsed.bozo
    current_ids = [e.id for e in parsed.entries]
    seen: list[str] = []
    pages = []
    url = next(link.href for link in parsed.feed.links if link.rel == "prev-archive")
    while url:
        body, headers = fetch(url)
        page = feedparser.parse(body)
        assert not page.bozo, url
        root = etree.fromstring(body)
        channel = root if fmt == "atom" else root.find("channel")
        assert channel.find(FH) is not None, url  # <fh:archive/>
        rels = {link.rel: link.href for link in page.feed.links}
        assert rels["current"] == cfg.feed_url(fmt)
        assert rels["self"] == url
        if pages:
            assert rels["next-archive"] == pages[-1]
        else:
            assert "next-archive" not in rels  # the newest page
            assert headers["cache-control"] == f"public, max-age={cfg.schedule.scan_interval}"
        if len(pages) == 1:
            assert headers["cache-control"] == "public, max-age=86400"  # a closed month
        assert "link" not in headers  # archive pages are no WebSub topics
        seen += [e.id for e in page.entries]
        pages.append(url)
        url = rels.get("prev-archive")
    store_ids = {e.id for e in published_rows.latest(store.db)}
    assert len(seen) == len(set(seen)) == len(store_ids) == N
    assert set(seen) == store_ids
    assert set(current_ids) <= store_ids and len(current_ids) == 20
    assert len(pages) == len(
        {e.published.strftime("%Y-%m") for e in published_rows.latest(store.db)}
    )


def test_a_json_feed_reader_paging_with_next_url_reaches_every_entry_exactly_once(big):
    """JSON Feed pages its history with ``next_url`` (the next older page): from the
    subscription feed to the newest month's archive page, then month by month to the
    oldest, which has none. The archive pages hold each entry once, name no hub, and
    never repeat a page (JSON Feed: next_url must not loop)."""
    site, cfg, store, _ = big
    subscription = json.loads((site.feeds / "feed.json").read_bytes())
    assert subscription["hubs"]  # the WebSub hub of the subscription feed (its own, here)
    months = sorted({e.published.strftime("%Y-%m") for e in published_rows.latest(store.db)})
    assert subscription["next_url"] == cfg.site.base_url + f"archive/{months[-1]}/feed.json"
    seen: list[str] = []
    pages: list[str] = []
    url = subscription["next_url"]
    while url:
        assert url not in pages and url != cfg.feed_url("json")
        body, headers = fetch(url)
        assert headers["content-type"].startswith("application/feed+json")
        page = json.loads(body)
        assert page["feed_url"] == url and "hubs" not in page
        assert page["title"].endswith(f"({months[-1 - len(pages)]})")
        assert page["version"] == "https://jsonfeed.org/version/1.1" and page["items"]
        seen += [item["id"] for item in page["items"]]
        pages.append(url)
        url = page.get("next_url")
    store_ids = {e.id for e in published_rows.latest(store.db)}
    assert len(seen) == len(set(seen)) == len(store_ids) == N and set(seen) == store_ids
    assert len(pages) == len(months)


def test_opml_lists_every_set_once_and_its_other_formats_aside(big):
    site, cfg, store, _ = big
    body, headers = fetch(cfg.site.base_url + "feeds.opml")
    assert headers["content-type"].startswith("text/x-opml")
    root = etree.fromstring(body)
    assert root.get("version") == "2.0"
    sets = sets_of_store(cfg, store)
    # one subscription per set, to its Atom feed: a reader importing the file subscribes
    # to each feed once, not once per format
    outlines = root.findall(".//outline[@xmlUrl]")
    assert [o.get("xmlUrl") for o in outlines] == [fs.url(cfg, "atom") for fs in sets]
    assert [o.get("text") for o in outlines] == [fs.title for fs in sets]
    assert all(o.get("title") and o.get("type") == "rss" and o.get("htmlUrl") for o in outlines)
    assert root.findall(".//outline") == outlines  # no folders, no other outlines
    # the other formats are namespaced attributes, which importers ignore
    ns = "{" + opml.NS + "}"
    for o, fs in zip(outlines, sets, strict=True):
        assert o.get(ns + "rssUrl") == fs.url(cfg, "rss")
        assert o.get(ns + "jsonUrl") == fs.url(cfg, "json")
    # a third-party subscription-list parser sees one feed per set
    parsed = listparser.parse(body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [f.url for f in parsed.feeds] == [fs.url(cfg, "atom") for fs in sets]
    urls = {fs.url(cfg, fmt) for fs in sets for fmt in cfg.feeds.formats}
    for url in urls:  # every listed feed is served
        fetch(url)


def test_a_new_release_rewrites_only_the_pages_that_hold_it(big):
    site, cfg, store, _ = big
    assert run_build(cfg, store, NOW).written == []  # nothing changed: nothing written
    before = {p: p.read_bytes() for p in site.feeds.rglob("*") if p.is_file()}
    write(site, N, date="2023-02-14", lang="ru", tags=[])  # an old month, in Russian
    report = run_build(cfg, store, NOW)
    assert report.new == 1
    pages = ["archive/2023-02/atom.xml", "archive/2023-02/feed.json", "archive/2023-02/rss.xml"]
    assert sorted(report.written) == pages
    # a correction of an old release: its month page again, nothing else
    write(site, 3, text="On that day the Secretariat held a corrected meeting.")
    report = run_build(cfg, store, NOW)
    month = date(2023, 1, 1) + timedelta(days=21)
    assert report.updated == 1
    corrected = [f"archive/{month:%Y-%m}/{name}" for name in ("atom.xml", "feed.json", "rss.xml")]
    assert sorted(report.written) == corrected
    after = {p: p.read_bytes() for p in site.feeds.rglob("*") if p.is_file()}
    changed = {str(p.relative_to(site.feeds)) for p in after if before.get(p) != after[p]}
    assert changed == {*pages, *corrected}


def test_a_release_in_a_new_month_links_the_old_newest_page_to_it(big):
    site, cfg, store, _ = big
    write(site, N, date="2026-11-20", lang="zh", tags=["security"])
    report = run_build(cfg, store, NOW)
    newest = max(p.name for p in (site.feeds / "archive").iterdir() if p.name != "2026-11")
    assert set(report.written) == {
        "atom.xml",
        "rss.xml",
        "feed.json",
        "zh/atom.xml",
        "zh/rss.xml",
        "zh/feed.json",
        "tags/security/atom.xml",
        "tags/security/rss.xml",
        "tags/security/feed.json",
        "archive/2026-11/atom.xml",
        "archive/2026-11/rss.xml",
        "archive/2026-11/feed.json",
        f"archive/{newest}/atom.xml",
        f"archive/{newest}/rss.xml",  # its next-archive
    }  # fmt: skip (JSON Feed pages link only the older page: the one before is as it was)
    old = feedparser.parse((site.feeds / f"archive/{newest}/atom.xml").read_bytes())
    rels = {link.rel: link.href for link in old.feed.links}
    assert rels["next-archive"] == cfg.site.base_url + "archive/2026-11/atom.xml"


def test_dropped_feeds_are_removed_and_no_longer_served(big):
    site, cfg, store, _ = big
    cfg2 = site.config(*site.overrides, "feeds.metadata_tags=false")
    run_build(cfg2, store, NOW)
    assert not (site.feeds / "tags/security").exists()
    assert (site.feeds / "tags/economy/atom.xml").is_file()  # a [tags] tag stays
    assert [fs.key for fs in published_sets(cfg2, store)][-1] == "tag:economy"


def test_only_published_feed_paths_are_served(big):
    site, cfg, store, _ = big
    base = cfg.site.base_url.rstrip("/")
    (site.feeds / "secret").mkdir()
    (site.feeds / "secret" / "atom.xml").write_bytes(b"<feed/>")  # not the publisher's
    shutil.copy(cfg.paths.state, site.feeds / "state.json")
    with requests.Session() as s:
        s.trust_env = False
        paths = ["/secret/atom.xml", "/../state/test.sqlite3", "/tags/../atom.xml",
                 "/ru/../../config.toml", "/state.json", "/ru/archive/2023-01/atom.xml",
                 "/ru/archive/2023-01/feed.json", "/tags/%2e%2e/atom.xml"]  # fmt: skip
        for path in paths:  # sent as written (http.client keeps dot segments)
            assert raw_status(cfg, path) == 404, path
        ok = s.get(base + "/tags/" + "энергетика" + "/atom.xml", timeout=10)
        assert ok.status_code == 200
        etag = ok.headers["ETag"]
        again = s.get(base + "/tags/энергетика/atom.xml", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert 'rel="self"' in ok.headers["Link"] and "%D1%8D" in ok.headers["Link"]


def test_the_feed_layout_config_is_checked(site):
    with pytest.raises(ConfigError, match="tags: expected tag names that differ"):
        site.config("tags.Security=['x']", "tags.security=['y']")
    with pytest.raises(ConfigError, match="tags: expected tag names with a letter"):
        site.write_config('"--" = ["x"]\n')  # appended to [tags]
        site.config()
    site.write_config()
    with pytest.raises(ConfigError, match="feeds.languages.ru.path: expected a folder name"):
        site.config("feeds.languages.ru.path='../x'")
    with pytest.raises(ConfigError, match="feeds.languages: expected language codes"):
        site.config("feeds.languages.Russian.title='x'")
    cfg = site.config("feeds.languages.ru.path='russian'", "feeds.languages.ru.title='Ру'")
    assert feed_sets(cfg, ["ru"])[1].path("atom") == "russian/atom.xml"
    shown = tomllib.loads(show(cfg))  # `scofeed config show` reads back
    assert shown["feeds"]["languages"]["ru"] == {"title": "Ру", "path": "russian"}
    assert tag_slug("Energy & Transport / 2025") == "energy-transport-2025"
    assert urlsplit(feed_sets(cfg, [], [])[1].url(cfg, "rss")).path == "/tags/economy/rss.xml"


def test_a_feed_holding_every_entry_is_complete_until_archives_are_needed(site):
    """RFC 5005 section 2: while the subscription feed holds every entry it says so
    (fh:complete) and there are no archive pages; one entry more and it links them."""
    (site.sources / "000_8062ea63522097a7.txt").unlink()
    site.write_config("\n[feeds]\nentries = 3\n")
    cfg = site.config()
    store = Store(cfg.paths.state)
    complete = "{http://purl.org/syndication/history/1.0}complete"
    for i in range(3):
        write(site, i)
    run_build(cfg, store, NOW)
    for name in ("atom.xml", "rss.xml"):
        root = etree.parse(str(site.feeds / name)).getroot()
        assert root.find(f".//{complete}") is not None
        assert not root.xpath("//*[@rel='prev-archive']")
    assert not (site.feeds / "archive").exists()
    write(site, 3)
    run_build(cfg, store, NOW)
    for name in ("atom.xml", "rss.xml"):
        root = etree.parse(str(site.feeds / name)).getroot()
        assert root.find(f".//{complete}") is None
        assert root.xpath("//*[@rel='prev-archive']")
    assert list((site.feeds / "archive").glob("*/atom.xml"))


def test_a_feed_with_no_entries_is_dated_by_when_it_was_first_published_so(site):
    """Not 2000-01-01 (a reader showed a feed 26 years old), nor the time of each build
    (a new file every time): the time it was first published without entries, kept in
    the store, so it stays byte for byte what it was, even written again."""
    site.write_config('astronomy = ["telescope"]\n')  # a [tags] tag no release has
    cfg, store = site.config(), site.store()
    run_build(cfg, store, NOW + timedelta(microseconds=250_000))
    tag = "tags/astronomy/"
    assert feed_dates(site, tag) == (NOW, NOW)  # to the second
    assert json.loads((site.feeds / tag / "feed.json").read_bytes())["items"] == []
    before = {p: p.read_bytes() for p in (site.feeds / "tags").rglob("*.*")}
    assert run_build(cfg, store, NOW + timedelta(days=1)).written == []
    (site.feeds / tag / "atom.xml").unlink()
    assert publish_feeds(cfg, store, NOW + timedelta(days=2)) == [f"{tag}atom.xml"]
    assert {p: p.read_bytes() for p in (site.feeds / "tags").rglob("*.*")} == before
    # a release with the tag dates the feed; edited to lose it, the feed is empty again,
    # dated by when it lost its last entry
    star = site.sources / "star.txt"
    star.write_text("SCO telescope opens\n\nOn 1 May 2026, a telescope opened.\n", "utf-8")
    run_build(cfg, store, NOW + timedelta(days=3))
    assert len(feedparser.parse((site.feeds / tag / "atom.xml").read_bytes()).entries) == 1
    star.write_text("SCO observatory opens\n\nOn 1 May 2026, an observatory opened.\n")
    later = NOW + timedelta(days=4)
    run_build(cfg, store, later)
    assert feedparser.parse((site.feeds / tag / "atom.xml").read_bytes()).entries == []
    assert feed_dates(site, tag) == (later, later)
    # an empty store's feeds: dated by the first build that published them
    (site.sources / "000_8062ea63522097a7.txt").unlink()
    star.unlink()
    empty = site.config("paths.state='state/empty.sqlite3'", "paths.feeds='empty-feeds'")
    run_build(empty, Store(empty.paths.state), later + timedelta(days=1))
    assert feed_dates(types.SimpleNamespace(feeds=site.root / "empty-feeds")) == (
        later + timedelta(days=1), later + timedelta(days=1)
    )  # fmt: skip


def test_no_planned_path_leaves_feeds():
    assert contained("ru/atom.xml") and contained("tags/безопасность/rss.xml")
    for path in ("../escaped/atom.xml", "/etc/atom.xml", "a//atom.xml", "a/./atom.xml"):
        assert not contained(path), path


def test_one_publisher_at_a_time(site):
    """A publish waits for one in progress (the daemon's jobs, a withdraw beside it)."""
    cfg, store = site.config(), site.store()
    run_build(cfg, store, NOW)
    (site.feeds / "atom.xml").unlink()  # so the next publish has work to do
    lock = open(f"{cfg.paths.state}.publish.lock", "a")  # noqa: SIM115
    fcntl.flock(lock, fcntl.LOCK_EX)
    done = threading.Event()

    def publish():
        publish_feeds(cfg, Store(cfg.paths.state), NOW)
        done.set()

    threading.Thread(target=publish, daemon=True).start()
    assert not done.wait(1.0)  # held: it waits
    assert not (site.feeds / "atom.xml").exists()
    lock.close()
    assert done.wait(30)
    assert (site.feeds / "atom.xml").is_file()


def test_every_file_is_written_once_and_reported_in_plan_order(big):
    """Files are written by threads as they are rendered (publish.WRITERS): the report
    still lists each file written once, in the order the plan has them."""
    _site, cfg, _store, report = big
    assert len(report.written) > publish.AHEAD  # more than are held between the two
    assert len(set(report.written)) == len(report.written)
    root = cfg.paths.feeds
    assert set(report.written) == {
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()
    }
    assert report.written[:2] == ["atom.xml", "rss.xml"]  # the main set's first


def test_a_tag_slug_keeps_the_marks_of_its_letters(site):
    """Devanagari's vowel signs (and Arabic's short vowels) are marks, not letters:
    "हिन्दी" was slugged "ह-न-द", and words differing only in them shared one tag feed.
    Its feed is under its whole word."""
    assert tag_slug("हिन्दी") == "हिन्दी" and tag_slug("हिंदी") == "हिंदी"
    assert tag_slug("हिन्दी") != tag_slug("हन्द")
    assert tag_slug("مُحَمَّد") == "مُحَمَّد"
    assert tag_slug("Energy & Transport / 2025") == "energy-transport-2025"
    (site.sources / "hi.md").write_text(
        "---\ntitle: SCO film week\ndate: 2024-05-02\ntags: [हिन्दी]\n---\n\nFilms were shown.\n",
        encoding="utf-8",
    )
    site.write_config()
    cfg = site.config("feeds.metadata_tags=true")
    report = run_build(cfg, site.store(), datetime(2026, 11, 27, tzinfo=UTC))
    assert not report.rejected
    atom = feedparser.parse((site.feeds / "tags" / "हिन्दी" / "atom.xml").read_bytes())
    assert [e.title for e in atom.entries] == ["SCO film week"]
