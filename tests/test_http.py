"""The polite fetcher against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from werkzeug import Request, Response

from conftest import SLOW, SlowReceiver
from scofeed import USER_AGENT
from scofeed.errors import RejectedInput, TemporaryFailure
from scofeed.normalise.entry import TAGS_MAX, stated_tags
from scofeed.sources import http
from scofeed.sources.http import Fetcher, remember
from scofeed.sources.newslist import read_html
from scofeed.sources.remote import fetch_added, read_added
from scofeed.store import sources as source_rows
from servers import HTTPServer, serve

SCO = Path(__file__).resolve().parent / "data" / "sco"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
HTML = "text/html; charset=utf-8"


@pytest.fixture
def store(site):
    return site.store()


@pytest.fixture
def fetcher(store):
    with Fetcher(store) as f:
        yield f


def test_get_names_scofeed_in_the_user_agent(httpserver, fetcher):
    httpserver.expect_request("/a").respond_with_data("<p>hi</p>", content_type=HTML)
    resp = fetcher.get(httpserver.url_for("/a"))
    assert (resp.status, resp.body, resp.content_type, resp.charset) == (
        200,
        b"<p>hi</p>",
        "text/html",
        "utf-8",
    )
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("scofeed/")


def test_conditional_get_sends_remembered_validators(httpserver, fetcher, store):
    def handler(request: Request) -> Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304, headers={"ETag": '"v1"'})
        return Response(
            "<p>listing</p>",
            content_type=HTML,
            headers={"ETag": '"v1"', "Last-Modified": "Tue, 25 Jan 2022 08:00:00 GMT"},
        )

    httpserver.expect_request("/list").respond_with_handler(handler)
    url = httpserver.url_for("/list")
    first = fetcher.get(url, conditional=True)
    assert first.status == 200 and first.etag == '"v1"'
    remember(store, first, NOW)
    second = fetcher.get(url, conditional=True)
    assert second.not_modified and second.body == b""
    request, _ = httpserver.log[1]
    assert request.headers["If-None-Match"] == '"v1"'
    assert request.headers["If-Modified-Since"] == "Tue, 25 Jan 2022 08:00:00 GMT"
    remember(store, second, NOW)
    cached = source_rows.validators(store.db, url)
    assert cached == source_rows.Validators('"v1"', "Tue, 25 Jan 2022 08:00:00 GMT")
    # without conditional the validators are not sent
    fetcher.get(url)
    assert "If-None-Match" not in httpserver.log[2][0].headers


def test_slow_response_times_out_as_temporary(httpserver, fetcher):
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return Response("<p>late</p>", content_type=HTML)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    try:
        with pytest.raises(RejectedInput) as err:
            fetcher.get(httpserver.url_for("/slow"), timeout=0.2)
    finally:
        release.set()
    assert err.value.reason == "temporary: timed out after 0.2 s"
    assert err.value.origin == httpserver.url_for("/slow")


DRIP_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"


@pytest.mark.parametrize(
    ("head", "start"),
    [
        (DRIP_HEAD + b"Content-Length: 300\r\n\r\n", 0),
        (DRIP_HEAD + b"Content-Length: 300\r\n\r\n", -1),
        (DRIP_HEAD + b"Connection: close\r\n\r\n", -1),
    ],
    ids=["dripped-headers", "dripped-body", "dripped-body-without-length"],
)
def test_a_dripping_server_is_cut_off_at_the_deadline(fetcher, head, start):
    """Each byte comes well within the per-read timeout, so only the one deadline for the
    whole answer (4x the timeout: headers and body) can end the fetch; it did not
    (headers dripped for as long as the server liked, a body was read to its end)."""
    # a byte every 0.02 s: 25 times within the per-read timeout, so that a loaded machine
    # stalling the dripper never ends the fetch by that timeout instead (it did, at 0.1)
    dripper = SlowReceiver(head + b"x" * 300, every=0.02, start=len(head) if start else 0)
    try:
        with pytest.raises(TemporaryFailure) as err:
            fetcher.get(dripper.url, timeout=0.5)
    finally:
        dripper.stop()
    # the watchdog's reason: without it the drip (30 s) ends otherwise
    assert err.value.reason == "temporary: no complete answer within 2 s"
    assert err.value.origin == dripper.url


@pytest.mark.parametrize(
    ("scheme", "sent"),
    [("http", b"GET http://sco.test/news "), ("https", b"CONNECT sco.test:443 ")],
)
def test_a_dripping_proxy_is_cut_off_at_the_deadline(fetcher, monkeypatch, scheme, sent):
    """A poll through a proxy named in the environment (HTTP_PROXY, HTTPS_PROXY) went
    through pools without the watchdog, and the CONNECT of an https:// address was made
    before the socket was told to it: a proxy dripping its answer held the poll for as
    long as it liked, where the same answer from the server itself is cut at the
    deadline. Here its header never ends: without the watchdog the proxy hangs up after
    20 s, and the poll reports that instead."""
    dripper = SlowReceiver(DRIP_HEAD + b"X-Pad: " + b"y" * 200, every=0.1)
    monkeypatch.setenv(f"{scheme.upper()}_PROXY", dripper.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        with pytest.raises(TemporaryFailure) as err:
            fetcher.get(f"{scheme}://sco.test/news", timeout=0.5)
    finally:
        dripper.stop()
    assert err.value.reason == "temporary: no complete answer within 2 s"
    # the request went to the proxy, for the server's address, and its answer was cut
    # before the proxy had sent it all (without the watchdog it had: "whole")
    assert dripper.heads and dripper.heads[0].startswith(sent)
    assert dripper.ended.wait(10) and dripper.outcomes[0] in ("client gone", "stopped")


def test_the_deadline_covers_the_whole_fetch_redirects_included(fetcher):
    """Each hop of a redirect loop dripped its answer within the deadline; the fetch as
    a whole took six times that before "more than 5 redirects" ended it."""
    hop = b"HTTP/1.1 302 Found\r\nLocation: /hook\r\nConnection: close\r\n\r\n"
    dripper = SlowReceiver(hop, every=2.5 / len(hop))  # 2.5 s a hop; the deadline is 4 s
    try:
        with pytest.raises(TemporaryFailure) as err:
            fetcher.get(dripper.url, timeout=1)
    finally:
        dripper.stop()
    # the watchdog's reason: without it "more than 5 redirects" ends the loop (15 s)
    assert err.value.reason == "temporary: no complete answer within 4 s"


def test_name_resolution_is_inside_the_deadline(httpserver, fetcher, slow_resolver):
    """A resolver that does not answer (conftest's stand-in) ends the fetch at the
    deadline, as it does a push: the lookup runs in a thread of its own given what is
    left of the deadline. Without that the fetch would wait for the resolver (60 s) and
    then be answered."""
    httpserver.expect_request("/a").respond_with_data("<p>hi</p>", content_type=HTML)
    url = f"http://{SLOW}:{httpserver.port}/a"
    with pytest.raises(TemporaryFailure) as err:
        fetcher.get(url, timeout=0.25)
    assert slow_resolver["calls"] == 1 and not slow_resolver["answered"].is_set()
    assert err.value.reason == "temporary: no complete answer within 1 s"
    assert httpserver.log == []


@pytest.mark.parametrize(
    ("status", "reason"),
    [(404, "HTTP 404 NOT FOUND"), (410, "HTTP 410 GONE"), (500, "temporary: server error 500")],
)
def test_error_statuses(httpserver, fetcher, status, reason):
    httpserver.expect_request("/e").respond_with_data("no", status=status, content_type=HTML)
    with pytest.raises(RejectedInput) as err:
        fetcher.get(httpserver.url_for("/e"))
    assert err.value.reason == reason


def test_redirect_within_the_host_is_followed(httpserver, fetcher):
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/new"}
    )
    httpserver.expect_request("/new").respond_with_data("<p>moved</p>", content_type=HTML)
    resp = fetcher.get(httpserver.url_for("/old"))
    assert resp.url == httpserver.url_for("/new") and resp.body == b"<p>moved</p>"


def test_redirect_to_another_host_is_rejected_not_followed(httpserver, fetcher):
    elsewhere = httpserver.url_for("/stolen").replace("localhost", "127.0.0.1")
    httpserver.expect_request("/away").respond_with_data(
        "", status=302, headers={"Location": elsewhere}
    )
    httpserver.expect_request("/stolen").respond_with_data("<p>x</p>", content_type=HTML)
    with pytest.raises(RejectedInput) as err:
        fetcher.get(httpserver.url_for("/away"))
    assert err.value.reason == "redirect to another host (127.0.0.1), not followed"
    assert [r.path for r, _ in httpserver.log] == ["/away"]


def test_redirect_to_another_port_of_the_host_is_rejected_not_followed(httpserver, fetcher):
    """The host alone was compared: a page redirecting to another port of its host
    (``:22``, an admin port) had scofeed knock on it."""
    other = HTTPServer(host="localhost", port=0)
    other.expect_request("/admin").respond_with_data("<p>x</p>", content_type=HTML)
    other.start()
    try:
        httpserver.expect_request("/away").respond_with_data(
            "", status=302, headers={"Location": other.url_for("/admin")}
        )
        with pytest.raises(RejectedInput) as err:
            fetcher.get(httpserver.url_for("/away"))
        assert err.value.reason == "redirect to another port, not followed"
        assert [r.path for r, _ in httpserver.log] == ["/away"] and other.log == []
    finally:
        other.clear()
        other.stop()


@pytest.mark.parametrize(
    ("url", "target", "same"),
    [
        ("http://sco.example/news/", "http://sco.example/1.html", True),
        ("http://sco.example/news/", "https://SCO.example./1.html", True),  # to https
        ("https://sco.example/news/", "http://sco.example:80/1.html", True),
        ("http://sco.example:8080/news/", "http://sco.example:8080/1.html", True),
        ("http://sco.example:8080/news/", "https://sco.example/1.html", True),  # its default
        ("http://sco.example/news/", "http://sco.example:22/1.html", False),
        ("http://sco.example/news/", "http://sco.example:443/1.html", False),  # not http's
        ("http://sco.example/news/", "http://sco.example:99999/1.html", False),  # no port
        ("http://sco.example/news/", "http://other.example/1.html", False),
        ("http://sco.example/news/", "http://sco.example.evil.example/1.html", False),
    ],
)
def test_same_site_is_the_host_at_its_port_or_a_default_one(url, target, same):
    assert http.same_site(url, target) is same


def test_redirect_loop_is_cut(httpserver, fetcher):
    httpserver.expect_request("/loop").respond_with_data(
        "", status=302, headers={"Location": "/loop"}
    )
    with pytest.raises(RejectedInput, match="more than 5 redirects"):
        fetcher.get(httpserver.url_for("/loop"))


def test_non_html_content_type_is_rejected(httpserver, fetcher):
    httpserver.expect_request("/pdf").respond_with_data(b"%PDF-1.4", content_type="application/pdf")
    with pytest.raises(RejectedInput) as err:
        fetcher.get(httpserver.url_for("/pdf"))
    assert err.value.reason == (
        "content type application/pdf where text/html or application/xhtml+xml was expected"
    )


def test_huge_body_is_rejected_by_length_and_while_streaming(httpserver, fetcher):
    big = b"<p>" + b"x" * 50_000 + b"</p>"
    httpserver.expect_request("/big").respond_with_data(big, content_type=HTML)

    def chunks():
        for _ in range(100):
            yield b"y" * 10_000

    httpserver.expect_request("/stream").respond_with_handler(
        lambda request: Response(chunks(), content_type=HTML, direct_passthrough=True)
    )
    with pytest.raises(RejectedInput) as err:
        fetcher.get(httpserver.url_for("/big"), max_bytes=10_000)
    assert err.value.reason == f"too large ({len(big)} bytes, limit 10000)"
    with pytest.raises(RejectedInput) as err:
        fetcher.get(httpserver.url_for("/stream"), max_bytes=100_000)
    assert err.value.reason == "too large (over 100000 bytes, limit 100000)"


def test_non_web_urls_are_refused(fetcher):
    for url in ("file:///etc/passwd", "ftp://x.example/a", "javascript:alert(1)"):
        with pytest.raises(RejectedInput, match="not an http"):
            fetcher.get(url)


def test_one_host_waits_for_the_delay_between_requests(httpserver, store):
    waits: list[float] = []
    f = Fetcher(store, clock=lambda: 100.0, sleep=waits.append, gates=http.HostGates())
    httpserver.expect_request("/d").respond_with_data("<p>d</p>", content_type=HTML)
    url = httpserver.url_for("/d")
    f.get(url, delay=3.0)
    f.get(url, delay=3.0)
    f.close()
    assert waits == [3.0]  # the clock stood still: the second request waited the whole delay


def fetch_release(cfg, store, url, now):
    resp = fetch_added(cfg, store, url, now)
    return (resp, *read_added(cfg, url, resp, now, None))


def test_fetch_release_for_scofeed_add(httpserver, site, store):
    page = (SCO / "article_en.html").read_bytes()
    httpserver.expect_request("/20220125/813122.html").respond_with_data(page, content_type=HTML)
    httpserver.expect_request("/note.txt").respond_with_data(
        "A title\n\nOn 3 June 2020, a body.\n", content_type="text/plain"
    )
    url = httpserver.url_for("/20220125/813122.html")
    resp, suffix, releases = fetch_release(site.config(), store, url, NOW)
    assert (resp.body, suffix) == (page, ".html")
    (r,) = releases
    assert r.title == "SCO Secretary-General meets with Ambassador of Pakistan"
    assert r.url == url and r.published is not None and r.published.day == 25
    _resp, suffix, releases = fetch_release(
        site.config(), store, httpserver.url_for("/note.txt"), NOW
    )
    assert suffix == ".txt" and releases[0].url == httpserver.url_for("/note.txt")
    httpserver.expect_request("/x.pdf").respond_with_data(b"%PDF", content_type="application/pdf")
    with pytest.raises(RejectedInput, match="content type application/pdf"):
        fetch_release(site.config(), store, httpserver.url_for("/x.pdf"), NOW)


def test_content_type_parsing():
    assert http._content_type('text/HTML; Charset="KOI8-R"') == ("text/html", "KOI8-R")
    assert http._content_type("") == ("", None)


def test_a_redirect_logs_no_credentials_or_query_even_at_debug(httpserver, fetcher, caplog):
    """A source URL's user name, password and query (a token) are shown by no log line,
    `-vv` included: the redirect line at DEBUG wrote both URLs whole."""
    httpserver.expect_request("/old").respond_with_data(
        "", status=301, headers={"Location": "/new?token=t0ken"}
    )
    httpserver.expect_request("/new").respond_with_data("<p>moved</p>", content_type=HTML)
    url = httpserver.url_for("/old?token=t0ken").replace("://", "://reader:s3cret@")
    with caplog.at_level("DEBUG"):
        assert fetcher.get(url).body == b"<p>moved</p>"
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("scofeed"))
    assert "redirect url=" in ours
    assert "s3cret" not in ours and "t0ken" not in ours


def test_reading_a_page_and_capping_its_tags_log_no_credentials(caplog):
    """The article pages of a source whose URL carries a user name and password (joined
    from its listing's relative links) are logged without them, as the source is."""
    origin = "https://reader:s3cret@news.example/sco/1.html?token=t0ken"
    page = "<html><body><article><h1>Title</h1><p>Some text of the release.</p></article>"
    with caplog.at_level("DEBUG"):
        assert read_html(origin, page, None)
        assert len(stated_tags(origin, tuple(f"tag{n}" for n in range(TAGS_MAX + 5)))) == TAGS_MAX
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("scofeed"))
    assert "page_read origin=" in ours and "tags_capped origin=" in ours
    assert "s3cret" not in ours and "t0ken" not in ours


@pytest.mark.parametrize("length", ["9" * 5000, "\u00b2"])
def test_a_content_length_no_int_can_hold_is_refused_or_ignored_not_a_crash(
    httpserver, fetcher, length
):
    """A Content-Length of 5,000 digits is past int()'s limit, and "²" is a digit to
    isdigit() only: the fetch raised ValueError, a poll failing with a traceback."""

    def answer(request):
        resp = Response("<p>hi</p>", content_type=HTML)
        resp.headers["Content-Length"] = length
        return resp

    httpserver.expect_request("/a").respond_with_handler(answer)
    if length.isascii():
        with pytest.raises(RejectedInput, match="too large"):
            fetcher.get(httpserver.url_for("/a"))
    else:
        assert fetcher.get(httpserver.url_for("/a")).body.startswith(b"<p>hi</p>")


class _Dripping(BaseHTTPRequestHandler):
    """A page whose body trickles in over ~0.5 s; when each request came, and when its
    last bytes were sent."""

    times: list[tuple[float, float]]

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        came = time.monotonic()
        body = b"<p>" + b"x" * 12 + b"</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        last = came
        for n in range(0, len(body), 3):
            if n:
                time.sleep(0.1)
            last = time.monotonic()  # no client has the body whole before this
            self.wfile.write(body[n : n + 3])
            self.wfile.flush()
        self.times.append((came, last))

    def log_message(self, *_args: object) -> None:
        pass


def test_one_request_at_a_time_per_host_bodies_included(store):
    """The host's gate was held until the headers came: four polls of one site read
    their bodies at once, where the docs promise one request at a time per host."""
    handler = type("Handler", (_Dripping,), {"times": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    serve(server)
    url = f"http://127.0.0.1:{server.server_address[1]}/page"
    gates = http.HostGates()
    fetchers = [Fetcher(store, gates=gates) for _ in range(2)]
    try:
        threads = [threading.Thread(target=f.get, args=(url,)) for f in fetchers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        for f in fetchers:
            f.close()
        server.shutdown()
        server.server_close()
    (first, second) = sorted(handler.times)
    assert second[0] >= first[1], handler.times  # the second came once the first ended


def test_a_fetch_waits_for_its_host_no_longer_than_it_may_take(httpserver, store):
    """A poll waiting for its host's other request held a poll thread for as long as
    that lasted: many sources on one slow site held every thread, and the other sites'
    polls waited behind them. The wait counts in the fetch's deadline (4x the timeout)."""
    waits = []  # the bound each wait for the host is given (no clock read)

    class Recorded(http.HostGates):
        def take(self, host, timeout, delay):
            waits.append((timeout, delay))
            return super().take(host, timeout, delay)

    gates = Recorded()
    httpserver.expect_request("/d").respond_with_data("<p>d</p>", content_type=HTML)
    url = httpserver.url_for("/d")
    lock, _last = gates.of(http.host_of(url))
    lock.acquire()  # another request to the host, running on
    f = Fetcher(store, gates=gates)
    try:  # (the lock is held until after: a wait without its bound would never end)
        with pytest.raises(TemporaryFailure, match="its host was busy with our other requests"):
            f.get(url, timeout=0.25)
        assert waits == [(http.DEADLINE * 0.25, 0.0)], waits  # the fetch's own deadline
    finally:
        lock.release()
    assert f.get(url, timeout=0.25).status == 200  # the host free again
    f.close()


def test_sources_sharing_a_polite_host_wait_their_turns_without_failing(httpserver, store):
    """The wait for the host counted the others' politeness ``delay`` against the
    fetch's deadline: three sources on one quick host with a delay longer than that
    deadline failed as if the host were busy. Each request ahead adds its delay."""
    gates = http.HostGates()
    httpserver.expect_request("/d").respond_with_data("<p>d</p>", content_type=HTML)
    url = httpserver.url_for("/d")
    fetchers = [Fetcher(store, gates=gates) for _ in range(3)]
    results: list[object] = []

    def poll(f: Fetcher) -> None:
        try:
            results.append(f.get(url, timeout=0.25, delay=1.0).status)  # deadline 1 s
        except TemporaryFailure as exc:
            results.append(exc.reason)

    threads = [threading.Thread(target=poll, args=(f,)) for f in fetchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for f in fetchers:
        f.close()
    assert results == [200, 200, 200]
