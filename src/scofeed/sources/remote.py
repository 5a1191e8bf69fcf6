"""Polling remote sources: page-list sites (the SCO Secretariat) and feeds.

``poll_due`` polls every enabled source whose ``next_poll`` in the store has come,
records the outcome in the ``sources`` table, and re-publishes the feeds when an
entry changed. Due-ness lives in SQLite, so a restart loses nothing. A page-list
poll fetches the listing with a conditional GET (an unchanged listing costs one
304) and then only the article pages not seen before; a feed poll reads every item
of a changed feed. Each bad page is recorded in ``rejects`` and skipped; a failing
source is recorded and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from scofeed import pipeline
from scofeed.config import Config, RemoteSource
from scofeed.errors import NormaliseError, RejectedInput, ScofeedError, UsageError
from scofeed.model import Release
from scofeed.normalise import canonical_url
from scofeed.sources import htmlpage
from scofeed.sources.feed import read_feed
from scofeed.sources.http import FEED_TYPES, HTML_TYPES, Fetcher, Response, remember
from scofeed.store import Store
from scofeed.store import files as file_rows
from scofeed.store import sources as source_rows
from scofeed.store.sources import TEMPORARY

log = logging.getLogger(__name__)


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
    error: str | None = None
    next_poll: datetime | None = None

    def summary(self) -> str:
        if self.status == "error":
            return f"error: {self.error}"
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


def next_poll(src: RemoteSource, now: datetime, tz: str) -> datetime:
    """When the source is next due: its cron line's next time, else now + interval."""
    if src.cron:
        from apscheduler.triggers.cron import CronTrigger

        trigger = CronTrigger.from_crontab(src.cron, timezone=ZoneInfo(tz))
        fire = trigger.get_next_fire_time(None, now)
        if fire is not None:
            return fire  # type: ignore[no-any-return]
    return datetime.fromtimestamp(now.timestamp() + src.interval, tz=now.tzinfo)


def selectors_for(src: RemoteSource) -> htmlpage.Selectors:
    """The preset's selectors with the source's own selectors laid over them."""
    base = htmlpage.PRESETS[src.preset] if src.preset else htmlpage.DEFAULT
    return htmlpage.Selectors(
        items=(src.item_selector,) if src.item_selector else base.items,
        link_pattern=src.link_pattern or base.link_pattern,
        title=(src.title_selector,) if src.title_selector else base.title,
        date=(src.date_selector,) if src.date_selector else base.date,
        body=(src.body_selector,) if src.body_selector else base.body,
    )


def poll_due(
    cfg: Config,
    store: Store,
    now: datetime,
    force: bool = False,
    only: str | Iterable[str] | None = None,
    planner: pipeline.Planner | None = None,
    fetcher: Fetcher | None = None,
) -> PollReport:
    """Poll each enabled source that is due (all selected ones with ``force``).
    ``only`` names sources to consider; a disabled source is polled when named."""
    wanted = {only} if isinstance(only, str) else set(only) if only is not None else None
    if wanted is not None:
        unknown = sorted(wanted - {s.name for s in cfg.sources})
        if unknown:
            raise UsageError(f"no remote source named {unknown[0]!r} in the configuration")
    report = PollReport()
    own = fetcher is None
    fetch = fetcher or Fetcher(store)
    try:
        for src in cfg.sources:
            if wanted is not None and src.name not in wanted:
                continue
            if wanted is None and not src.enabled:
                continue
            state = source_rows.state(store.db, src.name)
            due = state is None or state.next_poll is None or state.next_poll <= now.timestamp()
            if not (due or force):
                continue
            report.results.append(_poll_source(cfg, store, fetch, src, now, force, planner))
    finally:
        if own:
            fetch.close()
    if report.changed:
        report.written = pipeline.publish_feeds(cfg, store)
    return report


def _poll_source(
    cfg: Config,
    store: Store,
    fetcher: Fetcher,
    src: RemoteSource,
    now: datetime,
    force: bool,
    planner: pipeline.Planner | None,
) -> SourceResult:
    result = SourceResult(src.name, src.kind)
    before = fetcher.requests
    try:
        if src.kind == "feed":
            _poll_feed(cfg, store, fetcher, src, now, force, planner, result)
        else:
            _poll_pages(cfg, store, fetcher, src, now, force, planner, result)
    except RejectedInput as exc:
        result.status, result.error = "error", exc.reason
        if not exc.reason.startswith(TEMPORARY):
            file_rows.reject(store.db, src.url, src.name, exc.reason, now.timestamp(), None)
    except ScofeedError as exc:
        result.status, result.error = "error", str(exc)
    except Exception as exc:  # a bug or a surprise in one source never stops the others
        log.exception("poll_failed source=%s", src.name)
        result.status, result.error = "error", f"{type(exc).__name__}: {exc}"
    result.fetched = fetcher.requests - before
    result.next_poll = next_poll(src, now, cfg.site.timezone)
    source_rows.record_poll(
        store.db,
        src.name,
        src.kind,
        now.timestamp(),
        result.next_poll.timestamp(),
        result.summary() if result.status != "error" else "error",
        result.error,
        result.new,
    )
    level = logging.WARNING if result.status == "error" else logging.INFO
    log.log(level, "poll source=%s %s", src.name, result.summary())
    return result


def _get(
    fetcher: Fetcher, src: RemoteSource, url: str, accept: tuple[str, ...], cond: bool
) -> Response:
    return fetcher.get(
        url,
        accept=accept,
        timeout=src.timeout,
        max_bytes=src.max_bytes,
        delay=src.delay,
        conditional=cond,
    )


def _poll_pages(
    cfg: Config,
    store: Store,
    fetcher: Fetcher,
    src: RemoteSource,
    now: datetime,
    force: bool,
    planner: pipeline.Planner | None,
    result: SourceResult,
) -> None:
    listing = _get(fetcher, src, src.url, HTML_TYPES, not force)
    if listing.not_modified:
        remember(store, listing, now)
        result.status = "unchanged"
        return
    sel = selectors_for(src)
    text = htmlpage.decode_html(listing.body, listing.charset)
    links = htmlpage.listing_links(text, listing.url, sel)
    fresh: list[str] = []
    keys: set[str] = set()
    for link in links:
        key = canonical_url(link)
        if key in keys:
            continue  # the same article under two spellings of its address
        keys.add(key)
        if not source_rows.seen(store.db, link, key, retry_rejected=force):
            fresh.append(link)
    if len(fresh) > src.max_items:
        log.info("poll_capped source=%s fresh=%d max_items=%d", src.name, len(fresh), src.max_items)
        fresh = fresh[: src.max_items]
    retry_later = False
    for link in fresh:
        try:
            page = _get(fetcher, src, link, HTML_TYPES, False)
            page_text = htmlpage.decode_html(page.body, page.charset)
            releases = htmlpage.read_page(
                link, page_text, url=page.url, selectors=sel, context=now, source=src.name
            )
        except RejectedInput as exc:
            retry_later |= exc.reason.startswith(TEMPORARY)
            _reject(store, src, link, exc.reason, now, result)
            continue
        _ingest(cfg, store, releases, now, planner, src, result)
    if not retry_later:
        # only once every article is in (or rejected for good) may the listing be a 304
        remember(store, listing, now)


def _poll_feed(
    cfg: Config,
    store: Store,
    fetcher: Fetcher,
    src: RemoteSource,
    now: datetime,
    force: bool,
    planner: pipeline.Planner | None,
    result: SourceResult,
) -> None:
    resp = _get(fetcher, src, src.url, FEED_TYPES, not force)
    if resp.not_modified:
        remember(store, resp, now)
        result.status = "unchanged"
        return
    releases = read_feed(src.url, resp.body, resp.url, source=src.name)
    _ingest(cfg, store, releases, now, planner, src, result)
    # the validators are kept only once the items are in: a failure before this point
    # must not turn the next poll into a 304 that hides them
    remember(store, resp, now)


def _ingest(
    cfg: Config,
    store: Store,
    releases: list[Release],
    now: datetime,
    planner: pipeline.Planner | None,
    src: RemoteSource,
    result: SourceResult,
) -> None:
    for release in releases:
        try:
            (change,) = pipeline.ingest(cfg, store, [release], now, planner)
        except NormaliseError as exc:
            reason = str(exc).removeprefix(release.origin + ": ")
            _reject(store, src, release.origin, reason, now, result)
            continue
        file_rows.clear_rejects(store.db, [release.origin])
        pipeline.tally(result, change.kind)


def _reject(
    store: Store, src: RemoteSource, origin: str, reason: str, now: datetime, result: SourceResult
) -> None:
    file_rows.reject(store.db, origin, src.name, reason, now.timestamp(), None)
    result.rejected.append((origin, reason))
    log.warning("rejected origin=%s source=%s reason=%r", origin, src.name, reason)
