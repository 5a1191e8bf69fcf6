"""Polling remote sources: page-list sites (the SCO Secretariat) and feeds.

``poll_due`` polls every enabled source whose ``next_poll`` in the store has come,
records the outcome in the ``sources`` table, and re-publishes the feeds when an
entry changed. Due-ness lives in SQLite, so a restart loses nothing; the store also
keeps the schedule each ``next_poll`` came from, so a source whose interval or cron
changed in the config is due by its new schedule from the next start or reload. One driver,
``_poll``, serves every source kind (``sources.remote.KINDS``): a conditional GET of
the source's URL (an unchanged one costs a 304), the releases it holds ingested, then
the linked pages not seen before fetched and ingested (a listing's next pages read too
while they hold new links: a catch-up after a downtime, ``catchup``). Each bad page
is recorded in ``rejects`` and skipped; one refused for a passing reason (a 403, a
5xx) is tried again at later polls, further and further apart, and given up after a
week (``refusals``); a failing source is recorded and never stops the others.
Which linked pages a poll fetches is ``linked``'s.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from scofeed.config import Config, RemoteSource
from scofeed.config.redact import safe_url
from scofeed.errors import (
    NormaliseError,
    OutOfMemory,
    PageGone,
    RejectedInput,
    ScofeedError,
    StoreError,
    TemporaryFailure,
    UsageError,
    unexpected,
)
from scofeed.ingest import Change, ingest, tally
from scofeed.model import Planner, Release
from scofeed.outboxes import planner as outbox_planner
from scofeed.poll import linked, refusals
from scofeed.poll.catchup import catch_up
from scofeed.poll.refusals import PAGE_GIVE_UP, TOLD_AT_MOST
from scofeed.poll.run import Run, SourceResult, get, machine_trouble
from scofeed.poll_times import backoff, due_at, next_poll, not_before, schedule_of
from scofeed.publish import publish_feeds
from scofeed.sources.http import Fetcher, remember
from scofeed.sources.remote import KINDS, Kind
from scofeed.store import Store
from scofeed.store import files as file_rows
from scofeed.store import pages as page_rows
from scofeed.store import sources as source_rows

log = logging.getLogger(__name__)

FAILURES_IN_A_ROW = 3  # temporary failures of a source's pages that end a poll's pages

__all__ = ["PAGE_GIVE_UP", "TOLD_AT_MOST", "PollReport", "SourceResult", "poll_due", "watch_page"]


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
    run = Run(
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


def _poll_source(run: Run, src: RemoteSource, early: datetime | None = None) -> SourceResult:
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
        result.trouble = machine_trouble(run, exc, src.url)
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


def _poll(run: Run, src: RemoteSource, kind: Kind, result: SourceResult) -> None:
    """One source, whatever its kind: its URL, the releases it holds, the new pages it
    links to."""
    # the listing whole (not a 304) only when a page it linked, refused for now, is due
    # to be tried again (a page waiting for its turn made every poll a whole download)
    due = linked.due_failing(run, src)
    first = get(run, src, src.url, kind.accept, not run.force and not due)
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
    links, pages, unfinished = catch_up(run, src, kind, first, found, result)
    # after a catch-up, oldest first: what max_items leaves for the next poll is then the
    # newest, which stays on the first page, where the next poll finds it
    fresh, _waiting = linked.fresh(run, src, kind, links, oldest_first=pages > 1)
    if src.kind == "page-list":  # a feed's items are in the feed, no page of their own
        fresh += linked.unlinked_due(run, src, kind, fresh, due)
    # the rest and a catch-up cut short come at a later poll, not a 304; pages waiting
    # to be tried again make the listing read whole when they are due (``linked.due_failing``)
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
        former = linked.former(src, link, earlier)
        try:
            page = get(run, src, link, kind.page_accept, False)
            releases = run.read(link, kind.read_page, src, link, page, run.now)
        except RejectedInput as exc:
            if isinstance(exc, PageGone) and exc.status != 410 and not earlier:
                exc = refusals.not_up_yet(exc)  # no trouble of the host's: not counted below
            else:
                failing = failing + 1 if exc.retryable else 0
            refusals.refused(run, src, link, exc, result)
            if isinstance(exc, TemporaryFailure) and exc.retry_after is not None:
                result.retry_after = exc.retry_after  # the host asked us to wait: the
                complete = False  # source's other new pages come at the next poll, after
                break  # the wait
            continue
        except Exception as exc:  # noqa: BLE001 - a reader's bug on one page rejects that
            # page only, as a build does a file (it stopped the source's later pages at
            # every poll); the machine's trouble (the store, memory) is not the page's
            trouble = machine_trouble(run, exc, link)
            if trouble is not None:
                raise trouble from None
            refusals.reject(run, src, link, unexpected(exc), result)
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
    run: Run,
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
            refusals.reject(run, src, release.origin, reason, result)
            continue
        file_rows.clear_rejects(run.store.db, [release.origin])
        tally(result, change.kind)
        done.append((release, change))
    return done
