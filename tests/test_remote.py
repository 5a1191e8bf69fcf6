"""Polling remote sources against a real, SCO-shaped site on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import pytest
from werkzeug import Request, Response

import forkserver
from conftest import REPO, free_port
from scofeed import config as config_mod
from scofeed.errors import ConfigError, StoreError, UsageError
from scofeed.poll import poll_due
from scofeed.poll_times import next_poll, not_before
from scofeed.sources import htmlpage
from scofeed.store import files as file_rows
from scofeed.store import published as published_rows
from scofeed.store import sources as source_rows
from servers import HTTPServer

SCO = Path(__file__).resolve().parent / "data" / "sco"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HTML = "text/html; charset=utf-8"
ARTICLES = {
    "/20220125/813122.html": "article_en.html",
    "/news/20170217/220257.html": "article_ru.html",
    "/20230421/-SCO-Digital-Forum-939274.html": "article_zh.html",
}


@pytest.fixture
def web():
    """A threaded server, so a deliberately slow page does not hold up the others."""
    server = HTTPServer(threaded=True)
    server.start()
    server.gate = threading.Event()  # type: ignore[attr-defined]
    yield server
    server.gate.set()  # type: ignore[attr-defined]
    server.clear()
    server.stop()


def paths(server: HTTPServer) -> list[str]:
    return [request.path for request, _ in server.log]


def serve_listing(
    server: HTTPServer, path: str, body: str, etag: str = '"listing-1"', ctype: str = HTML
) -> None:
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(body, content_type=ctype, headers={"ETag": etag})

    server.expect_request(path).respond_with_handler(handler)


def serve_site(server: HTTPServer) -> None:
    serve_listing(server, "/news/", (SCO / "listing.html").read_text(encoding="utf-8"))
    for path, name in ARTICLES.items():
        server.expect_request(path).respond_with_data((SCO / name).read_bytes(), content_type=HTML)


def add_source(site, url: str, name: str = "sco-en", kind: str = "page-list", extra: str = ""):
    preset = 'preset = "sco"\n' if kind == "page-list" and "selector" not in extra else ""
    every = "" if "cron" in extra else "interval = 600\n"  # not both: a config error
    block = (
        f'\n[[sources]]\nname = "{name}"\nkind = "{kind}"\nurl = "{url}"\n{preset}'
        f"{every}delay = 0\n{extra}"
    )
    if "timeout" not in extra:
        block += "timeout = 1\n"
    text = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(text + block, encoding="utf-8")


def test_first_poll_ingests_articles_second_poll_fetches_only_the_listing(site, web):
    serve_site(web)
    add_source(site, web.url_for("/news/"))
    cfg, store = site.config(), site.store()
    report = poll_due(cfg, store, NOW)
    (result,) = report.results
    assert (result.status, result.new, result.rejected, result.fetched) == ("ok", 3, [], 4)
    assert sorted(paths(web)) == sorted(["/news/", *ARTICLES])
    assert report.written[:3] == ["atom.xml", "rss.xml", "feed.json"]
    atom = feedparser.parse((site.feeds / "atom.xml").read_bytes())
    titles = {e.title for e in atom.entries}
    assert "Генеральный секретарь ШОС встретился с делегацией" in titles
    assert "上海合作组织秘书长出席数字论坛" in titles
    doc = json.loads((site.feeds / "feed.json").read_text(encoding="utf-8"))
    langs = {item["title"][:10]: item.get("language") for item in doc["items"]}
    assert set(langs.values()) == {"en", "ru", "zh-CN"}  # the Chinese page's own lang

    web.clear_log()
    later = NOW + timedelta(seconds=600)
    second = poll_due(cfg, store, later)
    assert second.results[0].status == "unchanged" and second.written == []
    assert paths(web) == ["/news/"]
    assert web.log[0][1].status_code == 304

    state = source_rows.state(store.db, "sco-en")
    assert state is not None
    assert (state.last_poll, state.next_poll) == (later.timestamp(), later.timestamp() + 600)
    assert state.last_result.startswith("unchanged") and state.last_error is None


def test_an_article_page_stating_no_date_is_dated_when_read_in_whole_seconds(site, web):
    listing = '<ul class="news"><li><a href="/news/undated/">Undated</a></li></ul>'
    serve_listing(web, "/news/", listing)
    page = (
        "<html><body><article><h1>Ministers met in Astana</h1>"
        "<p>The ministers met and agreed on many things of note for everyone.</p>"
        "</article></body></html>"
    )
    web.expect_request("/news/undated/").respond_with_data(page, content_type=HTML)
    extra = 'item_selector = "ul.news a"\n'
    add_source(site, web.url_for("/news/"), extra=extra)
    read_at = NOW + timedelta(microseconds=654_321)
    assert poll_due(site.config(), site.store(), read_at).results[0].new == 1
    (entry,) = published_rows.latest(site.store().db)
    assert (entry.date_source, entry.published) == ("mtime", NOW)


def test_a_changed_listing_fetches_only_the_new_article(site, web):
    listing = (SCO / "listing.html").read_text(encoding="utf-8")
    serve_listing(web, "/news/", listing)
    for path, name in ARTICLES.items():
        web.expect_request(path).respond_with_data((SCO / name).read_bytes(), content_type=HTML)
    add_source(site, web.url_for("/news/"))
    cfg, store = site.config(), site.store()
    poll_due(cfg, store, NOW)
    web.clear()
    new_item = '<li><a href="/20240102/1000.html">New</a></li>\n    <li class="news-item">'
    serve_listing(web, "/news/", listing.replace('<li class="news-item">', new_item, 1), '"v2"')
    article = (SCO / "article_en.html").read_text(encoding="utf-8")
    web.expect_request("/20240102/1000.html").respond_with_data(
        article.replace("Ambassador of Pakistan", "Ambassador of Kazakhstan"), content_type=HTML
    )
    report = poll_due(cfg, store, NOW, force=True)
    assert report.results[0].new == 1
    assert paths(web) == ["/news/", "/20240102/1000.html"]
    assert published_rows.count(store.db) == 4


def test_hostile_and_broken_pages_are_recorded_and_the_rest_published(site, web):
    good = (SCO / "article_zh.html").read_bytes()
    pages = {
        "/20220101/1.html": ("404", None),
        "/20220102/2.html": ("500", None),
        "/20220103/3.html": ("slow", None),
        "/20220104/4.html": ("pdf", None),
        "/20220105/5.html": ("big", None),
        "/20220106/6.html": ("away", None),
        "/20220107/7.html": ("hostile", None),
        "/20220108/8.html": ("good", None),
    }
    links = "".join(f'<a href="{p}">{k}</a>' for p, (k, _) in pages.items())
    serve_listing(web, "/news/", f"<html><body>{links}</body></html>")
    web.expect_request("/20220101/1.html").respond_with_data("gone", status=404)
    web.expect_request("/20220102/2.html").respond_with_data("oops", status=500)

    def slow(request: Request) -> Response:
        web.gate.wait(10)  # type: ignore[attr-defined]
        return Response((SCO / "article_ru.html").read_bytes(), content_type=HTML)

    web.expect_request("/20220103/3.html").respond_with_handler(slow)
    web.expect_request("/20220104/4.html").respond_with_data(
        b"%PDF", content_type="application/pdf"
    )
    web.expect_request("/20220105/5.html").respond_with_data(b"x" * 30_000, content_type=HTML)
    away = web.url_for("/20220109/9.html").replace("localhost", "127.0.0.1")
    web.expect_request("/20220106/6.html").respond_with_data(
        "", status=302, headers={"Location": away}
    )
    hostile = (SCO / "hostile.html").read_bytes()
    web.expect_request("/20220107/7.html").respond_with_data(hostile, content_type=HTML)
    web.expect_request("/20220108/8.html").respond_with_data(good, content_type=HTML)
    add_source(site, web.url_for("/news/"), extra="max_bytes = 20000\ntimeout = 0.3\n")
    cfg, store = site.config(), site.store()

    (result,) = poll_due(cfg, store, NOW).results
    web.gate.set()  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10  # let the abandoned slow request finish and be logged
    while "/20220103/3.html" not in paths(web) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert result.new == 2
    reasons = {r["origin"].rsplit("/", 1)[1]: r["reason"] for r in file_rows.rejects(store.db)}
    assert reasons == {
        # linked from the listing: perhaps not up yet (it never came, refused for good)
        "1.html": "temporary: HTTP 404 NOT FOUND; linked from the listing: not up yet?",
        "2.html": "temporary: server error 500",
        "3.html": "temporary: timed out after 0.3 s",
        "4.html": "content type application/pdf where text/html or application/xhtml+xml "
        "was expected",
        "5.html": "too large (30000 bytes, limit 20000)",
        "6.html": "redirect to another host (127.0.0.1), not followed",
    }
    assert all(r["source"] == "sco-en" for r in file_rows.rejects(store.db))
    assert "/20220109/9.html" not in paths(web)
    hostile_entry = next(e for e in published_rows.latest(store.db) if "security" in e.title)
    assert "<script" not in hostile_entry.content_html
    assert "javascript:" not in hostile_entry.content_html
    assert "root:" not in hostile_entry.content_html and "lollol" not in hostile_entry.content_html

    # the next poll retries only what failed for a passing reason; the listing is not a
    # 304 because its articles were not all in
    web.clear_log()
    (again,) = poll_due(cfg, store, NOW + timedelta(hours=1)).results
    assert sorted(paths(web)) == [
        "/20220101/1.html", "/20220102/2.html", "/20220103/3.html", "/news/",
    ]  # fmt: skip
    assert again.new == 1  # the slow page answered in time now
    assert "3.html" not in {r["origin"].rsplit("/", 1)[1] for r in file_rows.rejects(store.db)}


def test_a_failing_source_never_stops_the_others(site, web):
    web.expect_request("/broken/").respond_with_data("down", status=500)
    web.expect_request("/feed.rss").respond_with_data(
        (SCO / "feed.rss").read_bytes(), content_type="application/rss+xml"
    )
    add_source(site, web.url_for("/broken/"), name="broken")
    add_source(site, f"http://127.0.0.1:{free_port()}/news/", name="refused")
    add_source(site, web.url_for("/feed.rss"), name="agency", kind="feed")
    cfg, store = site.config(), site.store()
    report = poll_due(cfg, store, NOW)
    by_name = {r.name: r for r in report.results}
    assert by_name["broken"].error == "temporary: server error 500"
    assert by_name["refused"].error.startswith("temporary: cannot connect")
    assert by_name["agency"].new == 2
    broken, agency = source_rows.state(store.db, "broken"), source_rows.state(store.db, "agency")
    assert broken is not None and agency is not None
    assert broken.last_result == "error"
    assert broken.last_error == "temporary: server error 500"
    assert agency.last_error is None
    assert report.failed


def test_rss_and_atom_feeds_become_entries(site, web):
    for name, ctype in (("feed.rss", "application/rss+xml"), ("feed.atom", "application/atom+xml")):
        serve_listing(web, "/" + name, (SCO / name).read_text(encoding="utf-8"), f'"{name}"', ctype)
    add_source(site, web.url_for("/feed.rss"), name="rss", kind="feed")
    add_source(site, web.url_for("/feed.atom"), name="atom", kind="feed")
    cfg, store = site.config(), site.store()
    report = poll_due(cfg, store, NOW)
    assert [(r.name, r.new, r.error) for r in report.results] == [
        ("rss", 2, None),
        ("atom", 1, None),
    ]
    entries = {e.title: e for e in published_rows.latest(store.db)}
    iran = entries["SCO welcomes Iran as a full member"]
    assert iran.url == "http://other.example/sco/iran-member"
    assert iran.published.isoformat() == "2023-07-04T02:00:00+00:00"
    assert "onclick" not in iran.content_html
    ministers = entries["SCO foreign ministers meet in Tashkent"]
    assert ministers.summary.startswith("The SCO Council of Foreign Ministers met in Tashkent")
    assert "<script" not in ministers.content_html and "alert" not in ministers.content_html
    web.clear_log()
    again = poll_due(cfg, store, NOW + timedelta(hours=1))
    assert [r.status for r in again.results] == ["unchanged", "unchanged"]
    assert [resp.status_code for _, resp in web.log] == [304, 304]


def test_a_poll_of_a_feed_sent_without_validators_that_brings_nothing_says_nothing_at_info(
    site, web, caplog
):
    """A server sending no ETag or Last-Modified answers each poll 200: the fetch and
    the feed read were logged at INFO at every poll for ever, on an idle daemon
    (docs/operations.md: a poll that found the same items logs at DEBUG)."""
    web.expect_request("/feed.rss").respond_with_data(
        (SCO / "feed.rss").read_text(encoding="utf-8"), content_type="application/rss+xml"
    )
    add_source(site, web.url_for("/feed.rss"), name="rss", kind="feed")
    cfg, store = site.config(), site.store()
    with caplog.at_level(logging.INFO, logger="scofeed"):
        assert poll_due(cfg, store, NOW).results[0].new == 2
        first = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
        caplog.clear()
        again = poll_due(cfg, store, NOW + timedelta(hours=1))
    assert [(r.new, r.updated, r.error) for r in again.results] == [(0, 0, None)]
    assert any(line.startswith("poll source=rss ") for line in first)  # what it brought
    assert [r.getMessage() for r in caplog.records if r.name.startswith("scofeed")] == []


@pytest.mark.parametrize(
    ("name", "kind"),
    [("feed.rss", "application/x-rss+xml"), ("feed.atom", "application/x-atom+xml")],
)
def test_a_feed_served_with_the_type_debian_gives_its_name_is_read(site, web, name, kind):
    """Debian's mime.types (and Python's mimetypes) give .rss and .atom these types: a
    feed.rss behind Apache on Debian was refused at every poll."""
    web.expect_request("/" + name).respond_with_data(
        (SCO / name).read_text(encoding="utf-8"), content_type=kind
    )
    add_source(site, web.url_for("/" + name), name="agency", kind="feed")
    [result] = poll_due(site.config(), site.store(), NOW).results
    assert result.error is None and result.new >= 1


def test_feed_with_entity_declarations_and_json_feed(site, web):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><rss version="2.0"><channel>'
        b"<title>t</title><item><title>&b;</title><link>http://x.example/1</link></item>"
        b"</channel></rss>"
    )
    web.expect_request("/bomb.xml").respond_with_data(bomb, content_type="application/xml")
    json_feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON agency",
        "items": [
            {
                "id": "1",
                "url": "http://json.example/sco/1",
                "title": "SCO energy ministers meet",
                "content_html": "<p>On 5 May 2024 the energy ministers met.</p>",
                "date_published": "2024-05-05T09:00:00+03:00",
            }
        ],
    }
    web.expect_request("/feed.json").respond_with_json(json_feed)
    add_source(site, web.url_for("/bomb.xml"), name="bomb", kind="feed")
    add_source(site, web.url_for("/feed.json"), name="json", kind="feed")
    cfg, store = site.config(), site.store()
    bomb_result, json_result = poll_due(cfg, store, NOW).results
    assert bomb_result.error == "feed declares XML entities (entity expansion refused)"
    assert json_result.new == 1
    (entry,) = published_rows.latest(store.db)
    assert entry.published.isoformat() == "2024-05-05T09:00:00+03:00"
    (reject,) = file_rows.rejects(store.db)
    assert (reject["origin"], reject["source"]) == (web.url_for("/bomb.xml"), "bomb")


def test_a_feed_item_stating_no_date_is_rejected_for_that_not_for_a_file_date(site, web):
    """An item with no date of its own, none in its link and none in its text has no
    file, so no file date to fall back on: the reason says what the item lacked."""
    rss = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<link>http://agency.example/</link><description>d</description>
<item><title>SCO ministers meet</title><link>http://agency.example/sco/undated</link>
<description>The ministers met and discussed trade.</description></item>
<item><title>SCO forum</title><link>http://agency.example/sco/dated</link>
<pubDate>Tue, 04 Jul 2023 02:00:00 GMT</pubDate><description>A forum.</description></item>
</channel></rss>"""
    web.expect_request("/undated.rss").respond_with_data(rss, content_type="application/rss+xml")
    add_source(site, web.url_for("/undated.rss"), name="agency", kind="feed")
    cfg, store = site.config(), site.store()
    (result,) = poll_due(cfg, store, NOW).results
    reason = "no date in the feed item, its link or its text"
    assert (result.new, result.rejected) == (1, [("http://agency.example/sco/undated", reason)])
    (reject,) = file_rows.rejects(store.db)
    assert (reject["origin"], reject["reason"]) == ("http://agency.example/sco/undated", reason)
    # gone from the feed (or named anew: an upgrade reading its date otherwise), its
    # refusal stayed in `scofeed status` for ever
    web.clear()
    gone = rss.replace(rss[rss.index("<item>") : rss.index("</item>") + 7], "")
    web.expect_request("/undated.rss").respond_with_data(gone, content_type="application/rss+xml")
    (result,) = poll_due(cfg, store, NOW, force=True).results
    assert result.status != "error" and file_rows.rejects(store.db) == []


def test_same_release_from_a_page_and_a_feed_with_another_url_spelling_is_one_entry(site, web):
    serve_site(web)
    port = web.port
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Mirror</title>'
        "<item><title>SCO Secretary-General meets with Ambassador of Pakistan</title>"
        f"<link>https://localhost.:{port}/20220125/813122.html</link>"
        "<pubDate>Tue, 25 Jan 2022 00:00:00 +0800</pubDate>"
        "<description>On 24 January 2022, SCO Secretary-General Zhang Ming met.</description>"
        "</item></channel></rss>"
    )
    web.expect_request("/mirror.rss").respond_with_data(rss, content_type="application/rss+xml")
    add_source(site, web.url_for("/news/"))
    add_source(site, web.url_for("/mirror.rss"), name="mirror", kind="feed")
    cfg, store = site.config(), site.store()
    poll_due(cfg, store, NOW)
    titles = [e.title for e in published_rows.latest(store.db)]
    assert titles.count("SCO Secretary-General meets with Ambassador of Pakistan") == 1
    assert published_rows.count(store.db) == 3


def test_due_ness_lives_in_the_store(site, web):
    serve_site(web)
    add_source(site, web.url_for("/news/"))
    cfg = site.config()
    poll_due(cfg, site.store(), NOW)
    web.clear_log()
    store = site.store()  # a restart: a new connection, nothing in memory
    assert poll_due(cfg, store, NOW + timedelta(seconds=599)).results == []
    assert paths(web) == []
    assert len(poll_due(cfg, store, NOW + timedelta(seconds=1), force=True).results) == 1
    assert paths(web) == ["/news/"]
    assert web.log[0][0].headers.get("If-None-Match") is None  # --force skips the cache


def test_cron_schedules_the_next_poll():
    src = config_mod.RemoteSource(
        name="c", kind="feed", url="http://x.example/f", cron="*/30 * * * *"
    )
    at = datetime(2026, 1, 1, 12, 10, tzinfo=UTC)
    assert next_poll(src, at, "UTC") == datetime(2026, 1, 1, 12, 30, tzinfo=UTC)
    plain = config_mod.RemoteSource(name="p", kind="feed", url="http://x.example/f", interval=90)
    assert next_poll(plain, at, "UTC") == at + timedelta(seconds=90)


def _set_schedule(site, old: str, new: str) -> None:
    text = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_changed_interval_takes_effect_at_once_not_after_the_old_next_poll(site, web):
    serve_site(web)
    add_source(site, web.url_for("/news/"))
    store = site.store()
    poll_due(site.config(), store, NOW)  # interval 600: next poll at NOW + 600
    _set_schedule(site, "interval = 600", "interval = 60")  # then a reload
    web.clear_log()
    (result,) = poll_due(site.config(), store, NOW + timedelta(seconds=120)).results
    assert result.status == "unchanged" and paths(web) == ["/news/"]
    state = source_rows.state(store.db, "sco-en")
    assert state is not None and state.next_poll == (NOW + timedelta(seconds=180)).timestamp()

    _set_schedule(site, "interval = 60", "interval = 3600")  # longer: not due before
    assert poll_due(site.config(), store, NOW + timedelta(seconds=600)).results == []
    state = source_rows.state(store.db, "sco-en")
    assert state is not None and state.next_poll == (NOW + timedelta(seconds=3720)).timestamp()
    assert state.schedule == "every 3600"


def test_a_changed_cron_line_takes_effect_at_once(site, web):
    serve_site(web)
    add_source(site, web.url_for("/news/"), extra='cron = "0 6 * * *"\n')
    store = site.store()
    poll_due(site.config(), store, NOW)  # at 12:00: next at 06:00 tomorrow
    _set_schedule(site, 'cron = "0 6 * * *"', 'cron = "*/15 * * * *"')
    (result,) = poll_due(site.config(), store, NOW + timedelta(minutes=16)).results
    assert result.status == "unchanged"
    state = source_rows.state(store.db, "sco-en")
    assert state is not None
    assert state.next_poll == (NOW + timedelta(minutes=30)).timestamp()


def test_only_and_disabled_sources(site, web):
    serve_site(web)
    add_source(site, web.url_for("/news/"), extra="enabled = false\n")
    cfg, store = site.config(), site.store()
    assert poll_due(cfg, store, NOW).results == []
    assert paths(web) == []
    assert poll_due(cfg, store, NOW, only="sco-en").results[0].new == 3
    with pytest.raises(UsageError, match="no remote source named 'nope'"):
        poll_due(cfg, store, NOW, only="nope")


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ('kind = "scrape"\nurl = "http://a.example/"', "sources[0].kind: expected one of"),
        ('kind = "page-list"\nurl = "ftp://a.example/"\npreset = "sco"', "sources[0].url: "),
        ('kind = "page-list"\nurl = "http://a.example/"\npreset = "xyz"', "sources[0].preset: "),
        ('kind = "page-list"\nurl = "http://a.example/"', "sources[0].preset: a page-list"),
        ('kind = "feed"\nurl = "http://a.example/"\ncron = "often"', "sources[0].cron: "),
        # a day that never comes was taken, the source polled every interval instead
        (
            'kind = "feed"\nurl = "http://a.example/"\ncron = "0 0 30 2 *"',
            "sources[0].cron: '0 0 30 2 *' never comes (no such day in any year)",
        ),
        ('kind = "feed"\nurl = "http://a.example/"\npreset = "sco"', "sources[0].preset: only"),
        (
            'kind = "page-list"\nurl = "http://a.example/"\nbody_selector = "//p[["',
            "sources[0].body_selector: not a valid XPath or CSS selector",
        ),
        ('kind = "feed"\nurl = "http://a.example/"\ntimeout = "soon"', "sources[0].timeout: "),
        ('kind = "feed"\nurl = "http://a.example/"\nspeed = 1', "sources[0].speed: unknown key"),
    ],
)
def test_config_errors_name_the_dotted_key(site, block, message):
    site.write_config(f'\n[[sources]]\nname = "a"\n{block}\n')
    with pytest.raises(ConfigError) as err:
        site.config()
    assert str(err.value).startswith(message), str(err.value)


def test_duplicate_source_names_are_refused(site):
    one = '\n[[sources]]\nname = "a"\nkind = "feed"\nurl = "http://a.example/"\n'
    site.write_config(one + one)
    with pytest.raises(ConfigError, match=r"^sources\[1\]\.name: 'a' is already"):
        site.config()


def test_the_commented_examples_in_config_toml_are_valid_and_disabled(tmp_path):
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    region = text[text.index("# [[sources]]") : text.index("# Webhooks:")]
    uncommented = "\n".join(line[2:] for line in region.splitlines() if line.startswith("# "))
    assert uncommented.count("[[sources]]") >= 3
    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(text + "\n" + uncommented, encoding="utf-8")
    cfg = config_mod.load(cfg_path)
    assert {s.kind for s in cfg.sources} == {"page-list", "feed"}
    assert not any(s.enabled for s in cfg.sources)
    assert config_mod.load(REPO / "config.toml").sources == ()
    assert set(config_mod.PAGE_PRESETS) == set(htmlpage.PRESETS)


def test_poll_with_every_source_disabled_says_so(site, web):
    """Every shipped example says enabled = false: "use --force" was the answer to
    `poll` and to `poll --force` alike, and the operator never learnt why."""
    add_source(site, web.url_for("/news/"), extra="enabled = false\n")
    cmd = [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "poll"]
    for extra in ([], ["--force"]):
        proc = forkserver.run([*cmd, *extra], capture_output=True, text=True, cwd=site.root)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == (
            "no source is enabled (set enabled = true, or name one: scofeed poll sco-en)"
        )
    assert not web.log  # nothing fetched


def test_poll_command_prints_one_line_per_source(site, web):
    serve_site(web)
    web.expect_request("/gone.rss").respond_with_data("no", status=404)
    add_source(site, web.url_for("/news/"))
    add_source(site, web.url_for("/gone.rss"), name="gone", kind="feed")
    cmd = [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "poll"]
    proc = forkserver.run(cmd, capture_output=True, text=True, cwd=site.root, timeout=60)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("sco-en (page-list): ok fetched=4 new=3 updated=0")
    assert lines[1].startswith("gone (feed): error: HTTP 404 NOT FOUND")
    assert lines[2].startswith("written atom.xml rss.xml feed.json")
    proc = forkserver.run([*cmd, "sco-en"], capture_output=True, text=True, cwd=site.root)
    assert proc.stdout.strip() == "no source is due (use --force to poll now)"
    proc = forkserver.run(
        [*cmd, "sco-en", "--force"], capture_output=True, text=True, cwd=site.root
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("sco-en (page-list): ok fetched=1 new=0")


def _status(site, capsys) -> dict[str, str]:
    from scofeed.cli import main

    assert main(["--config", str(site.config_path), "status"]) == 0
    table = capsys.readouterr().out.split("\n\n")[0].splitlines()[1:]
    return {line.split()[0]: line for line in table}


def test_status_lists_every_configured_source_and_the_entries_each_brought(site, web, capsys):
    serve_site(web)
    add_source(site, web.url_for("/news/"))
    add_source(site, web.url_for("/idle/"), name="idle", extra="enabled = false\n")
    add_source(site, web.url_for("/later/"), name="later", kind="feed")
    site.store().close()  # the store the daemon makes at its start: status reads it
    rows = _status(site, capsys)
    assert set(rows) == {"local", "sco-en", "idle", "later"}
    assert rows["later"].split()[1:4] == ["feed", "never", "0"]
    assert "not polled yet" in rows["later"]
    assert "disabled" in rows["idle"]
    poll_due(site.config(), site.store(), NOW, only="sco-en")
    poll_due(site.config(), site.store(), NOW + timedelta(seconds=600), only="sco-en")
    row = _status(site, capsys)["sco-en"]
    # three new entries on the first poll, none on the 304 poll: the count is kept
    assert row.split()[1:4] == ["page-list", (NOW + timedelta(seconds=600)).isoformat(), "3"]
    assert "unchanged" in row


def test_a_feed_whose_items_fail_to_store_is_fetched_in_full_next_time(site, web):
    serve_listing(
        web,
        "/feed.rss",
        (SCO / "feed.rss").read_text(encoding="utf-8"),
        '"v1"',
        "application/rss+xml",
    )
    add_source(site, web.url_for("/feed.rss"), name="rss", kind="feed")
    cfg, store = site.config(), site.store()

    def broken_outbox(db, entry, event):  # a store failure inside the entry's transaction
        raise StoreError("disk full")

    failed = poll_due(cfg, store, NOW, planner=broken_outbox)
    assert [r.status for r in failed.results] == ["error"]
    assert published_rows.count(store.db) == 0
    web.clear_log()
    report = poll_due(cfg, store, NOW + timedelta(hours=1))
    assert [r.new for r in report.results] == [2]
    assert [resp.status_code for _, resp in web.log] == [200]


def test_a_listing_behind_a_redirect_still_gets_its_304(site, web):
    serve_site(web)
    web.expect_request("/old-news/").respond_with_data(
        "", status=301, headers={"Location": "/news/"}
    )
    add_source(site, web.url_for("/old-news/"))
    cfg, store = site.config(), site.store()
    assert [r.new for r in poll_due(cfg, store, NOW).results] == [3]
    web.clear_log()
    again = poll_due(cfg, store, NOW + timedelta(hours=1))
    assert [r.status for r in again.results] == ["unchanged"]
    assert [(req.path, resp.status_code) for req, resp in web.log] == [
        ("/old-news/", 301),
        ("/news/", 304),
    ]


def test_an_item_a_feed_lists_twice_is_one_release_not_a_revision_at_every_poll(site, web):
    """A feed listing one item twice with two texts (same link; same JSON id, no url)
    gives one entry, the first text, and polling the unchanged feed again revises
    nothing. Items of different links sharing one guid stay two entries, and so do
    items of different guids sharing one link."""
    item = (
        "<item><title>SCO forum opens</title><link>{link}</link><guid>{guid}</guid>"
        "<pubDate>Tue, 24 Nov 2025 10:00:00 +0300</pubDate><description>{text}</description></item>"
    )
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        "<link>http://agency.example/</link><description>d</description>"
        + item.format(link="http://agency.example/n/1", guid="n1", text="The forum opened.")
        + item.format(link="http://agency.example/n/1", guid="n1", text="The forum opened, again.")
        + item.format(
            link="http://agency.example/n/2", guid="same", text="Ministers met in Astana."
        )
        + item.format(link="http://agency.example/n/3", guid="same", text="Youth met in Minsk.")
        # one link for every item (the home page), told apart by their guids
        + item.format(link="http://agency.example/", guid="h1", text="Experts met in Baku.")
        + item.format(link="http://agency.example/", guid="h2", text="Envoys met in Delhi.")
        + "</channel></rss>"
    )
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "j",
        "items": [
            {"id": "j1", "title": "SCO council meets", "content_text": t, "date_published": d}
            for t, d in (
                ("The council met in Bishkek.", "2025-11-20T10:00:00Z"),
                ("The council met in Bishkek on Thursday.", "2025-11-20T10:00:00Z"),
            )
        ]
        # one url for every item (the home page), told apart by their ids
        + [
            {"id": i, "url": "http://agency.example/", "title": "SCO meets", "content_text": t}
            | {"date_published": "2025-11-21T10:00:00Z"}
            for i, t in (("k1", "Judges met in Dushanbe."), (2, "Mayors met in Tashkent."))
        ],
    }
    web.expect_request("/dup.rss").respond_with_data(rss, content_type="application/rss+xml")
    web.expect_request("/dup.json").respond_with_data(
        json.dumps(doc), content_type="application/feed+json"
    )
    add_source(site, web.url_for("/dup.rss"), name="rss", kind="feed")
    add_source(site, web.url_for("/dup.json"), name="json", kind="feed")
    cfg, store = site.config(), site.store()
    first = poll_due(cfg, store, NOW).results
    assert [(r.name, r.new, r.updated, r.error) for r in first] == [
        ("rss", 5, 0, None),
        ("json", 3, 0, None),
    ]
    for hours in (1, 2):
        again = poll_due(cfg, store, NOW + timedelta(hours=hours)).results
        assert [(r.new, r.updated) for r in again] == [(0, 0), (0, 0)]
    entries = published_rows.latest(store.db)
    assert sorted(e.summary for e in entries) == [
        "Envoys met in Delhi.",
        "Experts met in Baku.",
        "Judges met in Dushanbe.",
        "Mayors met in Tashkent.",
        "Ministers met in Astana.",
        "The council met in Bishkek.",
        "The forum opened.",
        "Youth met in Minsk.",
    ]
    assert {e.revision for e in entries} == {1}


def test_an_empty_or_hostile_feed_or_listing_is_one_clear_reason(site, web, caplog):
    """A feed answering an empty body, JSON nested 50,000 deep or holding a 5,000-digit
    number, and a listing answering an empty body: each source fails with its reason
    (no traceback, no Python error's name), and the others are polled."""
    deep = '{"version": "https://jsonfeed.org/version/1.1", "items": ' + "[" * 50_000
    huge = '{"version": "https://jsonfeed.org/version/1.1", "items": [], "n": ' + "9" * 5000 + "}"
    for path, body, ctype in (
        ("/empty.rss", "", "application/rss+xml"),
        ("/deep.json", deep, "application/feed+json"),
        ("/huge.json", huge, "application/feed+json"),
        ("/empty-list/", "", HTML),
        ("/feed.rss", (SCO / "feed.rss").read_text(encoding="utf-8"), "application/rss+xml"),
    ):
        web.expect_request(path).respond_with_data(body, content_type=ctype)
        kind = "page-list" if path.endswith("/") else "feed"
        add_source(site, web.url_for(path), name=path.strip("/").replace(".", "-"), kind=kind)
    cfg, store = site.config(), site.store()
    results = {r.name: r for r in poll_due(cfg, store, NOW).results}
    assert results["feed-rss"].new == 2
    assert "Traceback" not in caplog.text
    reasons = {name: r.error or "; ".join(x[1] for x in r.rejected) for name, r in results.items()}
    assert "no RSS, Atom or JSON feed found" in reasons["empty-rss"]
    assert "nested too deeply" in reasons["deep-json"]
    assert "digits" in reasons["huge-json"]
    assert "no article links" in reasons["empty-list"]
    for name in ("empty-rss", "deep-json", "huge-json", "empty-list"):
        assert "Error" not in reasons[name], reasons[name]


def test_retry_after_holds_in_the_hour_a_fall_back_repeats():
    """In New York's repeated hour (2 November 2025), a cron poll due at 01:50 EDT and
    a Retry-After ending at 01:10 EST (20 minutes later): two times of one zone compare
    by their wall clocks, and the site was polled at 01:50, before the server's time."""
    new_york = ZoneInfo("America/New_York")
    now = datetime(2025, 11, 2, 5, 45, tzinfo=UTC)
    due = datetime(2025, 11, 2, 5, 50, tzinfo=UTC).astimezone(new_york)
    assert not_before(due, "1500", now).timestamp() == now.timestamp() + 1500
    assert not_before(due, "60", now) == due  # the schedule's time when it is later
