"""Answers given in waitress's poll loop (``StrictChannel.answer_ready``) against a real
server on 127.0.0.1, over raw sockets: the same bytes a worker thread writes (compared
with a second server that has the loop answers off), pipelined requests in order, no
stall behind busy workers, and a rebuilt feed answered in its new version."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from waitress.adjustments import Adjustments

from scofeed.build import build as build_feeds
from scofeed.serve import App, HttpServer
from scofeed.serve import parser as parser_module
from scofeed.serve.app import READY_FOR
from scofeed.serve.heads import WsgiHeaders
from scofeed.serve.parser import StrictParser
from scofeed.store import Store

NOW = datetime(2026, 11, 1, tzinfo=UTC)


class WorkerApp(App):
    """The real app, counting the requests that reach it (a worker thread's); ``/slow``
    waits for ``release`` first (then 404s, as any unknown path)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0
        self._lock = threading.Lock()
        self.release = threading.Event()
        self.slow_started = threading.Semaphore(0)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self._lock:
            self.calls += 1
        if environ["PATH_INFO"] == "/slow":
            self.slow_started.release()
            self.release.wait(30)
        return super().__call__(environ, start_response)


@dataclass
class Pair:
    loop: tuple[str, int]  # loop answers on (the default)
    workers: tuple[str, int]  # loop answers off: every request through a worker
    app: WorkerApp  # the loop server's app
    etags: dict[str, str]  # path -> its plain ETag; path + " gz" -> its gzip one


def receive(sock: socket.socket, methods: list[str]) -> tuple[list[bytes], bool]:
    """One raw response per request method (bodies by Content-Length; none for HEAD,
    304 or 1xx); and whether the server closed the connection after them."""
    data = b""
    answers = []
    for method in methods:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise AssertionError(f"closed after {len(answers)} answers: {data[:200]!r}")
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        m = re.search(rb"\r\nContent-Length: (\d+)", head)
        size = 0 if method == "HEAD" or status == 304 or m is None else int(m.group(1))
        while len(data) < size:
            chunk = sock.recv(65536)
            if not chunk:
                raise AssertionError("closed inside a body")
            data += chunk
        answers.append(head + b"\r\n\r\n" + data[:size])
        data = data[size:]
    assert data == b"", data[:200]
    closed = False
    if answers and b"\r\nConnection: close" in answers[-1]:
        try:  # the server closes once it has sent it
            closed = sock.recv(1) == b""
        except ConnectionResetError:  # closed with some of the request unread
            closed = True
    return answers, closed


def exchange(addr: tuple[str, int], raw: bytes, methods: list[str]) -> tuple[list[bytes], bool]:
    with socket.create_connection(addr, timeout=10) as sock:
        sock.sendall(raw)
        return receive(sock, methods)


def undated(answer: bytes) -> bytes:
    """The answer with its Date header's value blanked (the two servers may straddle a
    second)."""
    return re.sub(rb"\r\nDate: [^\r]*", b"\r\nDate: -", answer)


def request(method: str, path: str, version: str = "1.1", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "Host: 127.0.0.1"]
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


PATHS = ["/atom.xml", "/rss.xml", "/feed.json", "/en/atom.xml", "/tags/economy/rss.xml"]
PATHS += ["/feeds.opml"]


@pytest.fixture
def pair(site) -> Iterator[Pair]:
    cfg = site.config()
    stores = [Store(cfg.paths.state), Store(cfg.paths.state)]
    build_feeds(cfg, stores[0], NOW)
    app = WorkerApp(lambda: cfg, stores[0])
    app.ready_for = 3600  # no expiry while a test runs (the rebuild test sets its own)
    servers = [
        HttpServer(app, "127.0.0.1", 0),
        HttpServer(App(lambda: cfg, stores[1]), "127.0.0.1", 0, answer_in_loop=False),
    ]
    for server in servers:
        server.start()
    try:
        etags = {}
        for path in PATHS:  # each answer built once by a worker: ready from now on
            for gz in ("", " gz"):
                extra = {"Accept_Encoding": "gzip"} if gz else {}
                for server in servers:
                    (answer,), _ = exchange(
                        server.addresses[0], request("GET", path, **extra), ["GET"]
                    )
                etags[path + gz] = re.search(rb"\r\nEtag: ([^\r]*)", answer)[1].decode()
        yield Pair(servers[0].addresses[0], servers[1].addresses[0], app, etags)
    finally:
        app.release.set()
        for server in servers:
            server.stop()
        for store in stores:
            store.close()


def cases(etags: dict[str, str]) -> list[tuple[str, bytes]]:
    """(method, request) for the GETs and HEADs the loop answers."""
    out = []
    for path in PATHS:
        etag, etag_gz = etags[path], etags[path + " gz"]
        out += [
            ("GET", request("GET", path)),
            ("HEAD", request("HEAD", path)),
            ("GET", request("GET", path, Accept_Encoding="gzip")),
            ("HEAD", request("HEAD", path, Accept_Encoding="br, gzip;q=0.5")),
            ("GET", request("GET", path, If_None_Match=etag)),
            ("GET", request("GET", path, If_None_Match=etag_gz, Accept_Encoding="gzip")),
            ("GET", request("GET", path, If_None_Match=etag_gz)),  # the other encoding's
            ("GET", request("GET", path, If_None_Match=etag, Accept_Encoding="gzip")),
            ("HEAD", request("HEAD", path, If_None_Match=f'"x", W/{etag}')),
            ("GET", request("GET", path, If_None_Match='"other"')),
        ]
    etag = etags["/atom.xml"]
    out += [
        ("GET", request("GET", "/atom.xml", If_Modified_Since="Sat, 01 Jan 2000 00:00:00 GMT")),
        ("GET", request("GET", "/atom.xml", If_Modified_Since="Fri, 01 Jan 2100 00:00:00 GMT")),
        ("GET", request("GET", "/atom.xml", If_Modified_Since="not a date")),
        ("GET", request("GET", "/atom.xml", Connection="close")),
        ("GET", request("GET", "/atom.xml", If_None_Match=etag, Connection="close")),
        ("GET", request("GET", "/atom.xml", "1.0")),
        ("GET", request("GET", "/atom.xml", "1.0", Connection="keep-alive")),
        ("HEAD", request("HEAD", "/atom.xml", "1.0", Connection="keep-alive")),
        ("GET", request("GET", "/atom.xml", "1.0", If_None_Match=etag)),
        ("GET", request("GET", "/atom.xml", "1.0", If_None_Match=etag, Connection="keep-alive")),
        ("GET", request("GET", "//atom.xml")),  # waitress's PATH_INFO: /atom.xml
        ("GET", request("GET", "/atom.xml", Connection="keep-alive, close")),
        # a 412 from the loop lacked the nosniff and Vary of the worker's
        ("GET", request("GET", "/atom.xml", If_Match='"nope"')),
        ("HEAD", request("HEAD", "/rss.xml", If_Match='"nope"', Accept_Encoding="gzip")),
    ]
    return out


def test_loop_answers_are_the_bytes_a_worker_writes(pair):
    for method, raw in cases(pair.etags):
        calls = pair.app.calls
        loop = exchange(pair.loop, raw, [method])
        assert pair.app.calls == calls, raw  # answered in the loop: no worker saw it
        workers = exchange(pair.workers, raw, [method])
        assert [undated(a) for a in loop[0]] == [undated(a) for a in workers[0]], raw
        assert loop[1] == workers[1], raw  # closed alike (HTTP/1.0, Connection: close)


def test_answers_given_in_the_loop_are_counted_for_metrics(pair):
    """``scofeed_http_requests_total`` counts what the loop answers from memory too: the
    feeds' GETs and 304s, most of what readers send, never reach a worker."""
    before = pair.app.requests.counts()
    calls = pair.app.calls
    exchange(pair.loop, request("GET", "/atom.xml"), ["GET"])
    etag = pair.etags["/atom.xml"]
    exchange(pair.loop, request("GET", "/rss.xml", If_None_Match=pair.etags["/rss.xml"]), ["GET"])
    exchange(pair.loop, request("GET", "/atom.xml", If_None_Match=etag), ["GET"])
    assert pair.app.calls == calls  # all three answered in the loop
    exchange(pair.loop, request("GET", "/nothing-here"), ["GET"])  # a worker's
    after = pair.app.requests.counts()
    grew = {key: n - before.get(key, 0) for key, n in after.items() if n != before.get(key, 0)}
    assert grew == {("feed", 200): 1, ("feed", 304): 2, ("other", 404): 1}


def test_the_answers_are_complete(pair):
    """A spot check that what both servers agree on is right."""
    (full,), closed = exchange(pair.loop, request("GET", "/atom.xml"), ["GET"])
    head, _, body = full.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and not closed
    assert f'"{hashlib.sha256(body).hexdigest()[:32]}"' == pair.etags["/atom.xml"]
    assert b"\r\nContent-Length: %d\r\n" % len(body) in head
    for line in (b"Vary: Accept-Encoding", b"Cache-Control: public, max-age=60", b"Server: "):
        assert b"\r\n" + line in head
    (unchanged,), closed = exchange(
        pair.loop,
        request("GET", "/atom.xml", "1.0", If_None_Match=pair.etags["/atom.xml"]),
        ["GET"],
    )
    assert unchanged.startswith(b"HTTP/1.0 304 Not Modified\r\n") and closed
    assert b"Content-Length" not in unchanged and b"\r\nConnection: close" in unchanged
    for _ in range(2):  # the second from the loop
        (failed,), _ = exchange(pair.loop, request("GET", "/atom.xml", If_Match='"x"'), ["GET"])
        assert failed.startswith(b"HTTP/1.1 412 Precondition Failed\r\n")
        for line in (b"Vary: Accept-Encoding", b"X-Content-Type-Options: nosniff"):
            assert b"\r\n" + line + b"\r\n" in failed


def test_everything_else_goes_to_the_workers(pair):
    others = [
        ("GET", request("GET", "/atom.xml?x=1")),  # a query: the worker decides
        ("POST", request("POST", "/atom.xml", Content_Length="0")),
        ("GET", request("GET", "/atom.xml", Content_Length="2") + b"{}"),  # a body
        ("GET", request("GET", "/")),
        ("GET", request("GET", "/healthz")),
        ("GET", request("GET", "/nope.xml")),
        ("GET", request("GET", "/atom.xml", X_Big="x" * 300_000)),  # over the header limit
    ]
    for method, raw in others:
        calls = pair.app.calls
        loop = exchange(pair.loop, raw, [method])
        assert pair.app.calls == calls + (0 if b"X-Big" in raw else 1), raw[:80]
        workers = exchange(pair.workers, raw, [method])
        if b"/healthz" not in raw and b"GET / " not in raw:  # timings and ETags differ there
            assert [undated(a) for a in loop[0]] == [undated(a) for a in workers[0]], raw[:80]
        assert loop[1] == workers[1]


def test_pipelined_requests_are_answered_in_order(pair):
    etag = pair.etags["/atom.xml"]
    sequence = [
        ("GET", request("GET", "/atom.xml", If_None_Match=etag)),  # the loop
        ("GET", request("GET", "/nope")),  # a worker
        ("GET", request("GET", "/atom.xml")),  # behind a worker's: a worker, in turn
        ("HEAD", request("HEAD", "/rss.xml")),
        ("GET", request("GET", "/feed.json", If_None_Match=pair.etags["/feed.json"])),
        ("GET", request("GET", "/atom.xml", Accept_Encoding="gzip")),
        ("GET", request("GET", "/en/atom.xml")),
    ]
    methods = [m for m, _ in sequence]
    raw = b"".join(r for _, r in sequence)
    one_by_one = [exchange(pair.workers, r, [m])[0][0] for m, r in sequence]
    for addr in (pair.loop, pair.workers):
        answers, _ = exchange(addr, raw, methods)
        assert [undated(a) for a in answers] == [undated(a) for a in one_by_one]
    # the first answer closes the connection: what was pipelined behind it is dropped
    closing = request("GET", "/atom.xml", If_None_Match=etag, Connection="close")
    for addr in (pair.loop, pair.workers):
        answers, closed = exchange(addr, closing + request("GET", "/rss.xml"), ["GET"])
        assert answers[0].startswith(b"HTTP/1.1 304 ") and closed


def test_busy_workers_do_not_hold_up_ready_answers(pair):
    """All four workers stuck in slow requests; a feed reader is still answered."""
    slow = []
    try:
        for _ in range(4):
            sock = socket.create_connection(pair.loop, timeout=10)
            sock.sendall(request("GET", "/slow"))
            slow.append(sock)
        for _ in range(4):
            assert pair.app.slow_started.acquire(timeout=10)
        etag = pair.etags["/atom.xml"]
        (answer,), _ = exchange(pair.loop, request("GET", "/atom.xml", If_None_Match=etag), ["GET"])
        assert answer.startswith(b"HTTP/1.1 304 ")
        (answer,), _ = exchange(pair.loop, request("GET", "/rss.xml"), ["GET"])
        assert answer.startswith(b"HTTP/1.1 200 ")
        pair.app.release.set()
        for sock in slow:
            (answer,), _ = receive(sock, ["GET"])
            assert answer.startswith(b"HTTP/1.1 404 ")
    finally:
        pair.app.release.set()
        for sock in slow:
            sock.close()


def test_a_rebuilt_feed_is_answered_in_its_new_version(pair, site):
    old = pair.etags["/atom.xml"]
    extra = site.sources / "001_second.txt"
    shutil.copy(next(site.sources.glob("*.txt")), extra)
    text = extra.read_text(encoding="utf-8").replace("Jingdong", "Alibaba", 1)
    extra.write_text(text, encoding="utf-8")
    cfg = site.config()
    store = Store(cfg.paths.state)
    try:
        build_feeds(cfg, store, NOW)
    finally:
        store.close()
    fresh = (site.feeds / "atom.xml").read_bytes()
    assert b"Alibaba" in fresh
    # rewritten within the second of the first build, the file's time is a second ahead
    # (publish.write_atomic), and answers stating the clock's time expire when the clock
    # gets there: what follows would depend on where in the second the build fell
    past = time.time() - 10
    os.utime(site.feeds / "atom.xml", (past, past))

    def get(*headers: tuple[str, str]) -> bytes:
        return exchange(pair.loop, request("GET", "/atom.xml", **dict(headers)), ["GET"])[0][0]

    # published by this process (the daemon's own build): the answer in memory is not
    # trusted any more, however long ready_for is; a worker looks at the file again
    calls = pair.app.calls
    answer = get(("If_None_Match", old))
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(fresh)
    assert pair.app.calls == calls + 1
    # and the loop answers the new version from then on
    calls = pair.app.calls
    assert get().endswith(fresh) and pair.app.calls == calls


def test_a_feed_rewritten_by_another_process_stands_until_ready_for(pair, site):
    path = site.feeds / "atom.xml"
    old = pair.etags["/atom.xml"]
    new = path.read_bytes().replace(b"</feed>", b"<!-- changed --></feed>")
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(new)
    tmp.replace(path)  # not through scofeed.publish: as `scofeed build` elsewhere does

    def get(*headers: tuple[str, str]) -> bytes:
        return exchange(pair.loop, request("GET", "/atom.xml", **dict(headers)), ["GET"])[0][0]

    # within ready_for, the answer in memory stands (no stat() in the loop)
    assert get(("If_None_Match", old)).startswith(b"HTTP/1.1 304 ")
    pair.app.ready_for = 0  # expired: a worker looks at the file again
    answer = get(("If_None_Match", old))
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(new)


def test_the_shipped_expiry_lets_a_rewritten_feed_through(pair, site):
    pair.app.ready_for = READY_FOR
    path = site.feeds / "atom.xml"
    new = path.read_bytes().replace(b"</feed>", b"<!-- changed --></feed>")
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(new)
    tmp.replace(path)  # as publishing does it: a new inode
    time.sleep(READY_FOR + 0.2)  # not a timing assertion: past the expiry, whatever the load
    (answer,), _ = exchange(pair.loop, request("GET", "/atom.xml"), ["GET"])
    assert answer.endswith(new)


def test_a_removed_feed_is_a_404_once_its_answers_expire(pair, site):
    (site.feeds / "rss.xml").unlink()
    pair.app.ready_for = 0  # expired: the worker finds the file gone and drops its answers
    (answer,), _ = exchange(pair.loop, request("GET", "/rss.xml"), ["GET"])
    assert answer.startswith(b"HTTP/1.1 404 ")
    pair.app.ready_for = 3600  # nothing left to answer from: still the worker's 404
    calls = pair.app.calls
    (answer,), _ = exchange(pair.loop, request("GET", "/rss.xml"), ["GET"])
    assert answer.startswith(b"HTTP/1.1 404 ") and pair.app.calls == calls + 1


def test_more_pipelined_output_than_the_loop_buffers_goes_on_through_the_workers(pair, site):
    """Past outbuf_overflow (1 MB) of unsent answers, the loop hands over to a worker;
    the answers still come whole and in order."""
    path = site.feeds / "atom.xml"  # a 40 KB feed: a few dozen answers fill a megabyte
    path.write_bytes(path.read_bytes().replace(b"</feed>", b"<!--" + b"x" * 40_000 + b"--></feed>"))
    pair.app.ready_for = 0  # a worker reads the new version ...
    exchange(pair.loop, request("GET", "/atom.xml"), ["GET"])
    pair.app.ready_for = 3600  # ... and the loop answers it from then on
    etag = pair.etags["/feed.json"]
    short = [  # requests as short as can be: hundreds arrive in one 8 KB read
        b"GET /atom.xml HTTP/1.1\r\nHost: a\r\n\r\n",
        b"GET /feed.json HTTP/1.1\r\nHost: a\r\nIf-None-Match: " + etag.encode() + b"\r\n\r\n",
    ]
    sequence = [short[i % 2] for i in range(400)]  # 8 MB of answers asked for at once
    expected = {raw: exchange(pair.workers, raw, ["GET"])[0][0] for raw in short}
    calls = pair.app.calls
    answers, _ = exchange(pair.loop, b"".join(sequence), ["GET"] * len(sequence))
    assert [undated(a) for a in answers] == [undated(expected[r]) for r in sequence]
    assert 0 < pair.app.calls - calls < len(sequence)  # some by the loop, some by workers


def test_a_loop_answer_is_dated_when_it_is_given(pair):
    """The loop reuses each answer's head within a second: its Date still moves on."""
    etag = pair.etags["/atom.xml"]
    dates = []
    for _ in range(2):
        time.sleep(1.05 - time.time() % 1)  # just into the next second
        before = time.time()
        (answer,), _ = exchange(pair.loop, request("GET", "/atom.xml", If_None_Match=etag), ["GET"])
        after = time.time()
        stated = re.search(rb"\r\nDate: ([^\r]*)", answer)[1].decode()
        assert int(before) <= parsedate_to_datetime(stated).timestamp() <= after
        dates.append(stated)
    assert dates[0] != dates[1]


def test_the_loop_reads_request_headers_under_their_wsgi_names():
    headers = WsgiHeaders({"IF_NONE_MATCH": '"a"', "ACCEPT_ENCODING": "gzip"})
    assert headers.get("HTTP_IF_NONE_MATCH") == '"a"' and headers["HTTP_ACCEPT_ENCODING"] == "gzip"
    assert headers.get("HTTP_IF_MODIFIED_SINCE") is None and headers.get("IF_NONE_MATCH") is None
    assert dict(headers) == {"HTTP_IF_NONE_MATCH": '"a"', "HTTP_ACCEPT_ENCODING": "gzip"}
    with pytest.raises(KeyError):
        headers["ACCEPT_ENCODING"]


@pytest.mark.parametrize(
    "since",
    [
        "Sat, 99999999999999999999 Jan 2000 00:00:00 GMT",  # a day past any C long
        "Sat, 01 Jan 2000 99999999999999999999:00:00 GMT",
        "Sat, 01 Jan 2000 00:00:00 +99999999999999",
    ],
)
def test_an_if_modified_since_too_large_to_be_a_date_is_ignored(pair, since):
    """RFC 9110 13.1.3: a value that is not a valid HTTP-date is ignored (a full 200),
    by the loop and by a worker alike, not a 500 or a dropped connection."""
    for addr in (pair.loop, pair.workers):
        (answer,), _ = exchange(addr, request("GET", "/atom.xml", If_Modified_Since=since), ["GET"])
        assert answer.startswith(b"HTTP/1.1 200 "), (addr, answer[:100])


def _parsed(head: bytes) -> StrictParser:
    parser = StrictParser(Adjustments())
    while head:  # as the channel feeds it: the header block, then the body
        head = head[parser.received(head) :]
    assert parser.completed and parser.error is None
    return parser


def test_a_header_block_seen_before_is_parsed_as_waitress_parses_it():
    """The same request bytes (a reader polling) are parsed once and then remembered;
    each request still gets its own headers, and one with a body is parsed anew."""
    parser_module._PARSED.clear()
    head = (
        b'GET /atom.xml?x=1 HTTP/1.1\r\nHost: a\r\nIf-None-Match: "abc"\r\n'
        b"Accept: a\r\nAccept: b\r\nConnection: close\r\n\r\n"
    )
    first = _parsed(head)
    assert len(parser_module._PARSED) == 1
    first.headers["HOST"] = "changed by the app"
    second = _parsed(head)
    fields = ("command", "path", "query", "version", "request_uri", "connection_close")
    assert [getattr(second, f) for f in fields] == [
        "GET", "/atom.xml", "x=1", "1.1", "/atom.xml?x=1", True,
    ]  # fmt: skip
    assert second.headers == {
        "HOST": "a", "IF_NONE_MATCH": '"abc"', "ACCEPT": "a, b", "CONNECTION": "close",
    }  # fmt: skip
    assert second.headers is not first.headers
    other = _parsed(head.replace(b"Host: a", b"Host: b"))
    assert other.headers["HOST"] == "b" and len(parser_module._PARSED) == 2
    post = b"POST /inbox HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
    one, two = _parsed(post), _parsed(post)
    assert one.body_rcv is not two.body_rcv and two.get_body_stream().read() == b"hi"
    assert len(parser_module._PARSED) == 2  # a request with a body is not remembered


def test_stop_ends_within_its_time_and_says_when_a_request_outlived_it():
    """``HttpServer.stop(timeout)`` gives running requests ``timeout`` seconds in all and
    says whether each ended: it waited for the loop and then as long again for the
    workers (the default, 10 s, past the daemon's stop budget), and said nothing of a
    request it left, which the daemon's stop did not count among what it left."""
    entered, release = threading.Event(), threading.Event()

    def app(environ, start_response):
        entered.set()
        release.wait(30)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"late\n"]

    server = HttpServer(app, "127.0.0.1", 0)
    server.start()
    host, port = server.addresses[0][:2]
    client = socket.create_connection((host, port), timeout=30)
    try:
        client.sendall(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        assert entered.wait(30)
        assert server.stop(0.2) is False  # the request still at work
    finally:
        release.set()
        client.close()
    idle = HttpServer(app, "127.0.0.1", 0)
    idle.start()
    assert idle.stop(5) is True
