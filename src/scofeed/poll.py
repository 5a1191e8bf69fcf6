"""Polling remote sources: page-list sites (the SCO Secretariat) and feeds.

``poll_due`` polls every enabled source whose ``next_poll`` in the store has come,
records the outcome in the ``sources`` table, and re-publishes the feeds when an
entry changed. Due-ness lives in SQLite, so a restart loses nothing; the store also
keeps the schedule each ``next_poll`` came from, so a source whose interval or cron
changed in the config is due by its new schedule from the next start or reload. One driver,
``_poll``, serves every source kind (``sources.remote.KINDS``): a conditional GET of
the source's URL (an unchanged one costs a 304), the releases it holds ingested, then
the linked pages not seen before fetched and ingested (a listing's next pages read too
while they hold new links: a catch-up after a downtime, ``_catch_up``). Each bad page
is recorded in ``rejects`` and skipped; one refused for a passing reason (a 403, a
5xx) is tried again at later polls, further and further apart, and given up after a
week (``_refused``); a failing source is recorded and never stops the others.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlsplit

from scofeed.config import Config, RemoteSource
from scofeed.config.redact import logged, safe_url
from scofeed.errors import (
    TEMPORARY,
    NormaliseError,
    OutOfMemory,
    PageGone,
    RejectedInput,
    ScofeedError,
    StoreError,
    TemporaryFailure,
    UsageError,
    memory_ran_out,
    out_of_memory,
    unexpected,
)
from scofeed.ingest import Change, ingest, tally
from scofeed.model import Planner, Release
from scofeed.normalise import url_key
from scofeed.outboxes import planner as outbox_planner
from scofeed.poll_times import (
    backoff,
    due_at,
    next_poll,
    not_before,
    retry_due,
    schedule_of,
    scheduled_wait,
)
from scofeed.pool import within_budget
from scofeed.publish import publish_feeds
from scofeed.sources.http import Fetcher, Response, remember, same_site
from scofeed.sources.listing import ArticleNumber
from scofeed.sources.remote import KINDS, Found, Kind
from scofeed.store import Store, store_trouble
from scofeed.store import files as file_rows
from scofeed.store import origins as origin_rows
from scofeed.store import pages as page_rows
from scofeed.store import sources as source_rows
from scofeed.store import status as status_rows

_T = TypeVar("_T")
log = logging.getLogger(__name__)

FAILURES_IN_A_ROW = 3  # temporary failures of a source's pages that end a poll's pages
# an article page refused for a passing reason (a 403 from a firewall, a 429, a 5xx, a
# timeout) is tried again at the next poll, then after 2, 4, 8 ... times the scheduled
# wait (at most a day apart); refused for a week, and at least this many times, it is
# given up: recorded as rejected for good, listed by `scofeed status`, retried by --force
PAGE_GIVE_UP = 7 * 86400
PAGE_GIVE_UP_TRIES = 5
TOLD_AT_MOST = 20  # inputs refused in one poll of a source that get a line each


@dataclass
class SourceResult:
    name: str
    kind: str
    status: str = "ok"  # ok | unchanged | error | skipped
    fetched: int = 0  # HTTP requests made
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (origin, reason)
    repeats: int = 0  # of them, refused for that reason before (logged at DEBUG)
    error: str | None = None
    next_poll: datetime | None = None
    retry_after: str | None = None  # a 429 or 5xx's Retry-After: the next poll waits for it
    failures: int = 0  # polls of this source that failed in a row, this one included
    # the machine's trouble that failed the poll (the store, memory), not the source's:
    # the daemon's job fails with it, a line that stays the same while it lasts
    trouble: ScofeedError | None = None

    def summary(self) -> str:
        if self.status == "error":
            again = f" ({self.failures} polls in a row)" if self.failures > 1 else ""
            return f"error: {self.error}{again}"
        return (
            f"{self.status} fetched={self.fetched} new={self.new} updated={self.updated} "
            f"duplicates={self.duplicates} rejected={len(self.rejected)}"
        )

    def line(self) -> str:
        when = f" next={self.next_poll.isoformat(timespec='seconds')}" if self.next_poll else ""
        return f"{self.name} ({self.kind}): {self.summary()}{when}"


@dataclass
class PollReport:
    results: list[SourceResult] = field(default_factory=list)
    written: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(r.new or r.updated for r in self.results)

    @property
    def failed(self) -> bool:
        return any(r.status == "error" or r.rejected for r in self.results)


@dataclass(frozen=True)
class _Run:
    """What one ``poll_due`` shares with each source it polls."""

    cfg: Config
    store: Store
    fetcher: Fetcher
    now: datetime
    force: bool
    planner: Planner | None

    def read(self, origin: str, reader: Callable[..., _T], *args: object) -> _T:
        """A reader's work on what was fetched, under the per-file time budget."""
        return within_budget(self.cfg.limits.file_seconds, origin, reader, *args)


def poll_due(
    cfg: Config,
    store: Store,
    now: datetime,
    force: bool = False,
    only: str | Iterable[str] | None = None,
    planner: Planner | None = None,
    fetcher: Fetcher | None = None,
) -> PollReport:
    """Poll each enabled source that is due (all selected ones with ``force``).
    ``only`` names sources to consider; a disabled source is polled when named.
    Without a ``planner``, the webhook outbox plans deliveries when webhooks are set."""
    wanted = {only} if isinstance(only, str) else set(only) if only is not None else None
    if wanted is not None:
        unknown = sorted(wanted - {s.name for s in cfg.sources})
        if unknown:
            raise UsageError(f"no remote source named {unknown[0]!r} in the configuration")
    report = PollReport()
    own = fetcher is None
    run = _Run(
        cfg,
        store,
        fetcher or Fetcher(store),
        now,
        force,
        planner or outbox_planner(cfg, now),
    )
    try:
        for src in cfg.sources:
            if wanted is not None and src.name not in wanted:
                continue
            if wanted is None and not src.enabled:
                continue
            when = due_at(store, src, now, cfg.site.timezone)
            due = when is None or when <= now.timestamp()
            if not (due or force):
                continue
            early = None if due else datetime.fromtimestamp(when or 0.0, tz=now.tzinfo)
            report.results.append(_poll_source(run, src, early))
    finally:
        if own:
            run.fetcher.close()
    if report.changed:
        report.written = publish_feeds(cfg, store, now)
    return report


def _poll_source(run: _Run, src: RemoteSource, early: datetime | None = None) -> SourceResult:
    """Poll one source and record the outcome. ``early``: the next poll the schedule had
    set, when ``--force`` polls the source before it; such a poll that fails leaves that
    time and the failures in a row as they were (the operator's try is no scheduled poll:
    counted, it lengthened the back-off, a next poll 1 h away moved to 2 h). A poll that
    succeeds, forced or not, ends the back-off."""
    result = SourceResult(src.name, src.kind)
    before = run.fetcher.requests
    try:
        _poll(run, src, KINDS[src.kind], result)
    except RejectedInput as exc:
        result.status, result.error = "error", exc.reason
        if isinstance(exc, TemporaryFailure) and exc.retry_after is not None:
            result.retry_after = exc.retry_after
        if not exc.retryable:
            file_rows.reject(run.store.db, src.url, src.name, exc.reason, run.now.timestamp(), None)
    except ScofeedError as exc:
        result.status, result.error = "error", str(exc)
        result.trouble = exc if isinstance(exc, (OutOfMemory, StoreError)) else None
    except Exception as exc:  # a bug or a surprise in one source never stops the others
        result.status = "error"
        result.trouble = _trouble(run, exc, src.url)
        if result.trouble is None:
            log.exception("poll_failed source=%s", src.name)
            result.error = f"{type(exc).__name__}: {exc}"
        else:  # a full disk, memory short: one line naming the store, no traceback (a
            result.error = str(result.trouble)  # traceback at every poll of every source)
    result.fetched = run.fetcher.requests - before
    tz = run.cfg.site.timezone
    failures = 0
    if result.status == "error":
        last = source_rows.state(run.store.db, src.name)
        failures = (last.failures if last is not None else 0) + (early is None)
    result.failures = failures
    if result.status == "error" and early is not None:
        due = early
    else:
        due = backoff(src, next_poll(src, run.now, tz), failures, run.now, tz)
    result.next_poll = not_before(due, result.retry_after, run.now)
    source_rows.record_poll(
        run.store.db,
        src.name,
        src.kind,
        run.now.timestamp(),
        result.next_poll.timestamp(),
        result.summary() if result.status != "error" else "error",
        result.error,
        result.new,
        schedule_of(src, tz),
        failures,
    )
    # a poll that found nothing new (a 304, the same items) is a tick of an idle daemon:
    # DEBUG, as every idle tick (docs/operations.md); INFO when it brought something, or
    # failed: the failure is said at ERROR once, by the daemon's job (`poll:NAME_failed`,
    # again only when it changes) or by `scofeed poll`'s own output (a WARNING here said
    # each failed poll twice)
    fresh = len(result.rejected) - result.repeats  # a repeat is no news, as below
    quiet = not (result.new or result.updated or fresh or result.status == "error")
    level = logging.DEBUG if quiet else logging.INFO
    log.log(
        level,
        "poll source=%s url=%s %s next=%s",  # the URL as `config show` shows it
        src.name, safe_url(src.url), result.summary(),
        result.next_poll.isoformat(timespec="seconds"),
    )  # fmt: skip
    return result


def _trouble(run: _Run, exc: BaseException, url: str) -> ScofeedError | None:
    """The machine's trouble in ``exc`` (the store, memory) as its one-line error, or
    None: a bug, or something the source sent that no reader foresaw."""
    if store_trouble(exc):  # as the daemon says it of every job's (``schedule``)
        return StoreError(f"{run.store.path}: {exc}")
    how = memory_ran_out(exc)
    return None if how is None else out_of_memory(how, safe_url(url))


def _get(run: _Run, src: RemoteSource, url: str, accept: tuple[str, ...], cond: bool) -> Response:
    return run.fetcher.get(
        url,
        accept=accept,
        timeout=src.timeout,
        max_bytes=src.max_bytes,
        delay=src.delay,
        conditional=cond,
    )


def _poll(run: _Run, src: RemoteSource, kind: Kind, result: SourceResult) -> None:
    """One source, whatever its kind: its URL, the releases it holds, the new pages it
    links to."""
    # the listing whole (not a 304) only when a page it linked, refused for now, is due
    # to be tried again (a page waiting for its turn made every poll a whole download)
    due = _due_failing(run, src)
    first = _get(run, src, src.url, kind.accept, not run.force and not due)
    file_rows.clear_rejects(run.store.db, [src.url])  # it answers again: no stale refusal
    if first.not_modified:
        remember(run.store, first, run.now)
        result.status = "unchanged"
        return
    found = run.read(src.url, kind.read, src, first, run.now)
    _ingest(run, src, found.releases, result)
    if src.kind == "feed":  # a feed lists every item it holds, each poll
        # an item refused before and no longer in it (gone from the feed, or named
        # anew: its date read otherwise) is no refusal to show in `scofeed status`
        held = {r.origin for r in found.releases} | {src.url}
        file_rows.clear_rejects_but(run.store.db, src.name, held)
    links, pages, unfinished = _catch_up(run, src, kind, first, found, result)
    # after a catch-up, oldest first: what max_items leaves for the next poll is then the
    # newest, which stays on the first page, where the next poll finds it
    fresh, _waiting = _fresh(run, src, kind, links, oldest_first=pages > 1)
    if src.kind == "page-list":  # a feed's items are in the feed, no page of their own
        fresh += _unlinked_due(run, src, kind, fresh, due)
    # the rest and a catch-up cut short come at a later poll, not a 304; pages waiting
    # to be tried again make the listing read whole when they are due (``_due_failing``)
    complete = len(fresh) <= src.max_items and not unfinished
    if len(fresh) > src.max_items and not unfinished and src.kind == "page-list" and src.pages > 1:
        # what max_items leaves may be pushed off the first page before the next poll,
        # behind a last link already known: the next polls go on past the first page (as
        # after a catch-up cut short) until a poll takes in all it found
        if source_rows.cut_short(run.store.db, src.name) is None:
            source_rows.set_cut_short(run.store.db, src.name, run.now.timestamp())
    failing = 0  # temporary failures in a row
    if result.retry_after is not None:  # a next listing page asked us to wait: the
        fresh, complete = [], False  # article pages come at the next poll, after it
    for n, (link, earlier) in enumerate(fresh[: src.max_items]):
        if failing >= FAILURES_IN_A_ROW:  # the host is in trouble: leave it alone; the
            log.info(  # rest come at the next poll (after these, which go last)
                "poll_backed_off source=%s failures=%d pages_left=%d",
                src.name, failing, min(len(fresh), src.max_items) - n,
            )  # fmt: skip
            complete = False
            break
        former = _former(src, link, earlier)
        try:
            page = _get(run, src, link, kind.page_accept, False)
            releases = run.read(link, kind.read_page, src, link, page, run.now)
        except RejectedInput as exc:
            if isinstance(exc, PageGone) and exc.status != 410 and not earlier:
                exc = _not_up_yet(exc)  # no trouble of the host's: not counted below
            else:
                failing = failing + 1 if exc.retryable else 0
            _refused(run, src, link, exc, result)
            if isinstance(exc, TemporaryFailure) and exc.retry_after is not None:
                result.retry_after = exc.retry_after  # the host asked us to wait: the
                complete = False  # source's other new pages come at the next poll, after
                break  # the wait
            continue
        except Exception as exc:  # noqa: BLE001 - a reader's bug on one page rejects that
            # page only, as a build does a file (it stopped the source's later pages at
            # every poll); the machine's trouble (the store, memory) is not the page's
            trouble = _trouble(run, exc, link)
            if trouble is not None:
                raise trouble from None
            _reject(run, src, link, unexpected(exc), result)
            continue
        failing = 0
        moved = {r.origin: former for r in releases} if former else None
        for release, change in _ingest(run, src, releases, result, moved):
            if change.kind != "duplicate":  # the page speaks for its entry: watch it
                watch_page(run.cfg, run.store, link, src.name, release.origin, change, run.now)
                if former is not None:  # in place of its old address
                    page_rows.forget(run.store.db, former)
        remember(run.store, page, run.now)  # a recheck of an unchanged page costs a 304
    # the validators are kept only once every item is in (or refused for good): a
    # failure before this point must not turn the next poll into a 304 that hides some
    if complete:
        remember(run.store, first, run.now)


def _fresh(
    run: _Run, src: RemoteSource, kind: Kind, links: list[str], oldest_first: bool = False
) -> tuple[list[tuple[str, list[str]]], int]:
    """The linked pages not ingested (or refused for good) before, each with the
    addresses its article was ingested under before (``_earlier``); and how many more
    wait, refused for now, to be tried again at a later poll."""
    fresh: list[tuple[str, list[str]]] = []
    keys: set[object] = set()
    official = run.cfg.authority_of(src.name) != "other"
    for link in links:
        key = url_key(link)
        number = kind.number(src, link)
        if key in keys or (number is not None and number in keys):
            continue  # the same article under two spellings of its address
        keys.update((key, number))
        if _known(run, link, official):
            back = _moved_back(run.store.db, link)
            if back is not None:  # the article moved back: read there, as a move
                fresh.append((link, [back]))
            continue
        earlier = _earlier(run, src, kind, link, number)
        if not _same_page_known(link, earlier, run.store.db):
            fresh.append((link, earlier))
    if len(fresh) > src.max_items:
        log.info("poll_capped source=%s fresh=%d max_items=%d", src.name, len(fresh), src.max_items)
    # pages that failed for a passing reason go after those never tried: a page that
    # keeps failing never holds the others back (nor does a host's bad spell)
    failed = source_rows.failed_for_now(run.store.db, [link for link, _e in fresh])
    scheduled = scheduled_wait(src, run.now, run.cfg.site.timezone)
    due = [
        page
        for page in fresh
        if run.force or page[0] not in failed or retry_due(failed[page[0]], scheduled, run.now)
    ]
    if oldest_first:
        due.reverse()
    return sorted(due, key=lambda page: page[0] in failed), len(fresh) - len(due)


def _due_failing(run: _Run, src: RemoteSource) -> list[str]:
    """The pages of ``src`` refused for a passing reason whose turn has come
    (``retry_due``), those of its site a source since renamed or removed refused too."""
    failing = source_rows.failing_pages(run.store.db, src.name, src.url)
    if src.kind == "page-list":
        # a page of this site refused for now by a source since renamed or removed (no
        # poll took its turns: the listing answered 304 and its release never came)
        owners = {s.name for s in run.cfg.sources} | {status_rows.ADD, status_rows.LOCAL}
        for page, f in source_rows.failing_orphans(run.store.db, owners).items():
            if page != src.url and same_site(src.url, page):
                failing.setdefault(page, f)
    if not failing:
        return []
    scheduled = scheduled_wait(src, run.now, run.cfg.site.timezone)
    # no cut-off by age: every turn is taken (``_unlinked_due``), so each such page
    # comes in or is given up (PAGE_GIVE_UP_TRIES turns may take longer than a week)
    return [page for page, f in failing.items() if retry_due(f, scheduled, run.now)]


def _unlinked_due(
    run: _Run, src: RemoteSource, kind: Kind, fresh: list[tuple[str, list[str]]], due: list[str]
) -> list[tuple[str, list[str]]]:
    """The pages refused for now whose turn has come that the listing pages read no
    longer link (pushed to a page not read): tried at their address all the same, so
    that each comes in, or is given up, at its turn (they waited for ever, and made the
    listing read whole at every poll). One that came in meanwhile (another spelling of
    its address) is no refusal any more."""
    official = run.cfg.authority_of(src.name) != "other"
    taken = {link for link, _e in fresh}
    numbers = {kind.number(src, link) for link in taken} - {None}
    pages: list[tuple[str, list[str]]] = []
    for page in due:  # ``_due_failing``'s
        if page in taken:
            continue  # in ``_fresh``'s
        number = kind.number(src, page)
        # known, or its article is read at another address (this poll, or before): no
        # refusal any more (a linked spelling ``_fresh`` passed over stayed due for ever)
        if _known(run, page, official) or (
            number is not None and (number in numbers or _earlier(run, src, kind, page, number))
        ):
            file_rows.clear_rejects(run.store.db, [page])
        else:
            pages.append((page, []))
    return pages


def _known(run: _Run, link: str, official: bool) -> bool:
    """An article page ingested before, or refused for good (``source_rows.seen``)."""
    return source_rows.seen(run.store.db, link, url_key(link), run.force, official)


def _catch_up(
    run: _Run, src: RemoteSource, kind: Kind, first: Response, found: Found, result: SourceResult
) -> tuple[list[str], int, bool]:
    """The article links of the listing, and of its next pages while the last (oldest)
    link of each page read is new to the store: releases that left the first page while
    scofeed was not polling (or the site was down) are on the next ones. At most
    ``max_pages`` pages in all, the same host, never one page twice; not on a source's
    first poll (nothing to catch up on: it would be a backfill). With them, the number
    of listing pages read, and whether the catch-up was cut short by a next page
    failing for now: the next polls then go on past the first page whatever its last
    link, for a week at most (``PAGE_GIVE_UP``); a Retry-After is put in ``result``
    (the poll leaves the host alone)."""
    links = list(found.links)
    db = run.store.db
    since = source_rows.cut_short(db, src.name)
    # a catch-up cut short goes on at the next polls, for a week at most
    pending = since is not None and run.now.timestamp() - since < PAGE_GIVE_UP
    if src.pages < 2 or not source_rows.brought(db, src.name):
        if since is not None:
            source_rows.set_cut_short(db, src.name, None)
        return links, 1, False
    if source_rows.catch_up_held(db, src.name):
        # a next page asked us to wait at the last poll: the first page's articles come
        # in now, the catch-up at the next poll (a next page answering 429 at every poll
        # held back every article, the first page's too, for good)
        source_rows.hold_catch_up(db, src.name, False)
        return links, 1, True
    official = run.cfg.authority_of(src.name) != "other"
    seen_pages = {url_key(src.url), url_key(first.url)}
    page, resp, pages, unfinished = found.links, first, 1, False
    while page and ((pending and pages == 1) or not _known(run, page[-1], official)):
        after = kind.next_page(src, resp)
        if after is None:
            break
        if pages >= src.pages:
            log.info(
                "poll_catch_up_capped source=%s pages=%d max_pages=%d",
                src.name, pages, src.pages,
            )  # fmt: skip
            break
        if url_key(after) in seen_pages or not same_site(first.url, after):
            break  # a page read already; another host (never found: same host only)
        seen_pages.add(url_key(after))
        try:
            resp = _get(run, src, after, kind.accept, False)
            if url_key(resp.url) in seen_pages - {url_key(after)}:
                break  # redirected to a page read already (a site's ?page=99 to page 1)
            seen_pages.add(url_key(resp.url))
            page = run.read(resp.url, kind.read, src, resp, run.now).links
            if set(page) <= set(links):  # a site serving page 1 for any number, "next" too
                raise RejectedInput(resp.url, "only links the pages before it had")
        except RejectedInput as exc:  # an older page's trouble costs only the catch-up
            log.info(
                "poll_catch_up_stopped source=%s page=%s reason=%r",
                src.name, logged(exc.origin), exc.reason,
            )  # fmt: skip
            unfinished = exc.retryable
            if isinstance(exc, TemporaryFailure) and exc.retry_after is not None:
                result.retry_after = exc.retry_after
                source_rows.hold_catch_up(db, src.name, True)
            break
        pages += 1
        links.extend(page)
    if pages > 1:
        log.info("poll_caught_up source=%s pages=%d", src.name, pages)
    if not unfinished:
        if since is not None:
            source_rows.set_cut_short(db, src.name, None)
    elif not pending:  # the first cut of a run (or one after a week: a new run)
        source_rows.set_cut_short(db, src.name, run.now.timestamp())
    return links, pages, unfinished


def _not_up_yet(exc: PageGone) -> TemporaryFailure:
    """A new article page the listing links answering 404 or "page not found" (a 410
    says it is gone for good): a site lists a release a moment before its page is up (a
    cache, a lag), so it is refused for now, tried again at later polls and given up
    after a week as any page refused for a passing reason (refused for good at once, the
    release never came)."""
    return TemporaryFailure(exc.origin, f"{exc.reason}; linked from the listing: not up yet?")


def _refused(
    run: _Run, src: RemoteSource, link: str, exc: RejectedInput, result: SourceResult
) -> bool:
    """Record an article page refused; True when it is to be tried again later (refused
    for a passing reason), False when refused for good, or given up: refused for a
    passing reason for ``PAGE_GIVE_UP`` and at least ``PAGE_GIVE_UP_TRIES`` times."""
    if not exc.retryable:
        _reject(run, src, link, exc.reason, result)
        return False
    now = run.now.timestamp()
    failing = source_rows.fail_for_now(run.store.db, link, src.name, exc.reason, now)
    if now - failing.since < PAGE_GIVE_UP or failing.tries < PAGE_GIVE_UP_TRIES:
        _told(src, link, exc.reason, result)
        return True
    days = (now - failing.since) / 86400
    last = exc.reason.removeprefix(TEMPORARY)
    reason = f"given up after {failing.tries} refusals in {days:.0f} days (last: {last})"
    _reject(run, src, link, reason, result)
    return False


def _earlier(
    run: _Run, src: RemoteSource, kind: Kind, link: str, number: ArticleNumber | None
) -> list[str]:
    """The addresses other than ``link`` this article was ingested under (the ``sco``
    preset: the same day and number on the same host), oldest first."""
    if number is None:
        return []
    authority = run.cfg.authority_of(src.name)
    return [
        origin
        for origin in source_rows.pages_like(run.store.db, number.like(), authority)
        if origin != link and kind.number(src, origin) == number
    ]


def _same_page_known(link: str, earlier: list[str], db: sqlite3.Connection) -> bool:
    """The article ingested before at an address of the same file name in another folder
    (``/news/20261127/1001220.html`` after ``/20261127/1001220.html``: the site serves
    both), unless a recheck found that address gone: the same page, not fetched again.
    It was taken for a move, and its entry revised and pushed with not a word changed.
    A new file name (a corrected headline's slug), or the old address gone (the page
    moved for good), is a move (``_former``)."""
    name = urlsplit(link).path.rpartition("/")[2]
    return any(
        urlsplit(origin).path.rpartition("/")[2] == name and not page_rows.is_gone(db, origin)
        for origin in earlier
    )


def _moved_back(db: sqlite3.Connection, link: str) -> str | None:
    """The address an article moved to from ``link`` (a corrected headline's slug), when
    the listing links ``link`` again and a recheck found that address gone: the site
    undid the move, and the page at ``link`` is read as a move back (it was taken for
    known: the entry kept the dropped headline and linked a dead page)."""
    now = origin_rows.live_name(db, link)
    return now if now != link and "://" in now and page_rows.is_gone(db, now) else None


def _former(src: RemoteSource, link: str, earlier: list[str]) -> str | None:
    """The address this article was ingested under before, when it has moved (a
    corrected headline changes the slug of its address): the page is then a correction
    of that entry."""
    if not earlier:
        return None
    log.info("page_moved source=%s from=%s to=%s", src.name, logged(earlier[0]), logged(link))
    return earlier[0]


def watch_page(
    cfg: Config, store: Store, url: str, source: str, origin: str, change: Change, now: datetime
) -> None:
    """Recheck this official page while it is recent (``[recheck]``, ``scofeed.recheck``)."""
    page_rows.watch(
        store.db,
        url,
        source,
        origin,
        change.entry.id,
        change.entry.published.timestamp(),
        now.timestamp(),
        cfg.recheck.interval,
    )


def _ingest(
    run: _Run,
    src: RemoteSource,
    releases: list[Release],
    result: SourceResult,
    moved: dict[str, str] | None = None,
) -> list[tuple[Release, Change]]:
    done: list[tuple[Release, Change]] = []
    for release in releases:
        try:
            (change,) = ingest(run.cfg, run.store, [release], run.now, run.planner, moved=moved)
        except (NormaliseError, RejectedInput) as exc:  # RejectedInput: past the budget
            reason = getattr(exc, "reason", None) or str(exc).removeprefix(release.origin + ": ")
            _reject(run, src, release.origin, reason, result)
            continue
        file_rows.clear_rejects(run.store.db, [release.origin])
        tally(result, change.kind)
        done.append((release, change))
    return done


def _reject(run: _Run, src: RemoteSource, origin: str, reason: str, result: SourceResult) -> None:
    again = file_rows.reject_reason(run.store.db, origin) == reason
    file_rows.reject(run.store.db, origin, src.name, reason, run.now.timestamp(), None)
    _told(src, origin, reason, result, again)


def _told(
    src: RemoteSource, origin: str, reason: str, result: SourceResult, again: bool = False
) -> None:
    """A refused input in the poll's result and its log line: at DEBUG when it was
    refused for that reason before (``again``), as a feed's bad item is at every poll
    while the feed keeps it: a line each poll said nothing new."""
    result.rejected.append((origin, reason))
    if again:
        result.repeats += 1
        log.debug("rejected origin=%s source=%s reason=%r again", logged(origin), src.name, reason)
        return
    # info, as a build's: `scofeed poll` prints each on stderr, and a warning said it twice.
    # One line each up to TOLD_AT_MOST a poll, then one for the rest: a feed of 100,000
    # items without a body wrote 100,000 lines at each poll (each is still recorded)
    told = len(result.rejected) - result.repeats  # the lines said at INFO, this one too
    if told <= TOLD_AT_MOST:
        log.info("rejected origin=%s source=%s reason=%r", logged(origin), src.name, reason)
    elif told == TOLD_AT_MOST + 1:
        log.info(
            "rejected source=%s: more inputs, not each logged (scofeed status lists them)",
            src.name,
        )
