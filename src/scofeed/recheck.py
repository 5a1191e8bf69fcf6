"""Rechecking official pages, so an edit on the site becomes a correction.

An article page of a ``page-list`` source, or a page given to ``scofeed add URL``, is
watched from the moment it is ingested (``store.pages``). While it was published in
the last ``recheck.days`` days it is fetched again every ``recheck.interval`` seconds
(the first check spread over one interval by the page's address), with a conditional
GET: an unchanged page costs a 304 and nothing more. A changed text is ingested as an
edit of the same input, so it becomes a correction (``release.updated``) exactly like
an edited file: a page-list page is ingested again under its URL; an ``add`` page's
JSON file in sources/ is rewritten and built (the page read in the format ``add
--format`` named, if any). A page that now answers 404 or 410 is kept (never withdrawn
by this) and listed in ``scofeed status``. Requests obey the
per-host delay of the source the page came from (of a source on the same host for an
``add`` page; 2 s when there is none); the pages of a source that is disabled or no
longer configured are not fetched. Due-ness lives in SQLite: a restart loses nothing.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime

from scofeed.add import ADD_SOURCE
from scofeed.added import refresh_added
from scofeed.config import Config, RemoteSource
from scofeed.config.redact import logged
from scofeed.errors import NormaliseError, PageGone, RejectedInput, TemporaryFailure
from scofeed.ingest import ingest
from scofeed.model import Planner, Release
from scofeed.outboxes import planner as outbox_planner
from scofeed.poll_times import retry_wait
from scofeed.pool import within_budget
from scofeed.publish import publish_feeds
from scofeed.sources import htmlpage
from scofeed.sources.http import ADD_TYPES, HTML_TYPES, Fetcher, Response, host_of, remember
from scofeed.sources.remote import found, page_text, read_added, selectors_for, still_an_article
from scofeed.store import Store
from scofeed.store import pages as page_rows
from scofeed.store import sources as source_rows
from scofeed.store.pages import Page

log = logging.getLogger(__name__)

DAY = 86400
PER_RUN = 100  # pages checked in one run at most; the rest are still due at the next
FORGET_AFTER = 365 * DAY  # past the recheck window, a watched page is kept this long
DEFAULT_DELAY = 2.0  # seconds between requests to a host no source names (a source's default)


@dataclass
class RecheckReport:
    checked: int = 0
    unchanged: int = 0  # a 304, or the same text again
    updated: int = 0  # corrections
    gone: list[str] = field(default_factory=list)  # URLs answering 404 / 410
    failed: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    skipped: int = 0  # pages of a disabled or removed source: not fetched
    written: list[str] = field(default_factory=list)  # feed files rewritten, relative to feeds/

    def wrote(self, paths: list[str]) -> None:
        self.written += [p for p in paths if p not in self.written]

    @property
    def eventful(self) -> bool:
        """Whether a page changed, went or could not be fetched."""
        return bool(self.updated or self.gone or self.failed)

    def line(self) -> str:
        return (
            f"checked={self.checked} unchanged={self.unchanged} updated={self.updated} "
            f"gone={len(self.gone)} failed={len(self.failed)}"
        ) + (f" skipped={self.skipped}" if self.skipped else "")


@dataclass(frozen=True)
class _Run:
    cfg: Config
    store: Store
    fetcher: Fetcher
    now: datetime
    planner: Planner | None


def recheck_due(
    cfg: Config,
    store: Store,
    now: datetime,
    force: bool = False,
    planner: Planner | None = None,
    fetcher: Fetcher | None = None,
) -> RecheckReport:
    """Check every watched page that is due (every recent one with ``force``)."""
    since = now.timestamp() - cfg.recheck.days * DAY
    # the window is the due query's; a page is forgotten a year past it: pruned at its
    # edge, one run with the clock ahead (a wrong NTP step) forgot yesterday's pages for
    # good, and a recheck.days raised later brought back none
    pruned = page_rows.prune(store.db, since - FORGET_AFTER)
    if pruned:
        log.info("recheck_pruned pages=%d days=%d", pruned, cfg.recheck.days)
    pages = page_rows.due(store.db, math.inf if force else now.timestamp(), since, PER_RUN)
    report = RecheckReport()
    if not pages:
        return report
    run = _Run(
        cfg,
        store,
        fetcher or Fetcher(store),
        now,
        planner or outbox_planner(cfg, now),
    )
    held: dict[str, float] = {}  # host -> when its Retry-After is over
    try:
        for page in pages:
            if _source(cfg, page) is None and page.source != ADD_SOURCE:
                # its source is disabled or gone from the config: no traffic to it
                page_rows.postpone(store.db, page.url, now.timestamp() + cfg.recheck.interval)
                report.skipped += 1
                continue
            host = host_of(page.url)
            if host in held:  # the host asked us to wait: its other pages wait too
                page_rows.postpone(store.db, page.url, held[host])
                report.skipped += 1
                continue
            until = _check(run, page, report)
            if until is not None:
                held[host] = until
    finally:
        if fetcher is None:
            run.fetcher.close()
    if report.updated:  # page-list corrections; an add page's build wrote its own
        report.wrote(publish_feeds(cfg, store))
    # every page the same (304s): DEBUG, as an idle tick; INFO when one changed or failed
    log.log(logging.INFO if report.eventful else logging.DEBUG, "recheck %s", report.line())
    return report


def _source(cfg: Config, page: Page) -> RemoteSource | None:
    """The enabled page-list source a page came from; for an ``add`` page, any source
    on its host (for its delay)."""
    for src in cfg.sources:
        if src.name == page.source and src.kind == "page-list":
            return src if src.enabled else None
    if page.source == ADD_SOURCE:
        host = host_of(page.url)
        same = [s for s in cfg.sources if host_of(s.url) == host]
        return max(same, key=lambda s: s.delay, default=None)
    return None


def _check(run: _Run, page: Page, report: RecheckReport) -> float | None:
    """Fetch one page again; when its host answered with a ``Retry-After``, the time
    until which the host's pages wait."""
    src = _source(run.cfg, page)
    added = page.source == ADD_SOURCE
    at = run.now.timestamp()
    next_check = at + run.cfg.recheck.interval
    report.checked += 1
    try:
        resp = run.fetcher.get(
            page.url,
            accept=ADD_TYPES if added else HTML_TYPES,
            timeout=src.timeout if src else 20.0,
            max_bytes=src.max_bytes if src else run.cfg.limits.max_file_bytes,
            delay=src.delay if src else DEFAULT_DELAY,
            conditional=True,
        )
    except PageGone as exc:
        _gone(run, page, exc, report, next_check)
        return None
    except RejectedInput as exc:  # temporary ones too: the next interval tries again
        wait = retry_wait(exc.retry_after, run.now) if isinstance(exc, TemporaryFailure) else None
        if wait is not None:
            next_check = max(next_check, at + wait)
        page_rows.record(run.store.db, page.url, at, next_check, None, exc.reason)
        report.failed.append((page.url, exc.reason))
        log.info(  # info: `scofeed recheck` prints it; a warning said it twice
            "recheck_failed url=%s entry=%s reason=%r",
            logged(page.url), page.entry_id, exc.reason,
        )  # fmt: skip
        return at + wait if wait is not None else None
    if resp.not_modified:
        remember(run.store, resp, run.now)
        page_rows.record(run.store.db, page.url, at, next_check, 304)
        report.unchanged += 1
        return None
    try:
        if added:
            changed = _refresh_added(run, page, resp, report)
        else:
            changed = _reingest(run, page, src, resp)
    except PageGone as exc:  # a "page not found" page answered with a 200
        _gone(run, page, exc, report, next_check)
        return None
    except (RejectedInput, NormaliseError) as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        page_rows.record(run.store.db, page.url, at, next_check, resp.status, reason)
        report.failed.append((page.url, reason))
        log.info(
            "recheck_failed url=%s entry=%s reason=%r", logged(page.url), page.entry_id, reason
        )
        return None
    remember(run.store, resp, run.now)  # kept once the text is in: the next check may 304
    page_rows.record(run.store.db, page.url, at, next_check, resp.status)
    if changed:
        report.updated += 1
        log.info("recheck_corrected url=%s entry=%s", logged(page.url), page.entry_id)
    else:
        report.unchanged += 1
    return None


def _gone(run: _Run, page: Page, exc: PageGone, report: RecheckReport, next_check: float) -> None:
    """A page that answers 404 or 410 (or a "page not found" page): kept, listed."""
    at = run.now.timestamp()
    page_rows.record(run.store.db, page.url, at, next_check, exc.status, exc.reason)
    listing = next((s.url for s in run.cfg.sources if s.name == page.source), None)
    if page.gone_since is None and listing is not None:
        # newly gone: its source's next poll reads the listing whole, not a 304, and
        # finds where the page went (another folder, or back to an address it left)
        source_rows.forget_validators(run.store.db, listing)
    report.gone.append(page.url)
    log.info(  # info: `scofeed recheck` prints it; a warning said it twice
        "recheck_gone url=%s entry=%s status=%d reason=%r",
        logged(page.url), page.entry_id, exc.status, exc.reason,
    )  # fmt: skip


def _reingest(run: _Run, page: Page, src: RemoteSource | None, resp: Response) -> bool:
    """A page-list page: its release ingested again under the same input (its URL)."""
    selectors = selectors_for(src) if src else htmlpage.PRESETS["sco"]
    still_an_article(page.url, resp, selectors)
    context = datetime.fromtimestamp(page.published, tz=run.now.tzinfo)
    text = page_text(resp)

    def read() -> list[Release]:
        return htmlpage.read_page(
            page.origin, text, url=resp.url, selectors=selectors, context=context,
            source=page.source,
        )  # fmt: skip

    releases = found(page.url, within_budget(run.cfg.limits.file_seconds, page.url, read))
    changes = ingest(run.cfg, run.store, releases, run.now, run.planner)
    return any(c.kind == "updated" for c in changes)


def _refresh_added(run: _Run, page: Page, resp: Response, report: RecheckReport) -> bool:
    """An ``add URL`` page: its file in sources/ rewritten and built, as an edit (the
    build publishes: the feed files it wrote go into the report)."""
    path = run.cfg.paths.sources / page.origin
    if not path.is_file():
        page_rows.forget(run.store.db, page.url)
        raise RejectedInput(page.url, f"its file {page.origin} is gone from sources/; not watched")
    still_an_article(page.url, resp, htmlpage.PRESETS["sco"])  # an SCO article's address
    context = datetime.fromtimestamp(page.published, tz=run.now.tzinfo)
    seconds = run.cfg.limits.file_seconds
    _suffix, releases = within_budget(
        seconds, page.url, read_added, run.cfg, page.url, resp, context, page.format
    )
    built = refresh_added(run.cfg, run.store, path, page.url, releases, run.now, run.planner)
    if built is None:
        return False
    report.wrote(built.written)
    return built.updated > 0
