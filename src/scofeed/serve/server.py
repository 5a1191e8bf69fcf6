"""The HTTP server: waitress on its own thread, started and stopped by the daemon.

Tuned to hold under many idle or slow clients (issue #13): waitress reads requests
asynchronously in one poll() loop and hands only complete ones to its worker threads,
so a held connection costs one file descriptor and a buffer, not a thread. What limits
it is the number of connections it accepts (``serve.limits``: 4,096, or fewer under a
low open-files limit, which the daemon raises as it starts; past it, new clients wait in
the listen backlog until some close, as they do for a second when an accept finds no
descriptor left) and how long an idle or half-sent one is kept (``CHANNEL_TIMEOUT``,
and a request that has not come whole in ``HEAD_SECONDS`` or ``REQUEST_SECONDS``,
checked every ``CLEANUP_INTERVAL``). poll(), not select(), handles descriptors above
1024.

Requests are read strictly (``serve.parser.StrictParser``); a request's head and body
must come whole within ``HEAD_SECONDS`` and ``REQUEST_SECONDS`` of its first byte.

Answers held in memory skip the worker threads (issue 9): a GET or HEAD of a published
file whose answers the app holds, fresh (``App.ready``), is answered in the poll loop
itself (``StrictChannel.answer_ready``), in the bytes a worker would have written. The
hand-off to a worker and back (task queue, condition variables, the trigger pipe's
wake-up) cost more than the answer; everything else still goes to the four workers, so
a slow request (an inbox POST fetching a key, an entry page) never holds up a reader.
"""

from __future__ import annotations

import errno
import io
import logging
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import waitress
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.buffers import OverflowableBuffer, ReadOnlyFileBasedBuffer
from waitress.channel import HTTPChannel

from scofeed.errors import ServeError, memory_ran_out
from scofeed.serve.answers import LARGE_BODY, Response
from scofeed.serve.heads import HEADS, KeepAliveTask, NoSniffErrorTask, WsgiHeaders
from scofeed.serve.limits import connection_limit
from scofeed.serve.parser import RAW, StrictParser
from scofeed.throttle import Throttle

log = logging.getLogger(__name__)

CHANNEL_TIMEOUT = 30  # seconds an idle or half-sent connection is kept
# seconds a request's head (its request line and headers) may take to arrive from its
# first byte, and the whole request with its body: the channel timeout counts from the
# last byte, so a client sending a header line every few seconds held its connection
# for as long as it liked, and 4,100 of them held every connection the server takes
HEAD_SECONDS = 30
REQUEST_SECONDS = 120
# bytes a connection may hold unsent before its next request waits, holding no worker:
# four clients pipelining hundreds of GETs of a large feed and reading none of the
# answers held all four workers for as long as they stayed (every request answered by
# nobody, /healthz included). Above send_bytes, which the loop waits for before sending
# while a request is pending
PARK_BYTES = 1 << 20
CLEANUP_INTERVAL = 5  # seconds between the checks for such connections
# connections one client address may hold at once (not 127.0.0.1, ::1, nor a peer in
# serve.trusted_proxies: every client comes through a proxy): one address holding 4,100
# slow connections, each sending a byte every 15 s and opened anew at its deadline, kept
# every other reader out. A connection past it is closed once accepted
PER_CLIENT = 256
# bytes of a request's head (its request line and headers) taken: waitress's 256 KiB
# each held 4,000 connections' heads in 770 MB; nginx takes 32 KB (4 x 8 KB buffers)
HEAD_BYTES = 32 * 1024
BACKLOG = 2048  # connections the kernel queues before they are accepted
# waitress 3 flushes a response from the worker thread as soon as its first bytes are
# written (send_bytes defaults to 1), waking the poll loop for each write; above a
# feed's size, the response goes out whole from the poll loop when the task ends, which
# doubled the full-GET rate of a 170 KB feed (issue 9). waitress deprecates the knob
# (still honoured in 3.x): it is passed only while waitress knows it.
SEND_BYTES = 1 << 18
# when a connection finds no descriptor all the same (the senders' and the scans' use
# grows), the server stops accepting this long, then tries again: waitress logged a
# traceback for each failed accept() and tried again at once, the connection still
# waiting, ~40,000 times a second (50 MB of log in 10 s, a core spinning)
ACCEPT_PAUSE = 1.0
ACCEPT_SAID_EVERY = 60.0  # seconds between two serve_accept_paused lines at WARNING


# (PATH_INFO, the request's headers as WSGI names them) -> the answer, or None
Ready = Callable[[str, Mapping[str, str]], Response | None]
Answered = Callable[[str, int], None]  # (path, status) of an answer given in the loop
# what answer_ready relies on in waitress (3.x has it all); without it, workers answer all
_LOOP_ANSWERS = all(
    hasattr(HTTPChannel, name)
    for name in ("total_outbufs_len", "current_outbuf_count", "close_when_flushed")
) and all(hasattr(Adjustments, name) for name in ("outbuf_overflow", "outbuf_high_watermark"))


class Clients:
    """How many connections each client address holds (``PER_CLIENT``)."""

    def __init__(self) -> None:
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def held(self, address: str) -> int:
        return self._held.get(address, 0)

    def opened(self, address: str) -> None:
        with self._lock:
            self._held[address] = self._held.get(address, 0) + 1

    def closed(self, channel: StrictChannel) -> None:
        """``channel`` closed: its address counted once less, however many threads say so
        (the poll loop, and a worker whose send failed, may both close it)."""
        with self._lock:
            address, channel.client = channel.client, ""
            if not address:
                return
            left = self._held.get(address, 0) - 1
            if left > 0:
                self._held[address] = left
            else:
                self._held.pop(address, None)


def _exempt(address: str, trusted: Callable[[str], bool]) -> bool:
    return address in ("127.0.0.1", "::1", "::ffff:127.0.0.1") or trusted(address)


class StrictChannel(HTTPChannel):  # type: ignore[misc]
    parser_class = StrictParser
    task_class = KeepAliveTask
    error_task_class = NoSniffErrorTask
    # True while its next request waits for the client to take what it was sent
    parked = False
    client = ""  # its address, counted in its server's ``per_client`` while open

    def __init__(self, server: Any, sock: Any, addr: Any, adj: Any, map: Any = None) -> None:
        super().__init__(server, sock, addr, adj, map)
        clients = getattr(server, "per_client", None)
        if clients is not None and addr:
            self.client = str(addr[0])
            clients.opened(self.client)

    def del_channel(self, map: Any = None) -> None:
        """Out of the poll loop: closed (waitress's ``handle_close`` calls asyncore's
        ``close`` itself, which comes here)."""
        clients = getattr(self.server, "per_client", None)
        if clients is not None:
            clients.closed(self)
        super().del_channel(map)

    def service(self) -> None:
        """Serve the next request, unless the client has not taken ``PARK_BYTES`` of
        what it was sent: then the request waits without a worker, and the poll loop
        hands it to one once the client has read enough (``handle_write``); a client
        that takes nothing for ``CHANNEL_TIMEOUT`` is closed (``HttpServer._maintenance``)."""
        with self.outbuf_lock:
            self.parked = self.connected and self.total_outbufs_len > PARK_BYTES  # type: ignore[has-type]
        if self.parked:
            self.server.pull_trigger()  # the loop sends, then resumes it
        else:
            # active from now: a request that waited in the queue, or an answer slow to
            # make, is not a client that took nothing (the sweep closes those)
            self.last_activity = time.time()
            super().service()

    def handle_write(self) -> None:
        super().handle_write()
        if not self.parked or not self.connected or self.will_close:  # type: ignore[has-type]
            return
        with self.outbuf_lock:
            resume = self.total_outbufs_len <= PARK_BYTES
            if resume:
                self.parked = False
        if resume:
            self.server.add_task(self)

    def answer_ready(self, ready: Ready, answered: Answered | None = None) -> bool:
        """Answer this channel's one waiting request from ``ready`` here, in the poll loop,
        exactly as a worker's task would: the same task code builds the status line and
        headers (Date, Server, keep-alive or ``Connection: close``), a HEAD or 304 gets
        no body, a connection to close is closed once flushed. Runs inside ``received``
        (``requests_lock`` held) with no task running on this channel, so nothing else
        touches its buffers. False, with nothing changed: a worker is to answer (all but
        a GET or HEAD without body or query whose answer is in memory and fits in it)."""
        pending: list[Any] = self.requests  # type: ignore[has-type]
        if len(pending) != 1 or not self.connected or self.adj.url_prefix:
            return False
        request = pending[0]
        if (
            request.error is not None  # a bad or too large request: a worker's error answer
            or request.command not in ("GET", "HEAD")
            or request.query
            or request.chunked
            or request.content_length
            or request.expect_continue
        ):
            return False
        path = request.path  # as waitress's WSGITask makes PATH_INFO of it
        path = "/" + path.lstrip("/") if path.startswith("/") else path
        answer = ready(path, WsgiHeaders(request.headers))
        if answer is None:
            return False
        try:
            head, has_body, close = HEADS.head(self, request, answer)
        except Exception as exc:  # a waitress this code does not know: its workers answer
            if memory_ran_out(exc) is None:
                log.exception("loop_answer_failed path=%r", path)
            return False  # short of memory: the worker's answer says so (a 503, one line)
        body = answer.body if has_body and request.command != "HEAD" else b""
        # below outbuf_overflow, waitress's buffer never spills into a temporary file
        if self.total_outbufs_len + len(head) + len(body) >= self.adj.outbuf_overflow:
            return False
        self._queue(head, body)
        request.close()
        pending.clear()
        if answered is not None:
            answered(path, answer.status)
        if close:  # HTTP/1.0 without keep-alive, Connection: close
            self.close_when_flushed = True
        return True

    def _queue(self, *parts: bytes) -> None:
        """Append a response to the output buffers as ``write_soon`` does, minus its wait
        for a worker's buffer to drain (there is none; this is the loop itself). A large
        body is sent from the answer's own bytes, as waitress sends a file (its
        ``wsgi.file_wrapper`` buffer), not copied: a thousand clients that never read a
        270 KB archive page held a copy each (270 MB), kept after they left."""
        with self.outbuf_lock:
            for data in parts:
                if not data:
                    continue
                if len(data) >= LARGE_BODY:  # as the workers' (wsgi.file_wrapper)
                    shared = ReadOnlyFileBasedBuffer(io.BytesIO(data))  # no copy: shared
                    shared.prepare()
                    self.outbufs.append(shared)
                    self.outbufs.append(OverflowableBuffer(self.adj.outbuf_overflow))
                    self.current_outbuf_count = 0
                    self.total_outbufs_len += len(data)
                    continue
                if self.current_outbuf_count >= self.adj.outbuf_high_watermark:  # type: ignore[has-type]
                    self.outbufs.append(OverflowableBuffer(self.adj.outbuf_overflow))
                    self.current_outbuf_count = 0
                self.outbufs[-1].append(data)
                self.current_outbuf_count += len(data)
                self.total_outbufs_len += len(data)
            # the next response starts a new buffer, as after a worker's (service())
            self.current_outbuf_count = self.adj.outbuf_high_watermark


def _too_slow(channel: Any, now: float) -> bool:
    """Whether the request still arriving on ``channel`` has taken longer than it may
    (see ``HEAD_SECONDS``); not while requests before it are answered, or answers sent:
    the server reads no more of it meanwhile (pipelined behind a large answer), and its
    time starts again once it does."""
    request = channel.request
    if request is None or request.completed or not hasattr(request, "started"):
        return False
    if channel.requests or channel.total_outbufs_len:
        request.started = now  # its time counts from when the server reads it again
        return False
    limit = REQUEST_SECONDS if request.headers_finished else HEAD_SECONDS
    return bool(now - request.started > limit)


class HttpServer:
    """waitress on its own thread, stoppable from another one. It listens once made; the
    app it answers with may be given then, or later (``mount``, before ``start``): the
    daemon binds before it makes anything (a busy port left a new store behind)."""

    def __init__(
        self,
        app: Callable[..., Any] | None,
        host: str,
        port: int,
        threads: int = 4,
        answer_in_loop: bool = True,
        max_body: int = 1 << 20,
        trusted: Callable[[str], bool] | None = None,
        body_limit: Callable[[str], int] | None = None,
    ) -> None:
        """``max_body``: the largest request body taken, in bytes; one announced larger is
        refused with a 413 before it is read (waitress's own limit, 1 GB, spooled each
        to a temporary file first: a few clients could fill the disk). ``trusted``: an
        address exempt from ``PER_CLIENT`` (a proxy's: ``serve.trusted_proxies``).
        ``body_limit``: the largest body a request path takes (at most ``max_body``),
        refused with a 413 before it is read."""
        self._trusted = trusted or (lambda address: False)
        self._app = app
        self._map: dict[int, Any] = {}
        self._stop = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._loop_thread = -1  # threading.get_ident() of the poll loop, once it runs
        tuning = {"send_bytes": SEND_BYTES} if hasattr(Adjustments, "send_bytes") else {}
        try:
            with warnings.catch_warnings():  # send_bytes is deprecated, and chosen above
                warnings.filterwarnings("ignore", "send_bytes", DeprecationWarning)
                self._server = waitress.create_server(
                    self._call,
                    map=self._map,
                    host=host,
                    port=port,
                    threads=threads,
                    ident="scofeed",
                    connection_limit=connection_limit(),
                    # waitress counts a chunked body's framing too (and refuses from
                    # its limit on): room for it; each route holds the body's own bytes
                    max_request_body_size=RAW * max_body + 1,
                    max_request_header_size=HEAD_BYTES,
                    channel_timeout=CHANNEL_TIMEOUT,
                    cleanup_interval=CLEANUP_INTERVAL,
                    backlog=BACKLOG,
                    asyncore_use_poll=True,
                    # X-Forwarded-For and Forwarded reach the app, which reads them only
                    # from a peer in serve.trusted_proxies (serve.clients); waitress's own
                    # middleware takes one proxy address, no network, and cleared them
                    clear_untrusted_proxy_headers=False,
                    **tuning,
                )
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
        except ValueError:  # waitress: the host name does not resolve (or is empty)
            raise ServeError(
                f"cannot listen on {host}:{port} (not an address or a host name this machine "
                "resolves; see serve.host or --host)"
            ) from None
        if body_limit is not None:  # read by StrictParser, from the server's Adjustments
            self._server.adj.body_limit = body_limit
        for srv in [self._server, *self._map.values()]:
            if hasattr(srv, "channel_class"):
                srv.channel_class = StrictChannel
                srv.per_client = Clients()
                self._guard_accept(srv, self._trusted)
                if hasattr(srv, "maintenance") and hasattr(srv, "active_channels"):
                    srv.maintenance = self._maintenance(srv.maintenance, srv)
                if answer_in_loop and _LOOP_ANSWERS and hasattr(srv, "add_task"):
                    srv.add_task = self._add_task(srv.add_task)
        listen = getattr(self._server, "effective_listen", None)
        if listen is None:
            listen = [(self._server.effective_host, self._server.effective_port)]
        self.addresses: list[tuple[str, int]] = [(str(h), int(p)) for h, p in listen]

    def base_urls(self) -> list[str]:
        urls = []
        for host, port in self.addresses:
            shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
            shown = f"[{shown}]" if ":" in shown else shown
            urls.append(f"http://{shown}:{port}/")
        return urls

    def set_max_body(self, max_body: int) -> None:
        """A new largest request body (a reload's ``websub.max_body``): every request
        from now on is held to it, as it reads the server's ``Adjustments``."""
        self._server.adj.max_request_body_size = RAW * max_body + 1  # as at the start

    def mount(self, app: Callable[..., Any]) -> None:
        """The app the server answers with, when it was not given at its making."""
        self._app = app

    def _call(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self._app(environ, start_response)  # type: ignore[misc]  # mounted: start

    def start(self) -> None:
        assert self._app is not None, "HttpServer.mount(app) before start()"
        self._thread = threading.Thread(target=self._loop, name="http", daemon=True)
        self._thread.start()
        log.info("serving addresses=%s", ",".join(self.base_urls()))

    @staticmethod
    def _guard_accept(srv: Any, trusted: Callable[[str], bool]) -> None:
        """A listening socket's ``accept`` and ``readable``: an accept that finds no
        descriptor left (EMFILE, ENFILE) stops the accepting for ``ACCEPT_PAUSE``
        seconds (its socket is out of the poll meanwhile) and says so, once a minute at
        most; the client waits in the backlog. A client holding ``PER_CLIENT``
        connections already has the new one closed (but a ``trusted`` one, and
        127.0.0.1 and ::1), said once a minute at most."""
        accept, readable = srv.accept, srv.readable
        paused = {"until": 0.0}
        full, crowded = Throttle(ACCEPT_SAID_EVERY), Throttle(ACCEPT_SAID_EVERY)  # said

        def guarded_accept() -> Any:
            try:
                pair = accept()
                if pair is None:
                    return None
                address = str(pair[1][0]) if pair[1] else ""
                if srv.per_client.held(address) < PER_CLIENT or _exempt(address, trusted):
                    return pair
                pair[0].close()
                log.log(
                    logging.WARNING if crowded.due() is not None else logging.DEBUG,
                    "serve_client_limit client=%s connections=%d: a new one is closed",
                    address, PER_CLIENT,
                )  # fmt: skip
                return None
            except OSError as exc:
                if exc.errno not in (errno.EMFILE, errno.ENFILE):
                    raise
                paused["until"] = time.monotonic() + ACCEPT_PAUSE
                log.log(
                    logging.WARNING if full.due() is not None else logging.DEBUG,
                    "serve_accept_paused error=%r connections=%d seconds=%g",
                    exc.strerror, len(srv._map), ACCEPT_PAUSE,
                )  # fmt: skip
                return None

        def guarded_readable() -> bool:
            ready = bool(readable())  # waitress's sweep of idle connections runs in it
            return ready and time.monotonic() >= paused["until"]

        srv.accept = guarded_accept
        srv.readable = guarded_readable

    @staticmethod
    def _maintenance(maintenance: Callable[[float], None], srv: Any) -> Callable[[float], None]:
        """waitress's sweep of idle connections (every ``CLEANUP_INTERVAL``), which only
        marks them to close, and skips any with a request pending: a connection whose
        client takes nothing of what it was sent never becomes writable, so the loop
        never closed it, nor let the worker waiting on it go. One with output unsent and
        nothing sent or read for ``CHANNEL_TIMEOUT`` is closed here (which wakes that
        worker: its answer stops, ``ClientDisconnected``); so is one whose request has
        not come whole in time (``HEAD_SECONDS``, ``REQUEST_SECONDS``), however often
        its client sends a byte of it."""

        def sweep(now: float) -> None:
            maintenance(now)
            cutoff = now - CHANNEL_TIMEOUT
            for channel in list(srv.active_channels.values()):
                if channel.total_outbufs_len and channel.last_activity < cutoff:
                    log.info("serve_client_stalled unsent=%d", channel.total_outbufs_len)
                    channel.handle_close()
                elif _too_slow(channel, now):
                    log.debug("serve_request_too_slow")  # one a connection: not at INFO
                    channel.handle_close()

        return sweep

    def _add_task(self, add_task: Callable[[Any], None]) -> Callable[[Any], None]:
        """waitress's ``server.add_task(channel)``, first offering the request to
        ``answer_ready`` with the app's ``ready`` (if it has one; its ``answered`` is told
        of each answer given so). waitress calls it from the poll loop
        (``channel.received``, when a request is complete and none is before it on the
        channel, so answers keep the order of pipelined requests) and from a worker
        (``channel.service``, for the next pipelined request): only the first is
        answered in the loop."""

        def add(channel: Any) -> None:
            if channel.close_when_flushed:  # answered in the loop with Connection: close
                for request in channel.requests:  # what was pipelined behind it: dropped,
                    request.close()  # as a worker drops it after such an answer
                channel.requests = []
                return
            ready: Ready | None = getattr(self._app, "ready", None)
            if (
                ready is not None
                and threading.get_ident() == self._loop_thread
                and channel.answer_ready(ready, getattr(self._app, "answered", None))
            ):
                return
            add_task(channel)

        return add

    def _loop(self) -> None:
        self._loop_thread = threading.get_ident()
        while not self._stop.is_set():
            wasyncore.loop(timeout=1.0, map=self._map, use_poll=True, count=1)

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop accepting, let running requests finish within ``timeout`` seconds in all,
        close every socket; whether every request ended in time. Sockets are closed here,
        after the loop thread has ended, never under it. Once: a second call does nothing."""
        if self._stopped:
            return True
        end = time.monotonic() + timeout
        self._stopped = True
        self._stop.set()
        for dispatcher in list(self._map.values()):
            pull = getattr(dispatcher, "pull_trigger", None)
            if pull is not None:  # wake the loop from its poll() at once
                try:
                    pull()
                except OSError:
                    pass
                break
        if self._thread is not None:
            self._thread.join(timeout)
        tasks = self._server.task_dispatcher
        tasks.shutdown(timeout=max(0.0, end - time.monotonic()))
        ended = not tasks.threads
        wasyncore.close_all(self._map, ignore_all=True)
        return ended
