"""The WSGI app behind a real waitress server on a free loopback port."""

from __future__ import annotations

import gzip
import hashlib
import http.client
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import lxml.html
import pytest

from scofeed import config as config_mod
from scofeed.build import build as build_feeds
from scofeed.config.redact import safe_url
from scofeed.errors import ConfigError, StoreError
from scofeed.poll import poll_due
from scofeed.render import CONTENT_TYPES
from scofeed.serve import App, HttpServer, accepts_gzip, answers
from scofeed.serve.app import READY_FOR
from scofeed.store import Store, runs
from test_remote import add_source
from test_remote import web as web  # a threaded HTTP server on 127.0.0.1

NOW = datetime(2026, 11, 1, tzinfo=UTC)
MONTHS = (
    "January February March April May June July August September October November December".split()
)
SEED_TITLE = "SCO Secretary-General meets with Jingdong vice-president"


@dataclass
class Served:
    host: str
    port: int
    cfg: config_mod.Config
    store: Store
    feeds: Path

    def get(
        self, path: str, method: str = "GET", **headers: str
    ) -> tuple[int, dict[str, str], bytes]:
        """A raw request: http.client sends the path exactly as given (no dot-segment cleanup)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request(method, path, headers={k.replace("_", "-"): v for k, v in headers.items()})
            resp = conn.getresponse()
            body = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        finally:
            conn.close()


def serving(site) -> Iterator[Served]:
    """The site's sources built, then served by the real server on 127.0.0.1 while the
    caller holds it; the build must reject nothing."""
    cfg = site.config()
    store = Store(cfg.paths.state)
    assert not build_feeds(cfg, store, NOW).rejected
    server = HttpServer(App(lambda: cfg, store), "127.0.0.1", 0)
    server.start()
    host, port = server.addresses[0]
    yield Served(host, port, cfg, store, site.feeds)
    server.stop()
    store.close()


@pytest.fixture
def served(site):
    yield from serving(site)


FEEDS = [("atom", "atom.xml"), ("rss", "rss.xml"), ("json", "feed.json")]


def test_feed_bytes_held_in_memory_are_bounded_the_least_asked_for_dropped(tmp_path):
    """Every published file a client asked for was held, with its gzip copy, for good:
    one crawl of a 30,000-release site's history (121 months, three formats) took the
    server from 58 MB to 428 MB. What is held is bounded; a file dropped is read again."""
    files = []
    for i in range(6):
        path = tmp_path / f"page{i}.xml"
        path.write_bytes(os.urandom(1000))  # random: its gzip copy is as large
        files.append(str(path))
    cache = answers.FeedCache(budget=5000)  # about two files and their gzip copies
    first = cache.get(files[0])
    assert first is not None and cache.get(files[0]) is first  # held: not read again
    for path in files[1:]:
        assert cache.get(path) is not None
    held = cache._items
    assert held.bytes <= 5000
    assert held.get(files[0]) is None and held.get(files[5]) is not None  # oldest gone
    again = cache.get(files[0])
    assert again is not None and again is not first and again.body == first.body
    # held now: 5, then 0; 5 asked for again goes last, and 0 is the one dropped
    held.get(files[5])
    cache.get(files[1])
    assert held.get(files[5]) is not None and held.get(files[0]) is None
    assert answers.FeedCache(budget=100).get(files[0]) is not None  # too large: served


def test_a_crawl_of_every_archive_page_leaves_the_server_holding_no_more_than_its_bound(site):
    """The same through the server: its prepared answers (headers, both encodings) hold
    the bytes they hand out, so they are bounded as the bytes are."""
    site.write_config("[feeds]\nentries = 1\n")
    for month in range(1, 13):
        (site.sources / f"m{month}.txt").write_text(
            f"SCO meeting {month}\n\nOn 3 {MONTHS[month - 1]} 2025, the SCO met in Astana.\n",
            encoding="utf-8",
        )
    cfg = site.config()
    store = Store(cfg.paths.state)
    assert not build_feeds(cfg, store, NOW).rejected
    pages = sorted(str(p.relative_to(site.feeds)) for p in site.feeds.rglob("archive/*/*.xml"))
    assert len(pages) >= 24
    budget = 3 * max(len((site.feeds / p).read_bytes()) for p in pages) * 2
    app = App(lambda: cfg, store, held_bytes=budget)
    server = HttpServer(app, "127.0.0.1", 0)
    server.start()
    host, port = server.addresses[0][:2]
    try:
        for page in pages:
            for encoding in ("identity", "gzip"):
                conn = http.client.HTTPConnection(host, port, timeout=10)
                conn.request("GET", "/" + page, headers={"Accept-Encoding": encoding})
                assert conn.getresponse().status == 200
                conn.close()
    finally:
        server.stop()
        store.close()
    assert 0 < app.feeds._items.bytes <= budget
    assert 0 < app._answers.bytes <= budget


@pytest.mark.parametrize("fmt,name", FEEDS)
def test_feed_files_with_type_strong_etag_and_caching_headers(served, fmt, name):
    status, headers, body = served.get("/" + name)
    assert status == 200
    assert body == (served.feeds / name).read_bytes()
    assert headers["content-type"] == CONTENT_TYPES[fmt]
    assert headers["etag"] == '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    mtime = int((served.feeds / name).stat().st_mtime)
    assert headers["last-modified"] == formatdate(mtime, usegmt=True)
    assert headers["cache-control"] == "public, max-age=60"  # the default scan interval
    assert headers["vary"] == "Accept-Encoding"
    if fmt == "json":
        assert json.loads(body)["items"][0]["title"] == SEED_TITLE
    else:
        parsed = feedparser.parse(body)
        assert not parsed.bozo and parsed.entries[0].title == SEED_TITLE


def test_conditional_gets_answer_304(served):
    _, headers, _ = served.get("/atom.xml")
    etag, last_modified = headers["etag"], headers["last-modified"]
    status, h304, body = served.get("/atom.xml", If_None_Match=etag)
    assert (status, body) == (304, b"")
    assert h304["etag"] == etag and h304["cache-control"] == "public, max-age=60"
    assert served.get("/atom.xml", If_None_Match=f'"nope", W/{etag}')[0] == 304
    assert served.get("/atom.xml", If_None_Match='"other"')[0] == 200
    assert served.get("/atom.xml", If_Modified_Since=last_modified)[0] == 304
    earlier = formatdate(time.time() - 10 * 365 * 86400, usegmt=True)
    assert served.get("/atom.xml", If_Modified_Since=earlier)[0] == 200
    # If-None-Match wins over If-Modified-Since
    assert served.get("/atom.xml", If_None_Match='"x"', If_Modified_Since=last_modified)[0] == 200
    assert served.get("/atom.xml", If_Modified_Since="not a date")[0] == 200


def test_a_precondition_that_fails_is_a_412(served):
    """If-Match naming another version, or If-Unmodified-Since before the feed last
    changed, was answered 200 as if it held (RFC 9110 13.1.1, 13.1.4: 412). Asked
    before If-None-Match; "*" and either ETag of the file (plain, gzip) hold."""
    _, headers, body = served.get("/atom.xml")
    etag, last_modified = headers["etag"], headers["last-modified"]
    _, zipped, _ = served.get("/atom.xml", Accept_Encoding="gzip")
    for held in (etag, "*", f'"other", {etag}', zipped["etag"]):
        status, _, got = served.get("/atom.xml", If_Match=held)
        assert (status, got) == (200, body), held
    for failed in ('"other"', f"W/{etag}"):  # a weak tag never matches strongly
        status, h412, got = served.get("/atom.xml", If_Match=failed)
        assert (status, h412["etag"]) == (412, etag) and b"precondition failed" in got
    earlier = formatdate(time.time() - 10 * 365 * 86400, usegmt=True)
    assert served.get("/atom.xml", If_Unmodified_Since=earlier)[0] == 412
    assert served.get("/atom.xml", If_Unmodified_Since=last_modified)[0] == 200
    assert served.get("/atom.xml", If_Unmodified_Since="not a date")[0] == 200
    # If-Match is asked first: a tag that holds makes If-Unmodified-Since no matter
    assert served.get("/atom.xml", If_Match=etag, If_Unmodified_Since=earlier)[0] == 200


def test_if_modified_since_later_than_the_server_clock_is_ignored(served):
    """A date later than the last change but not in the future is a 304; a date in the
    future is no date at all (RFC 7232 3.3, Apache's rule): a reader whose clock runs
    ahead and sends its own time would otherwise be told 304 for every change made
    until the server's clock reaches that time."""
    changed = 1_700_000_000  # 2023-11-14: the file's last change, well in the past
    os.utime(served.feeds / "atom.xml", (changed, changed))
    _, headers, body = served.get("/atom.xml")
    assert headers["last-modified"] == formatdate(changed, usegmt=True)
    later = formatdate(changed + 3600, usegmt=True)  # after the change, before now
    assert served.get("/atom.xml", If_Modified_Since=later)[0] == 304
    # a day ahead of this machine's clock (a reader's clock running fast), and 2096
    for future in (formatdate(time.time() + 86400, usegmt=True), "Wed, 01 Oct 2096 00:00:00 GMT"):
        status, _, again = served.get("/atom.xml", If_Modified_Since=future)
        assert (status, again) == (200, body), future
    # the Last-Modified sent back as it was given is always a 304, even a second ahead
    # (publishing moves a file's time one second on when the clock has not: publish/files.py)
    assert served.get("/atom.xml", If_Modified_Since=headers["last-modified"])[0] == 304


def test_last_modified_is_never_later_than_the_date(served):
    """Publishing moves a file's time a second on when it changed twice in one second
    (publish.write_atomic), and further when the clock was set back: that time can be
    ahead of the clock. RFC 9110 8.8.2.1: a server MUST NOT send a Last-Modified later
    than its Date, and sends the Date in its place; an If-Modified-Since of that early
    date is not a 304 (an older version may have had the same date), the ETag still is."""
    ahead = int(time.time()) + 3600  # the file's time an hour ahead of the clock
    os.utime(served.feeds / "atom.xml", (ahead, ahead))
    for gzip_too in ({}, {"Accept_Encoding": "gzip"}):
        status, headers, _ = served.get("/atom.xml", **gzip_too)
        assert status == 200
        stated = parsedate_to_datetime(headers["last-modified"])
        assert stated <= parsedate_to_datetime(headers["date"]), headers
        assert stated.timestamp() < ahead
        early = headers["last-modified"]
        assert served.get("/atom.xml", If_Modified_Since=early, **gzip_too)[0] == 200
        assert served.get("/atom.xml", If_None_Match=headers["etag"], **gzip_too)[0] == 304
        # the early date sent back as If-Unmodified-Since: no 412 (the file is as it was)
        assert served.get("/atom.xml", If_Unmodified_Since=early, **gzip_too)[0] == 200
        # asked again at once: answered from memory (the server's loop), never later
        again = served.get("/atom.xml", **gzip_too)[1]
        assert parsedate_to_datetime(again["last-modified"]).timestamp() < ahead


def test_a_file_time_the_clock_has_reached_is_the_last_modified_again(served):
    """The answers built while the file's time was ahead (stating the clock's time) are
    built again once the clock reaches it: then that time is the Last-Modified, and the
    304 for it holds."""
    ahead = int(time.time()) + 1
    os.utime(served.feeds / "atom.xml", (ahead, ahead))
    served.get("/atom.xml")  # built now, most likely while the file's time is ahead
    while time.time() < ahead + 0.05:
        time.sleep(0.05)
    _, headers, _ = served.get("/atom.xml")
    assert headers["last-modified"] == formatdate(ahead, usegmt=True)
    assert served.get("/atom.xml", If_Modified_Since=headers["last-modified"])[0] == 304


def test_gzip_only_when_the_client_accepts_it(served):
    raw = (served.feeds / "rss.xml").read_bytes()
    status, headers, body = served.get("/rss.xml", Accept_Encoding="br, gzip;q=0.8")
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding"
    assert gzip.decompress(body) == raw and len(body) < len(raw)
    gz_etag = headers["etag"]
    assert served.get("/rss.xml", If_None_Match=gz_etag, Accept_Encoding="gzip")[0] == 304
    # each encoding is its own representation (RFC 9110 8.8.3): the gzip copy's ETag
    # does not validate the plain bytes, nor the plain one the gzip copy, so a client
    # that cached one and now asks for the other gets the bytes it can read
    plain_etag = served.get("/rss.xml")[1]["etag"]
    status, headers, body = served.get("/rss.xml", If_None_Match=gz_etag)
    assert status == 200 and body == raw and headers["etag"] == plain_etag
    status, headers, body = served.get("/rss.xml", If_None_Match=plain_etag, Accept_Encoding="gzip")
    assert status == 200 and gzip.decompress(body) == raw and headers["etag"] == gz_etag
    # RFC 9110 12.4.2: the weight's name "q" is case-insensitive ("Q=0" refuses too)
    for refused in ("gzip;q=0", "identity", "br", "*;q=0", "gzip;Q=0", "br, GZIP ; Q = 0"):
        status, headers, body = served.get("/rss.xml", Accept_Encoding=refused)
        assert "content-encoding" not in headers and body == raw, refused


@pytest.mark.parametrize("path", ["/feed.json", "/atom.xml", "/rss.xml", "/feeds.opml"])
def test_published_files_may_be_read_by_a_page_on_another_site(served, path):
    """A reader or widget running in a browser on another origin fetches the feeds with
    ``fetch()``: without ``Access-Control-Allow-Origin`` the browser withheld every
    answer (the JSON Feed, made for such readers, most of all). The feeds are public and
    sent without credentials, so any origin may read them, a revalidated copy (304)
    too; the HTML pages, not data, stay as they were."""
    origin = "https://reader.example"
    status, headers, _ = served.get(path, Origin=origin)
    assert status == 200 and headers["access-control-allow-origin"] == "*"
    status, headers, _ = served.get(path, Origin=origin, If_None_Match=headers["etag"])
    assert status == 304 and headers["access-control-allow-origin"] == "*"
    status, headers, _ = served.get(path, Origin=origin, Accept_Encoding="gzip")
    assert headers["content-encoding"] == "gzip" and headers["access-control-allow-origin"] == "*"
    assert headers["access-control-expose-headers"] == "ETag, Link"  # a script reads the ETag
    assert "access-control-allow-origin" not in served.get("/", Origin=origin)[1]
    status, headers, _ = served.get("/", method="OPTIONS", Origin=origin)
    assert status == 405 and "access-control-allow-origin" not in headers


def test_a_304_keeps_the_connection_open_unless_the_client_closes_it(served):
    """waitress alone closes after any response without a length, a 304 too."""
    conn = http.client.HTTPConnection(served.host, served.port, timeout=10)
    try:
        conn.request("GET", "/atom.xml")
        first = conn.getresponse()
        first.read()
        etag = first.getheader("ETag")
        answers = []
        for _ in range(3):  # the same connection: http.client fails if it was closed
            conn.request("GET", "/atom.xml", headers={"If-None-Match": etag})
            resp = conn.getresponse()
            answers.append((resp.status, resp.read(), resp.getheader("Connection")))
            assert not resp.will_close
        assert answers == [(304, b"", None)] * 3
        conn.request("GET", "/atom.xml", headers={"If-None-Match": etag, "Connection": "close"})
        resp = conn.getresponse()
        assert resp.status == 304 and resp.will_close
    finally:
        conn.close()


def test_a_republished_feed_replaces_the_cached_bytes_and_etags(served):
    _, plain, _ = served.get("/atom.xml")
    _, zipped, _ = served.get("/atom.xml", Accept_Encoding="gzip")
    assert plain["etag"] != zipped["etag"] and zipped["content-encoding"] == "gzip"
    path = served.feeds / "atom.xml"
    new = path.read_bytes().replace(b"</feed>", b"<!-- changed --></feed>")
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(new)
    tmp.replace(path)  # as publishing does it: a new inode
    # the server's loop answers from memory for READY_FOR after a worker's stat() (the
    # same bytes on disk: test_serve_loop.py); past it, a worker looks at the file again
    time.sleep(READY_FOR + 0.2)
    status, headers, body = served.get("/atom.xml", If_None_Match=plain["etag"])
    assert status == 200 and body == new and headers["etag"] != plain["etag"]
    status, headers, body = served.get("/atom.xml", Accept_Encoding="gzip")
    assert gzip.decompress(body) == new and headers["etag"] != zipped["etag"]


def test_accept_encoding_parsing():
    assert accepts_gzip("gzip") and accepts_gzip("deflate, GZIP;q=0.5") and accepts_gzip("*")
    assert not accepts_gzip("") and not accepts_gzip("gzip;q=0") and not accepts_gzip("*, gzip;q=0")
    assert not accepts_gzip("gzip;Q=0") and not accepts_gzip("*;Q=0.000")
    assert accepts_gzip("gzip;Q=0.5") and accepts_gzip("gzip;seq=0")  # only a parameter q


def test_head_gives_the_get_headers_without_a_body(served):
    _, get_headers, get_body = served.get("/feed.json")
    status, headers, body = served.get("/feed.json", method="HEAD")
    assert status == 200 and body == b""
    assert headers["content-length"] == str(len(get_body))
    assert headers["etag"] == get_headers["etag"]
    assert headers["content-type"] == get_headers["content-type"]


@pytest.mark.parametrize(
    "path",
    [
        "/../config.toml",
        "/%2e%2e/config.toml",
        "/..%2fconfig.toml",
        "/feeds/atom.xml",
        "/entries/../../config.toml",
        "/entries/..%2f..%2fconfig.toml",
        "/entries/%2e%2e",
        "//etc/passwd",
        "/atom.xml/../../config.toml",
        "/config.toml",
        "/state/test.sqlite3",
        "/sources/000_8062ea63522097a7.txt",
        "/atom.xml/",
        "/entries/",
        "/entries/nope",
        "/favicon.ico",
    ],
)
def test_traversal_and_unknown_paths_are_404(served, path):
    status, _, body = served.get(path)
    assert status == 404, path
    assert b"[site]" not in body and b"SQLite" not in body


def test_only_get_and_head(served):
    status, headers, _ = served.get("/atom.xml", method="POST")
    assert status == 405 and headers["allow"] == "GET, HEAD, OPTIONS"


def test_a_changed_feed_file_is_served_fresh(served, site):
    _, before, _ = served.get("/atom.xml")
    (site.sources / "new.txt").write_text(
        "Second release title\n\nOn 5 June 2020 something else happened.\n", encoding="utf-8"
    )
    build_feeds(served.cfg, served.store, NOW)
    time.sleep(READY_FOR + 0.2)  # past the loop's trust in the answer it holds
    status, after, body = served.get("/atom.xml", If_None_Match=before["etag"])
    assert status == 200 and after["etag"] != before["etag"]
    assert b"Second release title" in body


def test_index_has_autodiscovery_subscribe_links_and_entry_pages(served):
    status, headers, body = served.get("/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    doc = lxml.html.fromstring(body)
    alternates = {
        link.get("type"): link.get("href") for link in doc.xpath('//head/link[@rel="alternate"]')
    }
    assert alternates == {
        "application/atom+xml": "atom.xml",
        "application/rss+xml": "rss.xml",
        "application/feed+json": "feed.json",
    }
    hrefs = doc.xpath("//a/@href")
    assert {"atom.xml", "rss.xml", "feed.json"} <= set(hrefs)
    entry_href = next(h for h in hrefs if h.startswith("entries/"))
    # the feed's entry link (no URL of its own) is exactly this page under site.base_url
    link = feedparser.parse((served.feeds / "atom.xml").read_bytes()).entries[0].link
    assert urlsplit(link).path == "/" + entry_href
    status, _, page = served.get("/" + entry_href)
    assert status == 200
    entry = lxml.html.fromstring(page)
    assert entry.xpath("string(//h1)") == SEED_TITLE
    assert "Jingdong" in entry.xpath("string(//article)")
    # the main feeds first, then the entry's own (its language's, its tag's)
    alternates = entry.xpath('//head/link[@rel="alternate"]/@href')
    assert alternates[:3] == ["../atom.xml", "../rss.xml", "../feed.json"]
    assert {"../en/atom.xml", "../tags/economy/atom.xml"} <= set(alternates[3:])


EVIL_TITLE = 'Secretariat & partners discuss <script>alert("x")</script> and <b>bold</b> plans'


def test_html_is_escaped(served, site):
    (site.sources / "evil.txt").write_text(
        EVIL_TITLE + "\n\n"
        "On 4 June 2020 the Secretariat met <img src=x onerror=alert(1)> delegates.\n\n"
        "A second paragraph.\n",
        encoding="utf-8",
    )
    report = build_feeds(served.cfg, served.store, NOW)
    assert report.new == 1 and not report.rejected
    _, _, body = served.get("/")
    assert b"<script>" not in body and b"<b>" not in body
    # a title is plain text: markup in it is left out (the rule for every plain-text field)
    assert b"Secretariat &amp; partners discuss alert(&quot;x&quot;) and bold plans" in body
    href = next(
        h for h in lxml.html.fromstring(body).xpath("//a/@href") if h.startswith("entries/")
    )
    status, headers, page = served.get("/" + href)
    policy = dict(
        (d.split() + [""])[:2] for d in headers["content-security-policy"].split("; ")
    )  # directive -> its first source: none may be missing, none may allow more
    assert status == 200 and policy["default-src"] == "'none'"
    # three directives default-src does not cover: a <base> or a form, and framing
    assert policy["base-uri"] == policy["form-action"] == policy["frame-ancestors"] == "'none'"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert b"<script>" not in page and b"<img" not in page and b"<b>" not in page
    title = lxml.html.fromstring(page).xpath("string(//h1)")
    assert title == 'Secretariat & partners discuss alert("x") and bold plans'


def test_healthz_reports_the_last_scan_and_503_when_it_failed(served):
    status, headers, body = served.get("/healthz")
    assert status == 200 and headers["content-type"] == "application/json"
    doc = json.loads(body)
    assert doc["status"] == "starting" and doc["entries"] == 1 and doc["last_scan"] is None
    t = time.time()
    runs.record(served.store.db, runs.Run("scan", t, t, True, "found=1 new=0"))
    doc = json.loads(served.get("/healthz")[2])
    assert doc["status"] == "ok" and doc["last_scan"]["result"] == "found=1 new=0"
    runs.record(served.store.db, runs.Run("scan", t, t + 1, False, "", "sources: gone"))
    status, _, body = served.get("/healthz")
    doc = json.loads(body)
    assert status == 503 and doc["status"] == "failing"
    assert doc["last_scan"]["error"] == "sources: gone" and doc["last_scan"]["failures"] == 1
    assert doc["last_scan"]["last_ok"] is not None
    assert {"job": "scan", "at": doc["last_scan"]["at"], "error": "sources: gone"} in doc[
        "last_errors"
    ]


def test_healthz_lists_rejected_inputs(served, site):
    (site.sources / "broken.txt").write_bytes(b"\xff\xfe\x00bad")
    build_feeds(served.cfg, served.store, NOW)
    doc = json.loads(served.get("/healthz")[2])
    assert any(e.get("origin") == "broken.txt" for e in doc["last_errors"])


def test_healthz_shows_no_credentials_or_token_of_a_failing_source(site, web):
    """/healthz is public behind the documented proxy: a source refused (a 400) was
    listed under its URL as configured, user name, password and token included."""
    web.expect_request("/feed.xml").respond_with_data("no", status=400)
    url = web.url_for("/feed.xml?token=t0ken").replace("://", "://reader:s3cret@")
    add_source(site, url, name="private", kind="feed")
    cfg = site.config()
    store = Store(cfg.paths.state)
    try:
        (result,) = poll_due(cfg, store, datetime.now(UTC)).results
        assert result.status == "error"
        body = App(lambda: cfg, store).health(cfg).body.decode()
    finally:
        store.close()
    origins = [e["origin"] for e in json.loads(body)["last_errors"] if "origin" in e]
    assert origins == [safe_url(url)]
    assert "s3cret" not in body and "t0ken" not in body


def test_healthz_extras_are_included(site):
    cfg = site.config()
    store = Store(cfg.paths.state)
    app = App(lambda: cfg, store, {"files": lambda s: {"n": 7}, "broken": lambda s: 1 / 0})
    response = app.route("GET", "/healthz", {})
    doc = json.loads(response.body)
    assert doc["files"] == {"n": 7} and "division" in doc["broken"]["error"]


def _call(app: App, path: str) -> tuple[str, bytes]:
    seen: list[str] = []
    body = app({"REQUEST_METHOD": "GET", "PATH_INFO": path}, lambda s, _h: seen.append(s))
    return seen[0], b"".join(body)


def test_errors_become_their_http_status_in_one_place(served):
    app = App(lambda: served.cfg, served.store)
    assert _call(app, "/entries/nope") == ("404 Not Found", b"no entry with id 'nope'\n")

    class Busy(StoreError):
        http_status = 503

    def busy() -> config_mod.Config:
        raise Busy("the store is locked")

    assert _call(App(busy, served.store), "/") == ("503 Service Unavailable", b"internal error\n")

    def broken() -> config_mod.Config:
        raise ConfigError("paths.state: token=hunter2")  # a 5xx never shows its message

    status, body = _call(App(broken, served.store), "/")
    assert (status, body) == ("500 Internal Server Error", b"internal error\n")

    def bug() -> config_mod.Config:
        raise KeyError("surprise")

    assert _call(App(bug, served.store), "/healthz")[0] == "500 Internal Server Error"


def test_a_file_replaced_as_it_is_read_is_dated_by_the_version_read(tmp_path, monkeypatch):
    """The cache looked at the file (stat) and then opened it: a feed published between
    the two was served with the bytes and ETag of the new version and the
    Last-Modified of the old one. The date is now that of the file opened."""
    path = tmp_path / "atom.xml"
    path.write_bytes(b"<feed>old</feed>")
    os.utime(path, (1_700_000_000, 1_700_000_000))
    real_stat = os.stat

    def stat_then_publish(p, *args, **kwargs):
        found = real_stat(p, *args, **kwargs)
        if str(p) == str(path):  # a publish lands right after the look
            fresh = tmp_path / ".atom.xml.new"
            fresh.write_bytes(b"<feed>new</feed>")
            os.utime(fresh, (1_800_000_000, 1_800_000_000))
            os.replace(fresh, path)
        return found

    monkeypatch.setattr(answers.os, "stat", stat_then_publish)
    cached = answers.FeedCache().get(str(path))
    assert cached is not None and cached.body == b"<feed>new</feed>"
    assert cached.last_modified == formatdate(1_800_000_000, usegmt=True)
    assert cached.key[0] == 1_800_000_000 * 10**9
