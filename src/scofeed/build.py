"""The build: scan sources/, ingest what changed, render and publish the feeds.

A scan finds the files changed since the last build (``sources.files``); ``pool``
prepares them (read, parse, normalise), on every core for a large batch; each one is
stored through ``ingest``, ``Tuning.commit_every`` files a transaction, with the
outbound deliveries its planner writes; bad files are quarantined (their entry's last
good version stays published); then ``publish.publish_feeds`` writes what changed.
A file written less than ``limits.settle`` seconds ago is left for a later build
(``BuildReport.deferred``), or waited for, up to ``wait`` seconds (``scofeed build``).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from scofeed import pool, reading
from scofeed.config import Config
from scofeed.config.redact import logged
from scofeed.errors import ConfigError, PublishError, StoreUnusable, shown
from scofeed.frozen import frozen
from scofeed.ingest import Change, in_step, ingest_one, tally
from scofeed.model import Planner
from scofeed.normalise import settings_from
from scofeed.outboxes import planner as outbox_planner
from scofeed.pool import Prepared, Rejection
from scofeed.publish import DATES_FROM, Planned, contained, publish_feeds, render_batch
from scofeed.renames import Renames, continue_renamed
from scofeed.shown import new_store_beside_feeds
from scofeed.sources import files as scanner
from scofeed.store import Checkpointer, Store, copy_store, feedfiles, schema_of
from scofeed.store import entries as entry_rows
from scofeed.store import files as file_rows
from scofeed.store import origins as origin_rows
from scofeed.store import published as published_rows
from scofeed.store.files import FileState
from scofeed.store.making import refuse_not_ours
from scofeed.store.matching import Known
from scofeed.store.schema import MIGRATIONS

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_TUNING", "BuildReport", "Rejection", "Tuning", "build", "preview"]


@frozen
class Tuning:
    """How a build divides its work; the defaults suit every size of sources/."""

    pool_min_files: int = pool.POOL_MIN_FILES  # from here, worker processes prepare files
    pool_chunk: int = pool.POOL_CHUNK
    read_ahead_bytes: int = pool.READ_AHEAD_BYTES
    known_min_files: int = 100  # from here, loading every key beats a few lookups per release
    # Files stored per transaction. A cold build commits as it goes: other writers (the
    # deliverer, `scofeed add`) wait for one batch, not for the whole build; what was
    # committed survives a crash (the next build finds those files indexed and stored);
    # and SQLite's checkpoint after each commit overlaps with the workers still preparing.
    commit_every: int = 1000


DEFAULT_TUNING = Tuning()


@dataclass
class BuildReport:
    """What a build did: counts, rejects, files written (its summary line)."""

    files: int = 0  # in sources/, as the scan found them
    entries: int = 0
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    deliveries: int = 0
    # (relative path, seconds until it settles): files still being written, left for later
    deferred: list[tuple[str, float]] = field(default_factory=list)
    waited: float = 0.0  # seconds this build waited for files to settle
    # (folder, reason) of each folder of sources/ that could not be read: its files are
    # kept as the index holds them (their releases stay as they were)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    fresh_rejects: int = 0  # files rejected by this build (``rejected`` lists older ones too)
    retagged: int = 0  # stored entries whose tags changed with the [tags] rules (``retag``)

    def unreadable_line(self) -> str | None:
        """The folders that could not be read, in one line, or None."""
        if not self.unreadable:
            return None
        folder, reason = self.unreadable[0]
        more = len(self.unreadable) - 1
        also = f"; and {more} more folder{'s' * (more > 1)}" if more else ""
        return (
            f"{shown(folder)}: cannot read this folder ({reason}); the releases in it "
            f"stay as they were{also}"
        )

    def line(self) -> str:
        return (
            f"entries={self.entries} new={self.new} updated={self.updated} "
            f"rejected={len(self.rejected)} written={len(self.written)}"
        )


def build(
    cfg: Config,
    store: Store,
    now: datetime,
    planner: Planner | None = None,
    progress: Callable[[int, int], None] | None = None,
    tuning: Tuning = DEFAULT_TUNING,
    wait: float = 0.0,
    settled: frozenset[str] = frozenset(),
    reread: bool = False,
) -> BuildReport:
    """Ingest what changed in sources/, then render and publish every configured feed.
    Without a ``planner``, the webhook outbox plans deliveries when webhooks are set,
    and the ActivityPub one when it is enabled. A file not settled yet (see
    ``sources.files``) is waited for, up to ``wait`` seconds, else left for the next
    build; ``settled`` names files known to be whole (``scofeed add`` wrote them).
    ``reread`` reads every file again, changed or not (``scofeed build --reread``: what
    this version makes of releases an older one read; see ``ingest.ingest_one``); one
    new or edited since the last build is read as any build reads it."""
    report = BuildReport()
    if planner is None:
        planner = outbox_planner(cfg, now)
    settings = settings_from(cfg)
    need_sources(cfg)
    root = cfg.paths.sources
    db = store.db
    index = file_rows.Index(db)
    refusals = reading.refusals_stale(db)
    if refusals:
        index.read_refused_again()
    scan = _settled_scan(cfg, index, wait, settled, report, reread)
    stamp = time.time()
    report.files = len(scan.changed) + len(scan.touched) + scan.unchanged
    if not report.files and len(scan.gone) > 1 and not scan.deferred:
        # every file gone at once: more often a folder unmounted or moved than a site
        # emptied by hand; their releases stay published (a deleted file retracts none)
        log.warning(
            "sources_emptied path=%s gone=%d: every file in it is gone (a folder unmounted "
            "or moved?); their releases stay published",
            root, len(scan.gone),
        )  # fmt: skip
    big = len(scan.changed) >= tuning.known_min_files
    in_sources = _in_sources(index, scan)
    renames = Renames(scan.gone, in_sources, settled, _gone_bytes(index, scan))
    whole = reread or not index.stamps  # every file in sources/ read now (``reading``)

    def store_some(db: sqlite3.Connection, items: Iterator[Prepared], known: Known | None) -> int:
        """Store prepared files and their rows in the files index; how many there were."""
        # new entries written once per transaction: each batch swaps the counting trigger
        # out and back (``insert_counted``), and a batch of 200 did that 50 times in a cold
        # build of 10,000 releases (~5% of the main process's instructions, callgrind)
        pending = entry_rows.Pending(tuning.commit_every) if known is not None else None
        remembered: list[FileState] = []
        cleared: list[str] = []
        vanished = 0
        for item, outcome in items:
            if isinstance(outcome, Rejection) and outcome.reason == scanner.GONE:
                vanished += 1  # deleted since the scan: the next scan finds it gone
                continue
            if isinstance(outcome, Rejection):
                if pending is not None:
                    pending.flush(db)
                outcome = replace(outcome, kept=origin_rows.entry_of_file(db, item.rel))
                _reject(db, report, outcome, stamp)
                remembered.append(_file_state(item, "rejected", outcome.reason))
                continue
            if item.rel in index.stamps:  # a list file edited: items it names anew
                continue_renamed(db, item.rel, outcome, known, pending)
            else:  # new: a file gone in this scan, renamed?
                renames.met(item.rel, item.sha256)
            again = reread and _unchanged(index, item)  # else new or edited: as in any build
            for release, entry in outcome:
                change, queued = ingest_one(
                    db, release, entry, settings, now, planner, known=known, pending=pending,
                    official_hosts=cfg.site.official_hosts, in_sources=in_sources,
                    renames=renames, reread=again,
                )  # fmt: skip
                _count(report, change, queued)
            cleared.append(item.rel)
            remembered.append(_file_state(item, "ok", None))
        if pending is not None:
            pending.flush(db)
        # the files index and the quarantine hold one row per path: batched, same result
        file_rows.clear_rejects(db, cleared)
        file_rows.remember_all(db, remembered)
        return len(remembered) + vanished

    with contextlib.ExitStack() as stack:
        loading: Checkpointer | None = None
        if big:
            stack.enter_context(pool.gc_paused())
            loading = stack.enter_context(store.bulk_load())
        # workers start (fork) before a transaction opens; results are stored as they come,
        # commit_every files a transaction
        # new files first, then the files the index knows, each in walk order: a file
        # renamed and a new release written under its old name, seen by one build, are
        # then the entry's copy first, so that the new text does not overwrite it
        # (``ingest._left_for_a_copy``), whichever name sorts first
        prepared = pool.prepare_all(
            sorted(scan.changed, key=lambda c: c.rel in index.stamps),
            settings,
            cfg.limits.max_file_bytes,
            now,
            progress,
            stack,
            min_files=tuning.pool_min_files,
            chunk=tuning.pool_chunk,
            read_ahead=tuning.read_ahead_bytes,
            seconds=cfg.limits.file_seconds,
        )
        known: Known | None = None
        done = False
        first = True
        while not done:
            with store.transaction() as db:
                if first:  # before anything is stored: the [tags] rules changed?
                    report.retagged = in_step(db, cfg, settings, now)
                    first = False
                known = Known.current(db, known) if big else None
                batch = itertools.islice(prepared, tuning.commit_every)
                done = store_some(db, batch, known) < tuning.commit_every
                if done:
                    file_rows.remember_all(db, scan.touched)
                    file_rows.forget(db, scan.gone)
                    file_rows.clear_rejects(db, scan.gone)
                    if whole and not scan.deferred and not scan.unreadable:
                        reading.read_whole(db)  # every file read by this code
                    if refusals and not scan.deferred:
                        reading.refusals_read(db)
            if loading is not None and not done:
                loading.committed()  # copied into the database while the next batch comes
    # files rejected before and not changed since are still rejected (and say so)
    again = {c.rel for c in scan.changed}
    for state in index.rejected():
        if state.path not in again:
            report.rejected.append(Rejection(state.path, state.reason or "rejected", earlier=True))
    report.entries = published_rows.count(store.db)
    # a cold build renders every archive page: in worker processes, as files were prepared
    try:
        report.written = publish_feeds(cfg, store, now, _render_in_workers if big else None)
    except PublishError as exc:  # what was stored stays stored: the line says what it was
        counts = f"entries={report.entries} new={report.new} updated={report.updated}"
        stored = PublishError(f"{exc} (the releases are stored: {counts})")
        stored.gist = exc.gist or str(exc)  # the counts move at each scan: the same failure
        raise stored from None
    file_rows.remember_scan(store.db, now, report.line())
    log.debug("build %s", report.line())  # the daemon logs its own scan line
    return report


def need_sources(cfg: Config) -> None:
    """``paths.sources`` is a folder, else a ConfigError saying what is there."""
    root = cfg.paths.sources
    if not root.is_dir():
        why = "not a folder" if root.exists() else "sources folder does not exist"
        raise ConfigError(f"paths.sources: {root}: {why}")


@frozen
class Preview:
    """What ``preview`` found: the build's report, one line per entry it would change,
    the schema the store would be upgraded from (None: no upgrade), how many of the
    feed files it would publish differ from those in feeds/ now, and the files in
    feeds/ now that it would remove (relative to feeds/, in order)."""

    report: BuildReport
    changes: list[str]
    upgraded_from: int | None
    feeds_changed: int
    feeds_total: int
    feeds_removed: list[str]


def preview(cfg: Config, now: datetime, reread: bool = False, wait: float = 0.0) -> Preview:
    """What ``build`` would do (``scofeed build --dry-run``): the same build, on a copy of
    the store (upgraded if this version's schema is newer: the store itself is only
    read) and into a scratch feeds folder, both thrown away; the store, feeds/ and every
    subscriber are left alone (the deliveries the copy queued are counted in the report,
    never sent). With it, one line for each entry the build would make, revise,
    withdraw, restore or change quietly (tags, a language tag's script or region), the
    upgrade the store would take, the feed files that would be written anew (the
    scratch folder's files, byte for byte against feeds/: a new version's rendering
    rewrites every one, once), and those the build would remove from feeds/: the files
    it published before and plans no more (an archive page after ``feeds.archives =
    false``, a language's feeds after its last entry went), which the copy's publish
    forgets as the real one removes them (``publish._publish``'s ``stale``)."""
    # what every command refuses (a file of 0 bytes, a backup beside the old -wal) the
    # dry run refuses too: it said what a new store's build would do
    refuse_not_ours(cfg.paths.state, cfg.limits.store_wait)
    with tempfile.TemporaryDirectory(prefix="scofeed-preview-") as tmp:
        copy = Path(tmp) / "state.sqlite3"
        copy_store(cfg.paths.state, copy, wait=cfg.limits.store_wait)
        schema = schema_of(copy)
        scratch_feeds = Path(tmp) / "feeds"
        paths = replace(cfg.paths, state=copy, feeds=scratch_feeds)
        try:
            scratch = Store(copy, scratch=True)
        except StoreUnusable as exc:  # (a newer scofeed's): named by the store, not its copy
            raise StoreUnusable(str(exc).replace(str(copy), str(cfg.paths.state))) from None
        try:
            if not file_rows.Index(scratch.db).stamps:  # as the build says it: feeds/ is real
                new_store_beside_feeds(cfg, scratch.db)
            before = entry_rows.versions(scratch.db)
            published = set(feedfiles.keys(scratch.db))
            # the files' dates as the real build reads them: from feeds/ (``publish``)
            token = DATES_FROM.set(cfg.paths.feeds)
            try:
                report = build(replace(cfg, paths=paths), scratch, now, wait=wait, reread=reread)
            finally:
                DATES_FROM.reset(token)
            after = entry_rows.versions(scratch.db)
            stale = published - set(feedfiles.keys(scratch.db))
        finally:
            scratch.close()
        made = [p for p in scratch_feeds.rglob("*") if p.is_file()]
        changed = sum(
            1 for p in made if not _same(p, cfg.paths.feeds / p.relative_to(scratch_feeds))
        )
    lines = [line for key in after if (line := _changed(key, before, after))]
    upgraded = schema if schema is not None and schema < len(MIGRATIONS) else None
    removed = sorted(p for p in stale if contained(p) and _present(cfg.paths.feeds / p))
    return Preview(report, lines, upgraded, changed, len(made), removed)


def _present(path: Path) -> bool:
    """Whether there is a file at ``path`` for a build to remove (a link is one too)."""
    return path.is_symlink() or path.is_file()


def _same(made: Path, published: Path) -> bool:
    """Whether the file at ``published`` holds ``made``'s bytes."""
    try:
        return published.read_bytes() == made.read_bytes()
    except OSError:
        return False


def _changed(
    entry_id: str, before: dict[str, tuple[object, ...]], after: dict[str, tuple[object, ...]]
) -> str | None:
    """How a build changed one entry (``preview``), or None."""
    new = dict(zip((*entry_rows.COMPARED, "withdrawn"), after[entry_id], strict=True))
    title = new["title"]
    if entry_id not in before:
        return f"new {entry_id} {title!r} (published {new['published']})"
    old = dict(zip((*entry_rows.COMPARED, "withdrawn"), before[entry_id], strict=True))
    if old == new:
        return None
    if old["withdrawn"] != new["withdrawn"]:
        return f"{'withdrawn' if new['withdrawn'] else 'restored'} {entry_id} {title!r}"
    what = [
        f"{name} {old[name]} -> {new[name]}" if name in _SHOWN_MOVED else name
        for name in ("title", "published", "event_date", "language", "tags")
        if old[name] != new[name]
    ]
    if old["summary"] != new["summary"] or old["content_html"] != new["content_html"]:
        what.append("text")
    kind = "updated" if old["revision"] != new["revision"] else "quietly"
    return f"{kind} {entry_id} {title!r} ({', '.join(what) or 'text'})"


_SHOWN_MOVED = ("published", "event_date", "language")  # shown with old and new values


def _render_in_workers(
    cfg: Config, batches: list[list[Planned]]
) -> list[tuple[list[str], dict[str, str]]]:
    return pool.fan_out(render_batch, cfg, batches)


def _in_sources(index: file_rows.Index, scan: scanner.ScanResult) -> Callable[[str], bool]:
    """Whether an input (a file, or ``FILE#NAME``: an item of a list file) is in
    sources/ as this scan found it: known and not gone, or changed."""
    gone = set(scan.gone)
    changed = {c.rel for c in scan.changed}

    def held(rel: str) -> bool:
        return rel in changed or (rel in index.stamps and rel not in gone)

    def in_sources(origin: str) -> bool:
        return held(origin) or any(
            held(origin[:at]) for at in range(len(origin)) if origin[at] == "#"
        )

    return in_sources


def _settled_scan(
    cfg: Config,
    index: file_rows.Index,
    wait: float,
    settled: frozenset[str],
    report: BuildReport,
    reread: bool = False,
) -> scanner.ScanResult:
    """Scan sources/; while files are still being written, wait for them (as long as
    ``wait`` allows) and scan again. What is still young at the end is deferred."""
    root, settle, cap = cfg.paths.sources, cfg.limits.settle, cfg.limits.max_file_bytes
    deadline = time.monotonic() + wait
    while True:
        scan = scanner.scan(root, index, cap, time.time(), settle, settled, reread)
        pause = scan.settles_in
        if pause is None or time.monotonic() + pause > deadline:
            break
        log.info("settle_wait files=%d seconds=%.1f", len(scan.deferred), pause)
        time.sleep(pause + 0.05)
        report.waited += pause + 0.05
    report.deferred = scan.deferred
    report.unreadable = [(os.path.join(root, folder), why) for folder, why in scan.unreadable]
    for folder, why in report.unreadable:
        log.debug("unreadable_folder path=%s reason=%r", logged(folder), why)
    for rel, left in scan.deferred:  # one a file: a drop of thousands wrote thousands at
        # INFO (the scan's line and `scofeed build`'s output count or name them)
        log.debug("deferred origin=%s reason='being written' settles_in=%.2f", logged(rel), left)
    return scan


def _gone_bytes(index: file_rows.Index, scan: scanner.ScanResult) -> dict[str, str]:
    """The files gone in this scan that were read, by their bytes' sha256 (few: a
    build whose files are all there reads none)."""
    rows = (index.row(rel) for rel in scan.gone)
    return {row.sha256: row.path for row in rows if row is not None and row.status == "ok"}


def _unchanged(index: file_rows.Index, item: scanner.Changed) -> bool:
    """Whether the index holds ``item``'s file with these very bytes: read again by a
    reread, not edited. A file new to the index or edited since is what it is in any
    build (a release written under the name of a file renamed meanwhile is not that
    file's entry read anew: ``ingest._left_for_a_copy``)."""
    old = index.row(item.rel)
    return old is not None and old.sha256 == item.sha256


def _file_state(item: scanner.Changed, status: str, reason: str | None) -> FileState:
    return FileState(item.rel, item.size, item.mtime_ns, item.sha256, status, reason)


def _reject(db: sqlite3.Connection, report: BuildReport, r: Rejection, stamp: float) -> None:
    file_rows.reject(db, r.origin, "local", r.reason, stamp, r.kept)
    report.rejected.append(r)
    report.fresh_rejects += 1
    if r.kept:
        log.info(
            "rejected origin=%s reason=%r kept_last_good=%s", logged(r.origin), r.reason, r.kept
        )
    else:
        log.info("rejected origin=%s reason=%r", logged(r.origin), r.reason)


def _count(report: BuildReport, change: Change, queued: int) -> None:
    report.deliveries += queued
    tally(report, change.kind)
