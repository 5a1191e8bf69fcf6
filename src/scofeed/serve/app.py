"""The WSGI app: routing, the published files (their answers: ``serve.answers``), the
HTML pages (``serve.pages``) and health.

The routes are listed in ``scofeed.serve``. An error raised while answering becomes
its ``ScofeedError.http_status`` here, in ``App.__call__`` and nowhere else (a 5xx never
shows its message); anything else is a logged 500.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from scofeed import websub
from scofeed.activitypub.routes import Answer, Routes
from scofeed.config import FEED_FILES, Config, tag_slug
from scofeed.config.redact import input_name
from scofeed.errors import (
    HubRequestError,
    ScofeedError,
    StoreBusy,
    UnknownEntry,
)
from scofeed.normalise import id_slug
from scofeed.publish import last_change, lists_with, published_sets
from scofeed.render import CONTENT_TYPES
from scofeed.render.catalog import ARCHIVE_DIR, OPML_FILE
from scofeed.serve import access, metrics, paths
from scofeed.serve.answers import (
    CORS_OPEN,
    HELD_BYTES,
    PREFLIGHT,
    Cached,
    FeedAnswer,
    FeedCache,
    Held,
    Response,
    StartResponse,
    accepts_gzip,
    cached_size,
    file_answer,
    not_modified,
    precondition_failed,
)
from scofeed.serve.clients import client_address
from scofeed.serve.failing import busy_answer, error_answer, plain_text, store_trouble_answer
from scofeed.serve.pages import (
    PAGE_SIZE,
    Page,
    entry_html,
    index_html,
    tag_html,
    withdrawn_html,
)
from scofeed.store import Store, busy, feedfiles, runs, store_trouble, unusable
from scofeed.store import entries as entry_rows
from scofeed.store import published as published_rows
from scofeed.store import status as status_rows
from scofeed.store.status import iso

log = logging.getLogger(__name__)

_HTML_TYPE = "text/html; charset=utf-8"
# gzip of an HTML page, made at each request (as the page is): on a 30 KB index page,
# level 5 takes ~0.2 ms (a sixth of making the page), 60% of level 9's time, for 2% more bytes
PAGE_GZIP_LEVEL = 5
OPML_TYPE = "text/x-opml; charset=utf-8"
# what ActivityPub says a client asks for (a browser sends it only after a preflight)
AP_ACCEPT = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ARCHIVE_MAX_AGE = 86400  # a closed month's archive page; the newest is cached like a feed
HUB_RETRY_AFTER = 300  # seconds: a hub request while no `scofeed run` would verify it
# requests writing to the store (POSTs: the hub, the inbox) at once, of the server's
# four workers, and the seconds each waits for its turn, then for the store's write lock
WRITERS_AT_ONCE = 2
WRITE_WAIT = 2.0
# how long a worker's stat() of a published file vouches for its answers in memory: the
# server's poll loop answers from them (``App.ready``) without any I/O for that long, so a
# file another process rewrites on disk is served new at most this late (nginx's
# open_file_cache is the same idea, with 60 s); after it, the next request goes to a
# worker, which looks again. What this process publishes (the daemon's builds) ends the
# trust at once (``publish.last_change``). At 12,000 requests a second, 0.02 s sent ~2%
# of them to a worker; 0.25 s, ~0.2%.
READY_FOR = 0.25
# the pages run no script and submit no form; images of a release may come from its
# site. default-src does not cover the last three: a <base> smuggled into content cannot
# move relative links, and no other site can frame a page (clickjacking)
_HTML_CSP = (
    "default-src 'none'; img-src http: https: data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

# name -> fn(store) -> JSON-able facts added to /healthz (e.g. webhook delivery counts)
HealthExtras = Mapping[str, Callable[[Store], object]]


class App:
    """The WSGI application. ``get_cfg`` returns the current config (it changes on reload)."""

    def __init__(
        self,
        get_cfg: Callable[[], Config],
        store: Store,
        health_extras: HealthExtras | None = None,
        on_hub_request: Callable[[], object] | None = None,
        activitypub: Routes | None = None,
        hub_unavailable: Callable[[], str | None] | None = None,
        held_bytes: int = HELD_BYTES,
    ) -> None:
        """``held_bytes``: of feed bytes held in memory, and as much of their answers."""
        self.get_cfg = get_cfg
        self.store = store
        self.health_extras = dict(health_extras or {})
        self.feeds = FeedCache(held_bytes)
        # per config: URL path -> (format, file path); per (URL path, gzip): the answers
        # to a published file, built once per version of it (``ready`` reads them too)
        self._feed_paths: tuple[Config | None, dict[str, tuple[str, str]]] = (None, {})
        # the answers of each path and encoding, held as the bytes they hand out are
        self._answers: Held[tuple[str, bool], FeedAnswer] = Held(
            lambda a: cached_size(a.cached), held_bytes
        )
        self.ready_for = READY_FOR
        # the WebSub hub's endpoint is served when something verifies what it takes in
        # (the daemon's websub job, which ``on_hub_request`` wakes); ``scofeed serve``
        # takes requests in for the ``scofeed run`` sharing its store, and while none
        # runs ``hub_unavailable`` says why not (a 503)
        self.on_hub_request = on_hub_request
        self.hub_unavailable = hub_unavailable
        self._hub_limiter: websub.RateLimiter | None = None
        self._hub_refusals = websub.Refusals()  # their log lines, throttled
        self.activitypub = activitypub  # asked first when [activitypub] is enabled
        self.requests = metrics.Requests()  # answered, by route and status (/metrics)
        self._writing = threading.BoundedSemaphore(WRITERS_AT_ONCE)  # ``_posted``

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        started, cfg = time.perf_counter(), None
        try:
            cfg = self.get_cfg()
            if method == "POST":  # the hub, the inbox: they write to the store
                response = self._posted(environ)
            else:
                response = self._dispatch(method, environ)
        except ScofeedError as exc:
            response = error_answer(exc.http_status, exc, environ)
        except Exception as exc:
            if store_trouble(exc):  # the machine's (damaged, gone, full), not a bug
                response = store_trouble_answer(unusable(self.store.path, exc), environ)
            else:
                response = error_answer(500, exc, environ)
        hub = cfg.websub.hub_path if cfg is not None else ""
        self.requests.add(metrics.route_of(environ.get("PATH_INFO", ""), hub), response.status)
        if cfg is not None and cfg.serve.access_log:
            access.logged(cfg, environ, method, response, started)
        return response.send(
            start_response, head=method == "HEAD", file_wrapper=environ.get("wsgi.file_wrapper")
        )

    def _dispatch(self, method: str, environ: Mapping[str, Any]) -> Response:
        response = None
        if self.activitypub is not None:
            response = _activitypub(self.activitypub, method, environ)
        if response is None:
            response = self.route(method, environ.get("PATH_INFO", ""), environ)
        return response

    def _posted(self, environ: Mapping[str, Any]) -> Response:
        """A POST (a WebSub subscription, an ActivityPub activity), which may write to
        the store: its writes go ``WRITERS_AT_ONCE`` at a time (a key fetched first
        holds no turn), each waiting at most ``WRITE_WAIT`` for its turn and for the
        store's write lock, else a 503 to come back to. While another process held the
        lock (a long build, a sqlite3 shell), four such requests held the server's four
        workers for the whole ``limits.store_wait`` (30 s): every feed and /healthz
        waited as long."""
        try:
            with self.store.waiting_at_most(WRITE_WAIT, self._writing):
                return self._dispatch("POST", environ)
        except StoreBusy:
            return busy_answer(environ)
        except sqlite3.OperationalError as exc:
            if not busy(exc):
                raise
            return busy_answer(environ)

    def route(self, method: str, path: str, environ: Mapping[str, Any]) -> Response:
        cfg = self.get_cfg()
        path = path or "/"  # "GET http://host HTTP/1.1": the absolute form's empty path
        if path == "*" and method == "OPTIONS":  # the server as a whole (RFC 9110 9.3.7)
            posts = cfg.websub.enabled or cfg.activitypub.enabled  # the hub, the inbox
            methods = "GET, HEAD, OPTIONS" + (", POST" if posts else "")
            return Response(204, b"", [("Allow", methods)])
        if path == cfg.websub.hub_path and cfg.websub.enabled and self._serves_hub():
            return self.hub(cfg, method, environ)
        if method not in ("GET", "HEAD"):
            return self.other_method(method, path, environ)
        if path == "/":
            return self.index(cfg, 1, environ)
        if m := paths.PAGE.fullmatch(path):
            return self.index(cfg, int(m.group(1)), environ)
        if path == "/healthz":
            return self.health(cfg)
        if path == "/metrics":
            return self.metrics(cfg, environ)
        if path.startswith("/tags/") and (m := paths.TAG_PAGE.fullmatch(paths.decoded(path))):
            slug, rest, number = m.groups()
            return self.tag_page(cfg, slug, rest or "", int(number or 1), environ)
        feed = self._feed_path(cfg, path)
        if feed is not None:
            return self.feed(cfg, *feed, environ)
        if path == "/" + OPML_FILE:
            return self.published_file(cfg, OPML_FILE, environ)
        rel = paths.published_path(path)
        if rel is not None and paths.FORMAT_OF[rel.rpartition("/")[2]] in cfg.feeds.formats:
            if rel in FEED_FILES.values() or feedfiles.published(self.store.db, rel):
                return self.published_file(cfg, rel, environ)
            if (where := paths.canonical_tag_file(rel)) and feedfiles.published(
                self.store.db, where
            ):
                where = "../" * (rel.count("/") - 1) + quote(where.removeprefix("tags/"))
                return _moved(where, CORS_OPEN)  # a script on another site follows it
        if path.startswith("/entries/") and paths.SLUG.fullmatch(path[len("/entries/") :]):
            return self.entry(cfg, path[len("/entries/") :], environ)
        return plain_text(404, "not found\n")

    def other_method(self, method: str, path: str, environ: Mapping[str, Any]) -> Response:
        """A method other than GET and HEAD. A path nothing is served at is a 404 whatever
        the method (a POST there said 405, as if something were). A published file, open
        to every origin, answers a CORS preflight (OPTIONS): a page on another site that
        revalidates a feed with ``If-None-Match`` sends one first, and without an answer
        the browser never sent the GET. Anything else is a 405 naming what is allowed."""
        try:
            found = self.route("GET", path, environ)
        except ScofeedError as exc:
            found = error_answer(exc.http_status, exc, environ)
        if found.status == 404:
            return found
        return _preflight_or_405(method, found.headers)

    def _feed_path(self, cfg: Config, path: str) -> tuple[str, str] | None:
        known, paths = self._feed_paths
        if known is not cfg:
            feeds = cfg.paths.feeds
            paths = {
                "/" + FEED_FILES[f]: (f, str(feeds / FEED_FILES[f])) for f in cfg.feeds.formats
            }
            self._feed_paths = (cfg, paths)
        return paths.get(path)

    def feed(self, cfg: Config, fmt: str, file: str, environ: Mapping[str, Any]) -> Response:
        """A feed file from memory: one stat() to see whether it changed, then headers and
        bodies (plain and gzip) built once per version of the file."""
        checked = time.monotonic()
        cached = self.feeds.get(file)
        if cached is None:
            return self._gone(environ)
        use_gzip = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
        max_age = cfg.schedule.scan_interval

        def build() -> FeedAnswer:
            link = websub.link_header(cfg, cfg.feed_url(fmt))
            return file_answer(cfg, cached, use_gzip, CONTENT_TYPES[fmt], max_age, link)

        key = (environ.get("PATH_INFO", ""), use_gzip)
        return self._answer(key, cfg, cached, max_age, checked, build).respond(environ)

    def published_file(self, cfg: Config, rel: str, environ: Mapping[str, Any]) -> Response:
        """A published file (``rel``: its path under feeds/) with conditional GET, gzip,
        and its caching: a closed month's archive page for ``ARCHIVE_MAX_AGE``, anything
        else (subscription feeds, the newest archive page, OPML) for a scan interval.
        Subscription feeds carry the WebSub ``Link`` header. Its answers are built once
        per version of the file, as a feed's are."""
        checked = time.monotonic()
        cached = self.feeds.get(str(cfg.paths.feeds / rel))
        if cached is None:
            return self._gone(environ)
        use_gzip = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
        folder, _, name = rel.rpartition("/")
        archive = folder.partition(f"{ARCHIVE_DIR}/")[2] if f"{ARCHIVE_DIR}/" in rel else ""
        max_age = cfg.schedule.scan_interval
        if archive and not paths.newest_month(cfg.paths.feeds / rel, archive):
            max_age = ARCHIVE_MAX_AGE

        def build() -> FeedAnswer:
            link = None
            if not archive and rel != OPML_FILE:
                link = websub.link_header(cfg, cfg.site.base_url.rstrip("/") + "/" + quote(rel))
            kind = OPML_TYPE if rel == OPML_FILE else CONTENT_TYPES[paths.FORMAT_OF[name]]
            return file_answer(cfg, cached, use_gzip, kind, max_age, link)

        key = (environ.get("PATH_INFO", ""), use_gzip)
        return self._answer(key, cfg, cached, max_age, checked, build).respond(environ)

    def _answer(
        self,
        key: tuple[str, bool],
        cfg: Config,
        cached: Cached,
        max_age: int,
        checked: float,
        build: Callable[[], FeedAnswer],
    ) -> FeedAnswer:
        """The answers held for ``key`` (path, gzip) when they fit this version of the
        file (their ``checked`` moved on), else new ones from ``build``, held in their
        place unless a later look at the file (a slower worker's) already replaced them."""
        held = self._answers.get(key)
        if held is not None and held.fits(cfg, cached, max_age):
            held.checked = max(held.checked, checked)
            return held
        answer = build()
        answer.checked = checked
        if held is None or held.checked <= checked:
            self._answers.put(key, answer)
        return answer

    def _gone(self, environ: Mapping[str, Any]) -> Response:
        """A 404 for a file not (or no longer) there; its answers held are dropped."""
        for use_gzip in (False, True):
            self._answers.pop((environ.get("PATH_INFO", ""), use_gzip))
        return plain_text(404, "feed not published yet\n")

    def ready(self, path: str, environ: Mapping[str, Any]) -> Response | None:
        """The answer to a GET or HEAD of ``path`` (its ``PATH_INFO``, no query) from
        memory alone, for the server to give without a worker thread: only when a worker
        answered the same path, config and encoding within ``ready_for`` seconds (see
        ``READY_FOR``), and this process published nothing since. No I/O here, ever;
        None: let a worker answer (always with ``serve.access_log``: a worker logs it)."""
        answer = self._answers.get((path, accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))))
        if answer is None or answer.cfg is not self.get_cfg() or answer.cfg.serve.access_log:
            return None
        checked = answer.checked
        if time.monotonic() - checked >= self.ready_for or checked <= last_change():
            return None
        if answer.expired():  # its early Last-Modified: a worker builds the true one
            return None
        return answer.respond(environ)

    def answered(self, path: str, status: int) -> None:
        """A request the server answered from ``ready`` in its poll loop: counted, as
        ``__call__`` counts the rest."""
        self.requests.add(metrics.route_of(path, self.get_cfg().websub.hub_path), status)

    def _serves_hub(self) -> bool:
        return self.on_hub_request is not None or self.hub_unavailable is not None

    def hub(self, cfg: Config, method: str, environ: Mapping[str, Any]) -> Response:
        """A WebSub subscription request: 202 and a verification to follow, or a 4xx
        with the reason in plain text (a 503 while nothing would verify it)."""
        if method != "POST":
            return _not_allowed("the hub takes POST requests\n", "POST")
        limiter = self._hub_limiter
        if limiter is None or limiter.limit != cfg.websub.rate:
            limiter = self._hub_limiter = websub.RateLimiter(cfg.websub.rate)
        now = time.time()
        if not limiter.allow(client_address(cfg, environ), now):
            response = plain_text(429, "too many requests: try again in a minute\n")
            response.headers.append(("Retry-After", "60"))
            return response
        why = self.hub_unavailable() if self.hub_unavailable is not None else None
        if why is not None:
            response = plain_text(503, why + "\n")
            response.headers.append(("Retry-After", str(HUB_RETRY_AFTER)))
            return response
        limit = cfg.websub.max_body
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return plain_text(400, "malformed Content-Length\n")
        if length > limit:
            return plain_text(413, f"the body is larger than {limit} bytes\n")
        body = environ["wsgi.input"].read(limit + 1)  # more than the limit: refused below
        try:
            content_type = environ.get("CONTENT_TYPE", "")
            websub.receive(cfg, self.store, body, content_type, now, self._hub_refusals)
        except HubRequestError as exc:
            response = plain_text(exc.http_status, str(exc))
            if exc.retry_after is not None:
                response.headers.append(("Retry-After", str(exc.retry_after)))
            return response
        if self.on_hub_request is not None:
            self.on_hub_request()
        return plain_text(202, "accepted: the hub will verify the intent with the callback\n")

    def index(self, cfg: Config, number: int, environ: Mapping[str, Any]) -> Response:
        """Page ``number`` of the index (1 is ``/``; ``/page/1`` redirects there);
        past the last page, a 404."""
        if number == 1 and environ.get("PATH_INFO") not in ("/", ""):  # "": absolute form
            return _moved("../")
        db = self.store.db
        total = published_rows.count(db)
        page = Page.of(number, total)
        if number > page.count:
            return plain_text(404, f"no page {number}: the index has {page.count}\n")
        entries = published_rows.page(db, page.offset, PAGE_SIZE, total)
        markup = index_html(cfg, entries, published_sets(cfg, self.store), page)
        response = _page(environ, markup, cfg)
        if self.activitypub is not None and number == 1:  # the actor's profile link
            response.headers.append(("Link", self.activitypub.alternate_link()))
        return response

    def tag_page(
        self, cfg: Config, slug: str, rest: str, number: int, environ: Mapping[str, Any]
    ) -> Response:
        """Page ``number`` of a tag's releases, with its feeds when it has some. A tag no
        published release has and that has no feeds is a 404, as a page past the last,
        whatever the spelling. The page has one address, ``tags/<slug>/`` (or
        ``.../page/<n>``): another spelling of the same tag (``Security``,
        ``foreign!ministers`` for ``foreign-ministers``), no final slash, or ``page/1``
        is a 301 there (relative, as the site may be served under a folder); a page
        served at each spelling was a duplicate of it."""
        wanted = tag_slug(slug)
        db = self.store.db
        lists = lists_with(db, wanted) if wanted else []
        sets = published_sets(cfg, self.store)
        fs = next((s for s in sets if s.tag is not None and tag_slug(s.tag) == wanted), None)
        if fs is None and not lists:
            return plain_text(404, "no release has that tag\n")
        total = published_rows.count(db, lists)
        page = Page.of(number, total)
        if number > page.count:
            return plain_text(404, f"no page {number}: the tag has {page.count}\n")
        if slug != wanted or not rest or rest == "/page/1":
            up = "../" * rest.count("/")  # from the folder of the request to /tags/
            return _moved(up + quote(wanted) + "/" + (f"page/{number}" if number > 1 else ""))
        entries = published_rows.page(db, page.offset, PAGE_SIZE, total, lists)
        name = fs.tag if fs is not None and fs.tag else paths.tag_named(lists[0], wanted)
        return _page(environ, tag_html(cfg, name, fs, entries, page), cfg)

    def entry(self, cfg: Config, slug: str, environ: Mapping[str, Any]) -> Response:
        e = entry_rows.get(self.store.db, slug)  # UnknownEntry: a 404
        if id_slug(e.id) != slug:  # the slug matched as the end of a longer one
            raise UnknownEntry(f"no entry with id {slug!r}")
        if e.withdrawal is not None:  # withdrawn: 410 Gone, with when and why
            page = _page(environ, withdrawn_html(cfg, e), cfg, status=410)
        else:
            page = _page(environ, entry_html(cfg, e), cfg)
        if self.activitypub is not None:  # the same URL gives ActivityPub clients a Note
            page.headers = [  # (a Tombstone once withdrawn)
                (k, "Accept-Encoding, Accept" if k == "Vary" else v) for k, v in page.headers
            ]
        return page

    def health(self, cfg: Config) -> Response:
        db = self.store.db
        every = runs.of_sources(runs.all_runs(db), cfg.polled())
        # the daemon's scan, or beside `scofeed serve` a cron job's `scofeed build`: with
        # the scan alone, such a site said "starting" for ever, a failed build unseen
        scan = runs.feeds_run(every)
        status = "starting" if scan is None else ("ok" if scan.ok else "failing")
        job_errors = [
            {"job": r.name, "at": iso(r.finished), "error": r.error} for r in runs.failing(every)
        ]
        # the rejects ``scofeed status`` lists: a refused ``add`` ages out after reject_ttl
        rejected = status_rows.rejected(
            db, time.time(), cfg.limits.reject_ttl * 86400, cfg.polled()
        )
        own = {s.url for s in cfg.sources}  # a source's URL may hold its credentials
        rejects = [
            {"origin": input_name(r.origin, own), "source": r.source, "reason": r.reason,
             "at": r.at}
            for r in rejected[:10]
        ]  # fmt: skip
        body: dict[str, Any] = {
            "status": status,
            "last_scan": _run_json(scan),
            "entries": published_rows.count(db),
            "jobs": {r.name: _run_json(r) for r in every},
            "last_errors": job_errors + rejects,
        }
        for name, fn in self.health_extras.items():
            try:
                body[name] = fn(self.store)
            except Exception as exc:  # one broken section must not hide the rest
                body[name] = {"error": str(exc)}
        data = (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()
        headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
        return Response(503 if status == "failing" else 200, data, headers)

    def metrics(self, cfg: Config, environ: Mapping[str, Any]) -> Response:
        """Prometheus's scrape (``serve.metrics``): a 404 unless ``serve.metrics_token``
        is set, a 401 without it."""
        allowed = metrics.allowed(cfg, environ)
        if allowed is None:
            return plain_text(404, "not found\n")
        if not allowed:
            response = plain_text(401, "a bearer token is needed: serve.metrics_token\n")
            response.headers.append(("WWW-Authenticate", 'Bearer realm="scofeed metrics"'))
            return response
        headers = [("Content-Type", metrics.CONTENT_TYPE), ("Cache-Control", "no-store")]
        return Response(200, metrics.exposition(cfg, self.store, self.requests), headers)


def _run_json(run: runs.Run | None) -> dict[str, Any] | None:
    if run is None:
        return None
    return {
        "at": iso(run.finished),
        "ok": run.ok,
        "result": run.summary,
        "error": run.error,
        "last_ok": iso(run.last_ok),
        "failures": run.failures,
        "seconds": round(run.finished - run.started, 3),
    }


def _activitypub(routes: Routes, method: str, environ: Mapping[str, Any]) -> Response | None:
    """The ActivityPub answer to this request, or None when it is not one of its routes."""
    path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
    answer: Answer | None
    if method == "POST" and path in routes.inbox_paths():
        length = environ.get("CONTENT_LENGTH") or "0"
        if routes.body_too_big(length):
            return plain_text(413, "request body too large\n")
        body = environ["wsgi.input"].read(int(length))
        headers = {
            k[5:].replace("_", "-").title(): str(v)
            for k, v in environ.items()
            if k.startswith("HTTP_")
        }
        # WSGI keeps these two apart from HTTP_*; a signature may cover either (Pleroma,
        # Akkoma and Mobilizon sign content-length)
        for name, key in (("Content-Type", "CONTENT_TYPE"), ("Content-Length", "CONTENT_LENGTH")):
            if environ.get(key):
                headers[name] = environ[key]
        answer = routes.post(path, query, headers, body)
    elif method in ("GET", "HEAD"):
        answer = routes.get(path, query, environ.get("HTTP_ACCEPT", ""))
    elif path in routes.inbox_paths():  # PUT, DELETE...: the inbox takes POST alone
        return _not_allowed("POST only\n", "POST")
    elif (found := routes.get(path, query, AP_ACCEPT)) is not None and found.status != 404:
        # the actor, its outbox, a Note, WebFinger, NodeInfo: open to every origin, and
        # asked for with the Accept ActivityPub names, which a browser sends only after
        # a preflight (its quotes and colon are no "safelisted" value)
        return _preflight_or_405(method, found.headers)
    else:
        return None
    if answer is None:
        return None
    headers_out = [("Content-Type", answer.content_type), *answer.headers]
    return Response(answer.status, answer.body, headers_out)


def _moved(where: str, *more: tuple[str, str]) -> Response:
    """A 301 to ``where`` (a reference relative to the request's address), with ``more``
    headers: a feed's carries ``CORS_OPEN``, without which a browser does not follow it
    for a script on another site (Fetch: a CORS request's redirect must allow it)."""
    return Response(301, b"", [("Location", where), ("Content-Type", _HTML_TYPE), *more])


def _preflight_or_405(method: str, found: list[tuple[str, str]]) -> Response:
    """The answer to a method other than GET and HEAD where GET answers with ``found``
    headers: a CORS preflight's (OPTIONS) where that answer is open to every origin,
    else a 405 naming what is allowed."""
    if CORS_OPEN not in found:
        return _not_allowed("method not allowed\n", "GET, HEAD")
    if method != "OPTIONS":
        return _not_allowed("method not allowed\n", "GET, HEAD, OPTIONS")
    return Response(204, b"", [CORS_OPEN, *PREFLIGHT])


def _not_allowed(text: str, allow: str) -> Response:
    """A 405: plain text, like every other error answer, and the methods allowed."""
    response = plain_text(405, text)
    response.headers.append(("Allow", allow))
    return response


def _page(environ: Mapping[str, Any], markup: str, cfg: Config, status: int = 200) -> Response:
    """An HTML page, gzipped for a client that takes it (an index page of 50 summaries
    is ~30 KB, a fifth of that gzipped), with an ETag per encoding as a feed has. A 200
    answers If-Match that fits neither ETag with 412, and If-None-Match with 304; an
    error status (a withdrawn entry's 410) does neither."""
    body = markup.encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()[:32]
    plain, gzipped = f'"{digest}"', f'"{digest}-gz"'
    use_gzip = accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
    etag = gzipped if use_gzip else plain
    headers = [
        ("ETag", etag),
        ("Cache-Control", f"public, max-age={cfg.schedule.scan_interval}"),
        ("Vary", "Accept-Encoding"),  # the body and the ETag are the encoding's
        ("Content-Security-Policy", _HTML_CSP),
        # the modern browsers' default, said for the others: a link or image to another
        # site is told this site's origin, never the page (an older one sent it whole)
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ]
    if status == 200 and precondition_failed(environ, (plain, gzipped), None):
        return Response(412, b"precondition failed: the page is not the version asked for\n",
                        [("ETag", etag), ("Vary", "Accept-Encoding"),
                         ("Content-Type", "text/plain; charset=utf-8")])  # fmt: skip
    inm = environ.get("HTTP_IF_NONE_MATCH")
    if status == 200 and inm is not None and not_modified({"HTTP_IF_NONE_MATCH": inm}, [etag], 0):
        return Response(304, b"", headers)
    headers.append(("Content-Type", _HTML_TYPE))
    if use_gzip:
        headers.append(("Content-Encoding", "gzip"))
        body = gzip.compress(body, compresslevel=PAGE_GZIP_LEVEL, mtime=0)
    return Response(status, body, headers)
