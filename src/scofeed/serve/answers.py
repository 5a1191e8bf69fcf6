"""What the server answers with: a response, and the answers for a published file.

The feed files' bytes are held in memory per version (``FeedCache``: one ``stat()`` a
request), with their gzip copy and both ETags made once, up to ``HELD_BYTES`` (the
least recently asked for dropped first: one crawl of a large site's history held the
whole feeds folder, 370 MB for 30,000 releases, for good); ``FeedAnswer`` holds the 200
and 304 of one version, headers complete, built once (``file_answer``) and handed to the
server as they are. Conditional GET (``not_modified``) and the Accept-Encoding choice
(``accepts_gzip``) follow RFC 9110.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from typing import Any, Generic, TypeVar

from scofeed.config import Config

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
LARGE_BODY = 64 << 10  # bytes from which a body is handed to the server as a file


_STATUS_LINES = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    complete: bool = False  # headers already hold nosniff and Content-Length (prebuilt)

    @property
    def status_line(self) -> str:
        return _STATUS_LINES[self.status]

    def completed(self) -> Response:
        """The same answer with the headers ``send`` adds (for answers built once)."""
        if self.complete:
            return self
        headers = [*self.headers, ("X-Content-Type-Options", "nosniff")]
        if self.status not in (204, 304):  # neither has a body, nor says its length
            headers.append(("Content-Length", str(len(self.body))))
        return Response(self.status, self.body, headers, complete=True)

    def send(
        self, start_response: StartResponse, head: bool, file_wrapper: Any = None
    ) -> Iterable[bytes]:
        """The WSGI answer. ``file_wrapper`` (the server's ``wsgi.file_wrapper``): a large
        body is handed over as a file, which waitress queues as it is (its own bytes,
        not copied into the connection's buffer, and no wait for a client that does
        not read: the worker is free once the answer is queued)."""
        headers = self.completed().headers
        start_response(self.status_line, headers)
        if head or self.status == 304:
            return []
        if file_wrapper is not None and len(self.body) >= LARGE_BODY:
            return file_wrapper(io.BytesIO(self.body))  # type: ignore[no-any-return]
        return [self.body]


@dataclass(frozen=True)
class Cached:
    key: tuple[int, int, int]  # (mtime_ns, size, inode) of the file these bytes came from
    body: bytes
    gzipped: bytes  # compressed once per version of the file, never per request
    etag: str  # strong: a hash of the bytes
    etag_gzip: str
    mtime: int  # whole seconds, as Last-Modified states it
    last_modified: str


HELD_BYTES = 64 << 20  # of feed bytes and their gzip copies held, in each of two holds
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Held(Generic[K, V]):
    """Values by key up to ``budget`` bytes in all (``size`` of each), the one least
    recently asked for dropped first. One larger than the budget is not held."""

    def __init__(self, size: Callable[[V], int], budget: int = HELD_BYTES) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._size = size
        self._budget = budget
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        size = self._size(value)
        with self._lock:
            self._drop(key)
            if size > self._budget:
                return
            self._items[key] = value
            self._bytes += size
            while self._bytes > self._budget:
                self._drop(next(iter(self._items)))

    def pop(self, key: K) -> None:
        with self._lock:
            self._drop(key)

    def _drop(self, key: K) -> None:
        value = self._items.pop(key, None)
        if value is not None:
            self._bytes -= self._size(value)

    @property
    def bytes(self) -> int:
        return self._bytes


def cached_size(cached: Cached) -> int:
    return len(cached.body) + len(cached.gzipped)


class FeedCache:
    """Feed bytes held in memory, refreshed when the file's mtime, size or inode change,
    so a request costs one stat() and a look-up; up to ``HELD_BYTES`` of them."""

    def __init__(self, budget: int = HELD_BYTES) -> None:
        self._items: Held[str, Cached] = Held(cached_size, budget)

    def get(self, path: str) -> Cached | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._items.get(path)
        if cached is not None and cached.key == key:
            return cached
        try:
            with open(path, "rb") as fh:
                # the time and key of the file these bytes are read from: a file
                # published between the stat above and the open gave the new bytes
                # the old version's Last-Modified
                st = os.fstat(fh.fileno())
                body = fh.read()
        except OSError:
            return None
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        digest = hashlib.sha256(body).hexdigest()[:32]
        mtime = int(st.st_mtime)
        cached = Cached(
            key=key,
            body=body,
            gzipped=gzip.compress(body, compresslevel=6, mtime=0),
            etag=f'"{digest}"',
            etag_gzip=f'"{digest}-gz"',
            mtime=mtime,
            last_modified=formatdate(mtime, usegmt=True),
        )
        self._items.put(path, cached)
        return cached


@dataclass
class FeedAnswer:
    """Both answers to a GET or HEAD of one published file (200 and 304, headers complete),
    built once per (config, file version, encoding, max-age) and handed to the server as
    they are. ``checked``: the monotonic time of the newest stat() that found this version
    current (read before the stat, so never late); ``App.ready`` trusts it for
    ``READY_FOR`` seconds. ``until``: for a file whose time is still ahead of the clock
    (publishing moves it a second on: ``publish.write_atomic``), the time (epoch
    seconds) from which these answers, which state the clock's time as Last-Modified,
    no longer fit; 0 for the others."""

    cfg: Config
    cached: Cached
    max_age: int
    etag: str  # this encoding's: the gzip copy's ETag never validates the plain bytes
    full: Response
    not_modified: Response
    checked: float = 0.0
    until: float = 0.0

    def fits(self, cfg: Config, cached: Cached, max_age: int) -> bool:
        return (
            self.cfg is cfg
            and self.cached is cached
            and self.max_age == max_age
            and not self.expired()
        )

    def expired(self) -> bool:
        return bool(self.until) and time.time() >= self.until

    def respond(self, environ: Mapping[str, Any]) -> Response:
        cached = self.cached
        etags = (self.etag,)
        sent = "" if self.until else cached.last_modified
        # a file whose time is ahead of the clock was said to be of the clock's time:
        # no date tells whether it changed since, and If-Unmodified-Since is not asked
        mtime = None if self.until else cached.mtime
        if precondition_failed(environ, (cached.etag, cached.etag_gzip), mtime):
            # whole here (nosniff, the length): the poll loop sends it as it is
            return Response(
                412,
                b"precondition failed: the feed is not the version asked for\n",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("ETag", self.etag),
                    ("Vary", "Accept-Encoding"),  # the ETag is the encoding's
                    CORS_OPEN,
                ],
            ).completed()
        # a Last-Modified stated early is no version's own: only a date after the file's
        # time makes an If-Modified-Since a 304 then
        if not_modified(environ, etags, cached.mtime, sent):
            return self.not_modified
        return self.full


CORS_OPEN = ("Access-Control-Allow-Origin", "*")
# what a script on another site may read beyond the safelisted headers: the ETag to
# revalidate with, the WebSub hub and topic
EXPOSED = ("Access-Control-Expose-Headers", "ETag, Link")
# the answer to a preflight: GET and HEAD, with the request headers of a conditional GET
# and an Accept no longer "safelisted" (ActivityPub's, with its quoted profile),
# remembered for a day
PREFLIGHT = [
    ("Access-Control-Allow-Methods", "GET, HEAD"),
    ("Access-Control-Allow-Headers", "Accept, If-None-Match, If-Modified-Since, Cache-Control"),
    ("Access-Control-Max-Age", "86400"),
    ("Allow", "GET, HEAD, OPTIONS"),
]


def file_answer(
    cfg: Config,
    cached: Cached,
    use_gzip: bool,
    kind: str,
    max_age: int,
    link: str | None,
    now: float | None = None,
) -> FeedAnswer:
    """The answers for a published file: its ETag per encoding, its caching, CORS open
    to every origin, the WebSub ``Link`` (subscription feeds only), its type and body.
    A file whose time is ahead of the clock (``now``) states the clock's time as
    Last-Modified: RFC 9110 8.8.2.1, a server MUST NOT send one later than its Date, and
    replaces a time in the future with the Date; the answers are built again once the
    clock reaches the file's time."""
    now = time.time() if now is None else now
    ahead = cached.mtime > now
    last_modified = formatdate(int(now), usegmt=True) if ahead else cached.last_modified
    etag = cached.etag_gzip if use_gzip else cached.etag
    common = [
        ("ETag", etag),
        ("Last-Modified", last_modified),
        ("Cache-Control", f"public, max-age={max_age}"),
        ("Vary", "Accept-Encoding"),
        # public data without credentials: a reader or widget running in a browser on
        # another site may read it (the 304 too, or a revalidated copy is unusable)
        CORS_OPEN,
        EXPOSED,
    ]
    if link is not None:
        common.append(("Link", link))
    full = [*common, ("Content-Type", kind)]
    if use_gzip:
        full.append(("Content-Encoding", "gzip"))
    body = cached.gzipped if use_gzip else cached.body
    return FeedAnswer(
        cfg,
        cached,
        max_age,
        etag,
        Response(200, body, full).completed(),
        Response(304, b"", common).completed(),
        until=cached.mtime if ahead else 0.0,
    )


_WEIGHT = re.compile(r"(?:^|;)\s*q\s*=\s*([0-9.]+)", re.IGNORECASE)  # a parameter named q


@functools.lru_cache(maxsize=256)  # a handful of distinct headers in practice
def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (q=0 refuses it, ``*`` stands in).
    The weight's name is case-insensitive (RFC 9110 12.4.2): ``gzip;Q=0`` refuses too."""
    explicit: float | None = None
    star: float | None = None
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        q = 1.0
        m = _WEIGHT.search(params)
        if m:
            try:
                q = float(m.group(1))
            except ValueError:
                q = 0.0
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            explicit = q
        elif coding == "*":
            star = q
    chosen = explicit if explicit is not None else star
    return bool(chosen and chosen > 0)


def precondition_failed(
    environ: Mapping[str, Any], etags: Iterable[str], mtime: int | None
) -> bool:
    """RFC 9110 13.2.2: If-Match (strong comparison; "*" matches the file there is) is
    asked first, then If-Unmodified-Since (a date it cannot read is ignored, and so is
    any while ``mtime`` is None: a file whose time is ahead of the clock): either
    failing is a 412 (a GET answered 200 to ``If-Match: "other"``, as if it held)."""
    im = environ.get("HTTP_IF_MATCH")
    if im is not None:
        offered = {t.strip() for t in im.split(",")}
        return "*" not in offered and not any(e in offered for e in etags)
    ius = environ.get("HTTP_IF_UNMODIFIED_SINCE")
    if ius and mtime is not None:
        try:
            since = parsedate_to_datetime(ius)
        except (TypeError, ValueError, OverflowError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return mtime > since.timestamp()
    return False


def not_modified(
    environ: Mapping[str, Any], etags: Iterable[str], mtime: int, last_modified: str = ""
) -> bool:
    """RFC 9110 13.1: If-None-Match (weak comparison) wins over If-Modified-Since; a date
    later than our clock is ignored (RFC 7232 3.3, as Apache does), unless it is the exact
    ``last_modified`` we sent ("" while the file's time is ahead of the clock: see
    ``file_answer``)."""
    inm = environ.get("HTTP_IF_NONE_MATCH")
    if inm is not None:
        if inm in etags:  # the common case: the client sends back the one ETag it got
            return True
        offered = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in offered or any(e in offered for e in etags)
    ims = environ.get("HTTP_IF_MODIFIED_SINCE")
    if ims:
        if ims == last_modified:  # sent back as it was given: no date parsing
            return True
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, OverflowError):  # not a date: ignored (13.1.3)
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return mtime <= since.timestamp() <= time.time()
    return False
