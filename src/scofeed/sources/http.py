"""A polite HTTP client for pollers and ``scofeed add URL``.

One ``requests.Session`` naming scofeed in its User-Agent; connect and read timeouts
and one wall-clock deadline for a whole fetch, name resolution and redirects included
(``sources.deadline``, shared with the pushes); bodies
streamed against a size cap; conditional GET with the ETag / Last-Modified remembered
in the state store; redirects followed by hand and only within the same host; the
content type checked; and one request at a time per host, spaced by a configurable
delay (shared by every fetcher in the process).

Every refusal is a ``RejectedInput`` naming the URL. Failures worth retrying (timeouts,
connection errors, 5xx, 429, and the 401 / 403 of a firewall) are a
``TemporaryFailure`` (``retryable``), carrying the server's ``Retry-After`` when it
sent one.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import requests

from scofeed import USER_AGENT
from scofeed.config.redact import logged
from scofeed.errors import PageGone, RejectedInput, TemporaryFailure, shown
from scofeed.sources import deadline
from scofeed.store import Store
from scofeed.store import sources as source_rows

log = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = (
    "application/rss+xml", "application/atom+xml", "application/xml", "text/xml",
    "application/rdf+xml", "application/feed+json", "application/json", "text/plain",
    # what Debian's mime.types (and Python's mimetypes) give .rss and .atom: a feed.rss
    # behind Apache on Debian was refused at every poll
    "application/x-rss+xml", "application/x-atom+xml",
)  # fmt: skip
ADD_TYPES = (*HTML_TYPES, "text/plain", "text/markdown", "application/json")
MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 20.0
DEADLINE = 4  # times the timeout: a whole fetch (redirects, headers, bodies) within it
_REDIRECTS = (301, 302, 303, 307, 308)
# refusals that pass: a rate limit, and the 401 / 403 a firewall, a bot check (a
# Cloudflare challenge) or a rate limiter answers for a while before it lets us in again
_FOR_NOW = {
    401: "HTTP 401 Unauthorized",
    403: "HTTP 403 Forbidden",
    429: "HTTP 429 Too Many Requests",
}


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    status: int  # 200, or 304 when a conditional GET found nothing new
    body: bytes
    content_type: str  # media type only, lower case ("" when none was sent)
    charset: str | None
    etag: str | None
    last_modified: str | None
    asked: str = ""  # the URL asked for: validators are kept under it, where get() looks

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class HostGates:
    """One request at a time per host, ``delay`` seconds apart. One instance is shared by
    every fetcher in the process (a poll and a ``scofeed add`` never overlap on a host)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._gates: dict[str, tuple[threading.Lock, list[float]]] = {}

    def of(self, host: str) -> tuple[threading.Lock, list[float]]:
        """The host's lock, and [when its last request ended, how many wait for it]."""
        with self._lock:
            return self._gates.setdefault(host, (threading.Lock(), [float("-inf"), 0.0]))

    def take(
        self, host: str, timeout: float, delay: float
    ) -> tuple[threading.Lock, list[float]] | None:
        """The host's gate, taken (``of``), or None: waited for no longer than
        ``timeout`` and ``delay`` for each request ahead of this one (their politeness
        wait: the host is not slow for it). A thread waiting here is one the other
        sites' polls cannot have: many sources on one slow host held them all."""
        lock, last = self.of(host)
        with self._lock:
            ahead = last[1]
            last[1] += 1
        try:
            got = lock.acquire(timeout=timeout + delay * (ahead + 1))
        finally:
            with self._lock:
                last[1] -= 1
        return (lock, last) if got else None


SHARED_GATES = HostGates()


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".").lower()


_DEFAULT_PORTS = {"http": 80, "https": 443}


def same_site(url: str, target: str) -> bool:
    """Whether ``target`` is on ``url``'s host, at its port or at the default port of
    its own scheme (``http://sco.example/`` to ``https://sco.example/``). By its name
    alone, a listing's link or a redirect to ``http://sco.example:22/`` was followed: a
    page could have scofeed knock on any port of its host. A port no URL can have
    (``:99999``) is no site."""
    try:
        a, b = urlsplit(url), urlsplit(target)
        port_a = a.port or _DEFAULT_PORTS.get(a.scheme.lower())
        port_b = b.port
    except ValueError:
        return False
    if (b.hostname or "").rstrip(".").lower() != (a.hostname or "").rstrip(".").lower():
        return False
    return port_b is None or port_b in (port_a, _DEFAULT_PORTS.get(b.scheme.lower()))


class Fetcher:
    def __init__(
        self,
        store: Store | None = None,
        user_agent: str = USER_AGENT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        gates: HostGates = SHARED_GATES,
    ) -> None:
        self.store = store
        self.gates = gates
        self.session = requests.Session()
        self.session.mount("http://", deadline.WatchedAdapter())
        self.session.mount("https://", deadline.WatchedAdapter())
        self.session.headers["User-Agent"] = user_agent
        self.session.headers["Accept-Encoding"] = "identity"  # the size cap counts real bytes
        # given with each request: requests would let CURL_CA_BUNDLE override it
        self.verify = ca_bundle()
        self.clock = clock
        self.sleep = sleep
        self.requests = 0  # requests sent, for reports and the benchmark

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        accept: tuple[str, ...] = HTML_TYPES,
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = 2_000_000,
        delay: float = 0.0,
        conditional: bool = False,
    ) -> Response:
        """GET ``url``; with ``conditional`` send the remembered validators (304 possible)."""
        try:
            parts = urlsplit(url)
        except ValueError:  # "http://[::1": urllib cannot read it
            raise RejectedInput(url, "not a valid address") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RejectedInput(url, "not an http:// or https:// URL")
        headers = {"Accept": ", ".join(accept) + ", */*;q=0.1"}
        if conditional and self.store is not None:
            cached = source_rows.validators(self.store.db, url)
            if cached and cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached and cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        current = url
        watch = deadline.Watch(DEADLINE * timeout)
        try:
            for _hop in range(MAX_REDIRECTS + 1):
                # one request at a time per host, its body read whole before the next
                # starts (held until the headers only, four polls of one site streamed
                # their bodies at once), and the delay counted from its end
                gate = self.gates.take(host_of(current), DEADLINE * timeout, delay)
                if gate is None:  # waited as long as the whole fetch may take, and more
                    raise TemporaryFailure(
                        url, f"its host was busy with our other requests for over "
                        f"{DEADLINE * timeout:g} s"
                    )  # fmt: skip
                lock, last = gate
                try:
                    resp = self._send(current, headers, timeout, delay, watch, last[0])
                    if resp.status_code not in _REDIRECTS:
                        return self._finish(url, current, resp, accept, max_bytes, watch)
                    location = resp.headers.get("Location", "")
                    resp.close()
                finally:
                    last[0] = self.clock()
                    lock.release()
                if not location:
                    raise RejectedInput(url, f"redirect ({resp.status_code}) without a Location")
                target = urljoin(current, location)
                if urlsplit(target).scheme not in ("http", "https"):
                    raise RejectedInput(url, f"redirect to a non-web address ({target})")
                if not same_site(current, target):
                    other = host_of(target)
                    where = f"host ({other})" if other != host_of(current) else "port"
                    raise RejectedInput(url, f"redirect to another {where}, not followed")
                log.debug("redirect url=%s to=%s", logged(current), logged(target))
                current = target
            raise RejectedInput(url, f"more than {MAX_REDIRECTS} redirects")
        finally:
            watch.stop()

    def _send(
        self,
        url: str,
        headers: dict[str, str],
        timeout: float,
        delay: float,
        watch: deadline.Watch,
        last: float,
    ) -> requests.Response:
        """The GET, ``delay`` seconds after the host's last request ended at ``last``
        (the caller holds the host's gate)."""
        wait = last + delay - self.clock()
        if wait > 0:  # our politeness, not the server's time: the deadline waits too
            self.sleep(wait)
            watch.pause(wait)
        watch.start()
        try:
            self.requests += 1
            with deadline.watching(watch):
                resp = self.session.get(
                    url,
                    headers=headers,
                    timeout=(timeout, timeout),
                    allow_redirects=False,
                    stream=True,
                    verify=self.verify,
                )
        except requests.RequestException as exc:
            if watch.expired:
                raise _too_slow(url, watch) from None
            if isinstance(exc, requests.exceptions.InvalidURL):  # a port of 99999
                raise RejectedInput(url, f"not a valid address ({_short(exc)})") from None
            if isinstance(exc, requests.Timeout):
                raise TemporaryFailure(url, f"timed out after {timeout:g} s") from None
            if isinstance(exc, requests.exceptions.SSLError):
                raise TemporaryFailure(url, tls_problem(exc)) from None
            raise TemporaryFailure(url, f"cannot connect ({_connect_problem(exc)})") from None
        except ValueError:  # requests reads a redirect's Location: "http://[::1/x"
            raise RejectedInput(url, "redirect to an invalid address") from None
        if watch.expired:  # headers cut short read as if they had ended
            resp.close()
            raise _too_slow(url, watch)
        # DEBUG: the poll's own line says at INFO what a fetch brought, and a fetch of
        # what was there before (a 304, or a 200 from a server sending no validators) is
        # an idle daemon's tick, logged at each poll for ever at INFO
        log.debug("fetch url=%s status=%d", logged(url), resp.status_code)
        return resp

    def _finish(
        self,
        origin: str,
        url: str,
        resp: requests.Response,
        accept: tuple[str, ...],
        max_bytes: int,
        watch: deadline.Watch,
    ) -> Response:
        with resp:
            status = resp.status_code
            etag = resp.headers.get("ETag")
            last_modified = resp.headers.get("Last-Modified")
            if status == 304:
                return Response(url, 304, b"", "", None, etag, last_modified, origin)
            if status >= 500 or status in _FOR_NOW:  # Retry-After, if sent, is the poller's
                why = f"server error {status}" if status >= 500 else _FOR_NOW[status]
                raise TemporaryFailure(origin, why, resp.headers.get("Retry-After"))
            if status in (404, 410):
                raise PageGone(origin, status, f"HTTP {status} {_reason(resp)}".rstrip())
            if status != 200:
                raise RejectedInput(origin, f"HTTP {status} {_reason(resp)}".rstrip())
            ctype, charset = _content_type(resp.headers.get("Content-Type", ""))
            if ctype and ctype not in accept:
                wanted = ", ".join(accept[:-1]) + " or " + accept[-1] if accept[1:] else accept[0]
                raise RejectedInput(origin, f"content type {ctype} where {wanted} was expected")
            declared = resp.headers.get("Content-Length", "").strip()
            # "²" is a digit to isdigit() but not to int(), and 5,000 digits are past
            # int()'s limit: a server sending either made the poll fail with a traceback
            if declared.isascii() and declared.isdigit():
                if len(declared) > 18 or int(declared) > max_bytes:
                    said = declared if len(declared) <= 18 else f"a {len(declared)}-digit number of"
                    raise RejectedInput(origin, f"too large ({said} bytes, limit {max_bytes})")
            body = _read(origin, resp, max_bytes, watch)
        return Response(url, status, body, ctype, charset, etag, last_modified, origin)


def _read(origin: str, resp: requests.Response, max_bytes: int, watch: deadline.Watch) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in resp.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > max_bytes:
                raise RejectedInput(
                    origin, f"too large (over {max_bytes} bytes, limit {max_bytes})"
                )
            chunks.append(chunk)
    except (requests.RequestException, OSError) as exc:
        if watch.expired:
            raise _too_slow(origin, watch) from None
        raise TemporaryFailure(origin, f"read failed ({_short(exc)})") from None
    if watch.expired:  # a body without a length ends at the cut as if it were whole
        raise _too_slow(origin, watch)
    return b"".join(chunks)


def _reason(resp: requests.Response) -> str:
    """The server's reason phrase as a message may quote it: its own words, on one line
    and every character visible (``shown``), cut to 100 characters."""
    return shown(resp.reason or "")[:100]


def _too_slow(url: str, watch: deadline.Watch) -> TemporaryFailure:
    return TemporaryFailure(url, f"no complete answer within {watch.seconds:g} s")


def ca_bundle() -> str | bool:
    """The CA bundle to verify certificates with: ``REQUESTS_CA_BUNDLE`` or
    ``SSL_CERT_FILE`` when set (a private CA), else the bundled public CAs."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or True


def causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception behind it (causes, contexts, urllib3's ``reason``
    and exceptions among the arguments), each once: where requests keeps the real one."""
    seen: list[BaseException] = []
    todo: list[object] = [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or any(e is s for s in seen):
            continue
        seen.append(e)
        todo.extend([e.__cause__, e.__context__, getattr(e, "reason", None), *e.args])
    return seen


def tls_problem(exc: BaseException) -> str:
    """A refused TLS handshake in one line: the verifier's own reason when it has one
    ("self-signed certificate in certificate chain", "Hostname mismatch, ...")."""
    for e in causes(exc):
        if isinstance(e, ssl.SSLCertVerificationError):
            return f"TLS certificate not accepted: {e.verify_message or 'verification failed'}"
    return "TLS handshake failed"


def _content_type(header: str) -> tuple[str, str | None]:
    media, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        k, _, v = param.strip().partition("=")
        if k.lower() == "charset" and v:
            charset = v.strip("\"' ")
    return media.strip().lower(), charset


def _connect_problem(exc: BaseException) -> str:
    """Why no connection was made, in the system's words ("Connection refused", "cannot
    resolve the host name (Name or service not known)"): the error behind requests' and
    urllib3's, whose text is their pools' reprs ("WatchedHTTPPool(host=..., port=1): Max
    retries exceeded ...") cut at 160 characters before it said why."""
    for e in causes(exc):
        if isinstance(e, socket.gaierror):
            return f"cannot resolve the host name ({e.strerror or e})"
        if isinstance(e, OSError) and e.strerror:
            return e.strerror
    return _short(exc)


def _short(exc: BaseException) -> str:
    text = str(exc).split("\n")[0]
    return text if len(text) <= 160 else text[:157] + "..."


def remember(store: Store, resp: Response, now: datetime) -> None:
    """Keep a response's validators so the next conditional GET can get a 304."""
    key = resp.asked or resp.url
    if resp.not_modified:
        source_rows.touch(store.db, key, now.timestamp(), 304)
    else:
        source_rows.remember(
            store.db, key, resp.etag, resp.last_modified, now.timestamp(), resp.status
        )
