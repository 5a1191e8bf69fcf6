"""One wall-clock deadline for a whole HTTP request, its socket cut when it passes.

The per-read socket timeout alone never fires on a server that drips its answer a byte
at a time, nor on one sending headers forever, and ``getaddrinfo`` cannot be
interrupted. So a request made inside a ``Watch`` (``within`` for one block,
``watching`` for a caller that starts and pauses the clock itself, as the poller does
around its per-host delay) is held to one deadline for all of it: name resolution (in a
thread of its own, given what is left of the deadline), connect, headers and the body.
When the deadline passes, a watchdog thread shuts the request's socket down (and again
until the watch is stopped: a socket made later is cut too), so a blocked read returns
at once, and ``expired`` tells the caller why.

The socket is told to the watch by the connection itself once connected and by the pool
when it hands out a kept-alive one, never read from the connection at expiry:
``http.client`` lets go of it (``conn.sock`` is None) as soon as a response without a
length is being read, which is exactly the answer a dripping server sends.

Both directions use it: the poller's ``sources.http`` and the pushes' ``deliver.sender``
(which adds the address guard by overriding ``WatchedConnection.check``).
"""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

UNWATCHED_RESOLVE = 30.0  # seconds for a name outside any watch, without a connect timeout


class Watch:
    """One request's (or one fetch's, redirects included) wall-clock deadline. The clock
    starts with ``start()``; ``pause()`` moves the deadline on by a wait of our own."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = math.inf  # set by start()
        self.sock: socket.socket | None = None  # the request's socket, told by tell()
        self._expired = False
        self._done = threading.Event()
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._started = True
            self.deadline = time.monotonic() + self.seconds
            threading.Thread(target=self._run, name="scofeed-deadline", daemon=True).start()

    def pause(self, seconds: float) -> None:
        """Our own wait (the poller's delay between two requests to a host) is not the
        server's time."""
        self.deadline += seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()

    @property
    def expired(self) -> bool:
        """Whether the deadline has passed: set by the watchdog, or read from the clock
        when the watchdog has not run yet (a resolver wait ending at the same moment)."""
        return self._expired or self.left() <= 0

    def tell(self, sock: socket.socket | None) -> None:
        if sock is not None:
            self.sock = sock

    def stop(self) -> None:
        self._done.set()

    def _run(self) -> None:
        while (left := self.left()) > 0:
            if self._done.wait(left):
                return
        self._expired = True
        while not self._done.is_set():  # again until stopped: the socket may come later
            if self.sock is not None:
                try:  # the plain socket's shutdown: an SSL socket's would drop its state
                    socket.socket.shutdown(self.sock, socket.SHUT_RDWR)
                except OSError:
                    pass
            self._done.wait(0.05)


_current = threading.local()  # the Watch of the request this thread is making


def current() -> Watch | None:
    return getattr(_current, "watch", None)


@contextmanager
def watching(watch: Watch) -> Iterator[Watch]:
    """The requests this thread makes inside the block are ``watch``'s (it is started
    by the caller, and stopped by the caller when the whole exchange is over)."""
    _current.watch = watch
    try:
        yield watch
    finally:
        _current.watch = None


@contextmanager
def within(seconds: float) -> Iterator[Watch]:
    """One deadline of ``seconds`` from now for the requests this thread makes inside
    the block, their bodies read in it included; stopped when the block ends."""
    watch = Watch(seconds)
    watch.start()
    try:
        with watching(watch):
            yield watch
    finally:
        watch.stop()


def resolve(host: str, port: int, seconds: float) -> list[str]:
    """The addresses of ``host``, or ``socket.gaierror`` when the resolver has not
    answered within ``seconds``: ``getaddrinfo`` cannot be interrupted, so it runs in a
    daemon thread of its own that is left behind if it hangs."""
    box: list[Any] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            box.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except Exception as exc:  # handed to the caller below
            box.append(exc)
        done.set()

    threading.Thread(target=lookup, name="scofeed-resolve", daemon=True).start()
    if not done.wait(max(seconds, 0.0)):
        raise socket.gaierror(f"no answer from the resolver within {seconds:g}s")
    if isinstance(box[0], BaseException):
        raise box[0]
    return [str(info[4][0]).split("%", 1)[0] for info in box[0]]


class WatchedConnection:
    """Name resolution inside the current watch's deadline (what is left of it), then
    the connection to an address found (``check`` may refuse them first; TLS still
    checks the certificate for the name); the socket, once connected, told to the
    watch."""

    _dns_host: str
    port: int
    timeout: Any

    def check(self, host: str, addresses: list[str]) -> None:
        """Raise a ``NewConnectionError`` to refuse ``host``'s addresses; all pass here."""

    def _new_conn(self) -> socket.socket:
        name = self._dns_host
        watch = current()
        if watch is not None:
            seconds = watch.left()
        elif isinstance(self.timeout, int | float):
            seconds = self.timeout
        else:
            seconds = UNWATCHED_RESOLVE
        try:
            addresses = resolve(name, self.port, seconds)
        except socket.gaierror as exc:
            raise NameResolutionError(name, self, exc) from exc  # type: ignore[arg-type]
        self.check(name, addresses)
        try:
            for address in addresses[:-1]:  # in order, as urllib3 would; the last below
                self._dns_host = address
                try:
                    return self._told(watch, super()._new_conn())  # type: ignore[misc]
                except (NewConnectionError, ConnectTimeoutError):
                    if watch is not None and watch.left() <= 0:
                        raise
            self._dns_host = addresses[-1]
            return self._told(watch, super()._new_conn())  # type: ignore[misc]
        finally:
            self._dns_host = name

    @staticmethod
    def _told(watch: Watch | None, sock: socket.socket) -> socket.socket:
        """The socket told to the watch as soon as it is connected: a proxy's answer to
        CONNECT is read on it before ``connect`` returns. (The TLS handshake that may
        follow is bounded by the socket timeout as a whole, in CPython's ssl module.)"""
        if watch is not None:
            watch.tell(sock)
        return sock

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        watch = current()
        if watch is not None:
            watch.tell(self.sock)  # type: ignore[attr-defined]


class WatchedHTTPConnection(WatchedConnection, HTTPConnection):
    pass


class WatchedHTTPSConnection(WatchedConnection, HTTPSConnection):
    pass


class _WatchedPool:
    def _get_conn(self, timeout: float | None = None) -> Any:
        conn = super()._get_conn(timeout)  # type: ignore[misc]
        watch = current()
        if watch is not None:  # a kept-alive connection's; a new one's comes with connect()
            watch.tell(conn.sock)
        return conn


class WatchedHTTPPool(_WatchedPool, HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class WatchedHTTPSPool(_WatchedPool, HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """Mount it on a session for its requests to keep the current watch's deadline."""

    pools: dict[str, type] = {"http": WatchedHTTPPool, "https": WatchedHTTPSPool}

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(self.pools)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """An HTTP proxy's pools (``HTTP_PROXY``/``HTTPS_PROXY`` from the environment,
        for a poll) are watched too: a proxy that drips its answer is cut at the
        deadline. A SOCKS proxy's manager is requests' own (its pools make the SOCKS
        connections): bounded by the socket timeout only."""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = dict(self.pools)
        return manager
