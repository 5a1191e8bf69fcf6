"""The build: sources/ -> normalise -> store -> render -> publish.

``ingest`` is the one way a release enters the store, whichever source it came from:
it matches the release to an existing entry (same input, id material, canonical URL or
fingerprint), decides new / updated / duplicate / unchanged, and writes the entry and
its outbound deliveries in the same transaction.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import logging
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol, TypeVar

from scofeed import __version__, publish, render, sources
from scofeed.config import FEED_FILES, Config
from scofeed.errors import ConfigError, NormaliseError, RejectedInput
from scofeed.model import Entry, Release
from scofeed.normalise import Settings, adopt_id, canonical_url, normalise, settings_from
from scofeed.sources import files as scanner
from scofeed.store import Store
from scofeed.store import entries as entry_rows
from scofeed.store import files as file_rows
from scofeed.store import status as status_rows
from scofeed.store.entries import Known
from scofeed.store.files import FileState

log = logging.getLogger(__name__)

# planner(db, entry, event) writes the outbound deliveries for one entry revision
Planner = Callable[[sqlite3.Connection, Entry, str], int]


@dataclass(frozen=True)
class Change:
    entry: Entry
    kind: str  # new | updated | duplicate | unchanged


@dataclass
class Rejection:
    origin: str
    reason: str
    kept: str | None = None  # entry id whose last good version stays published


@dataclass
class BuildReport:
    files: int = 0  # in sources/, as the scan found them
    entries: int = 0
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    deliveries: int = 0

    def line(self) -> str:
        return (
            f"entries={self.entries} new={self.new} updated={self.updated} "
            f"rejected={len(self.rejected)} written={len(self.written)}"
        )


def default_planner(cfg: Config, now: datetime) -> Planner | None:
    """The webhook outbox when webhooks are configured, the ActivityPub outbox when it
    is enabled (both, one after the other, when both are), else nothing to plan."""
    planners: list[Planner] = []
    if cfg.webhooks:
        from scofeed import deliver

        planners.append(deliver.planner(cfg, now))
    if cfg.activitypub.enabled:
        # lazy, like deliver above: RSA (cryptography) loads only when ActivityPub is on
        from scofeed.activitypub import delivery as activitypub

        planners.append(activitypub.planner(cfg, now))
    if len(planners) < 2:
        return planners[0] if planners else None

    def plan_all(db: sqlite3.Connection, entry: Entry, event: str) -> int:
        return sum(p(db, entry, event) for p in planners)

    return plan_all


def identity_of(release: Release, entry: Entry) -> tuple[str, str | None]:
    url_key = canonical_url(release.url) if release.url else None
    if release.key:
        return f"key:{release.key}", url_key
    if url_key:
        return f"url:{url_key}", url_key
    return f"fp:{entry.fingerprint}", None


def ingest_one(
    db: sqlite3.Connection,
    release: Release,
    entry: Entry,
    settings: Settings,
    now: datetime,
    planner: Planner | None = None,
    force_update: bool = False,
    known: Known | None = None,
    pending: entry_rows.Pending | None = None,
) -> tuple[Change, int]:
    """Store one normalised release; returns the change and how many deliveries it queued.
    ``known`` (for a large batch) spares the lookups of a release that cannot match;
    with ``pending`` (and no planner) a new entry's rows are written in batches."""
    identity, url_key = identity_of(release, entry)
    match = entry_rows.find_match(
        db, release.origin, identity, url_key, entry.fingerprint, known, pending
    )
    if match is None and pending is not None and planner is None:
        pending.add(db, release.origin, entry, identity, url_key, now.timestamp())
        return Change(entry, "new"), 0
    if pending is not None:
        pending.flush(db)
    if match is None:
        entry_rows.insert(db, entry, identity, url_key, now.timestamp())
        entry_rows.link_origin(db, release.origin, entry.id, entry.content_hash)
        queued = planner(db, entry, "release.published") if planner else 0
        return Change(entry, "new"), queued
    entry = adopt_id(entry, match.entry_id, settings.base_url)
    same_input = match.by in ("origin", "identity", "url")
    # whatever follows, this input now belongs to the matched entry, with what it holds
    entry_rows.link_origin(db, release.origin, match.entry_id, entry.content_hash)
    if entry.content_hash == match.content_hash:
        return Change(replace(entry, revision=match.revision), "unchanged"), 0
    if not same_input and not force_update:
        # the same release from another input: one entry, the first version stands
        return Change(entry, "duplicate"), 0
    # entry.updated is release.updated made timezone-aware (a reader's date may be naive)
    revised = entry_rows.with_revision(
        entry, match.revision + 1, entry.updated if release.updated else now
    )
    entry_rows.update(db, revised, url_key)
    queued = planner(db, revised, "release.updated") if planner else 0
    return Change(revised, "updated"), queued


def build(
    cfg: Config,
    store: Store,
    now: datetime,
    planner: Planner | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Ingest what changed in sources/, then render and publish every configured feed."""
    report = BuildReport()
    planner = planner or default_planner(cfg, now)
    settings = settings_from(cfg)
    root = cfg.paths.sources
    if not root.is_dir():
        raise ConfigError(f"paths.sources: {root}: sources folder does not exist")
    db = store.db
    index = file_rows.Index(db)
    scan = scanner.scan(root, index, cfg.limits.max_file_bytes)
    stamp = time.time()
    report.files = len(scan.changed) + len(scan.touched) + scan.unchanged
    big = len(scan.changed) >= KNOWN_MIN_FILES

    def store_some(db: sqlite3.Connection, items: Iterator[Prepared], known: Known | None) -> int:
        """Store prepared files and their rows in the files index; how many there were."""
        pending = entry_rows.Pending() if known is not None else None
        remembered: list[FileState] = []
        cleared: list[str] = []
        for item, outcome in items:
            if isinstance(outcome, Rejection):
                if pending is not None:
                    pending.flush(db)
                outcome.kept = _kept_entry(db, item.rel)
                _reject(db, report, outcome, stamp)
                remembered.append(_file_state(item, "rejected", outcome.reason))
                continue
            for release, entry in outcome:
                change, queued = ingest_one(
                    db, release, entry, settings, now, planner, known=known, pending=pending
                )
                _count(report, change, queued)
            cleared.append(item.rel)
            remembered.append(_file_state(item, "ok", None))
        if pending is not None:
            pending.flush(db)
        # the files index and the quarantine hold one row per path: batched, same result
        file_rows.clear_rejects(db, cleared)
        file_rows.remember_all(db, remembered)
        return len(remembered)

    with contextlib.ExitStack() as stack:
        if big:
            stack.enter_context(_gc_paused())
        # workers start (fork) before a transaction opens; results are stored as they come,
        # COMMIT_EVERY files a transaction
        prepared = _prepare_all(
            scan.changed, settings, cfg.limits.max_file_bytes, now, progress, stack
        )
        known: Known | None = None
        done = False
        while not done:
            with store.transaction() as db:
                known = Known.current(db, known) if big else None
                batch = itertools.islice(prepared, COMMIT_EVERY)
                done = store_some(db, batch, known) < COMMIT_EVERY
                if done:
                    file_rows.remember_all(db, scan.touched)
                    file_rows.forget(db, scan.gone)
                    file_rows.clear_rejects(db, scan.gone)
    # files rejected before and not changed since are still rejected (and say so)
    again = {c.rel for c in scan.changed}
    for state in index.rejected():
        if state.path not in again:
            report.rejected.append(Rejection(state.path, state.reason or "rejected"))
    report.entries = entry_rows.count(store.db)
    report.written = publish_feeds(cfg, store)
    status_rows.remember_scan(store.db, now, report.line())
    log.debug("build %s", report.line())  # the daemon logs its own scan line
    return report


Outcome = list[tuple[Release, Entry]] | Rejection
Prepared = tuple[scanner.Changed, Outcome]


def _file_state(item: scanner.Changed, status: str, reason: str | None) -> FileState:
    return FileState(item.rel, item.size, item.mtime_ns, item.sha256, status, reason)


POOL_MIN_FILES = 400  # below this, starting worker processes costs more than it saves
POOL_CHUNK = 200
KNOWN_MIN_FILES = 100  # from here, loading every key beats a few lookups per release
# Files stored per transaction. A cold build commits as it goes: other writers (the
# deliverer, `scofeed add`) wait for one batch, not for the whole build; what was
# committed survives a crash (the next build finds those files indexed and stored);
# and SQLite's checkpoint after each commit overlaps with the workers still preparing.
COMMIT_EVERY = 1000
READ_AHEAD_BYTES = 4 << 20  # files a worker reads before parsing them (see _prepare_many)


_T = TypeVar("_T")


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large batch is prepared and stored (the
    workers fork with it off too): the records made are acyclic, and the collector
    kept re-scanning them, ~15% of the time spent unpickling results."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _without(obj: _T, **changes: object) -> _T:
    """``dataclasses.replace`` for the plain frozen records here (no __post_init__, no
    slots), without re-running __init__: a cold build strips every file's records."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new


def _prepare(item: scanner.Changed, settings: Settings, max_bytes: int, now: datetime) -> Prepared:
    """Read, parse and normalise one changed file: pure apart from reading it."""
    item = scanner.loaded(item, max_bytes)
    if item.error or item.data is None:
        return item, Rejection(item.rel, item.error or "unreadable")
    name = item.rel.rsplit("/", 1)[-1]
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    try:
        releases = sources.read(item.rel, suffix, item.data, item.mtime, max_bytes)
        # only what ingest needs travels on: the raw text and file date stay behind
        outcome: list[tuple[Release, Entry]] | Rejection = [
            (
                _without(r, text="", html=None, context_date=None),
                _without(normalise(r, settings, now), paragraphs=()),
            )
            for r in releases
        ]
    except RejectedInput as exc:
        outcome = Rejection(item.rel, exc.reason)
    except NormaliseError as exc:
        outcome = Rejection(item.rel, str(exc).removeprefix(item.rel + ": "))
    return _without(item, data=None), outcome


# what a worker sends back for each file: digest, size and mtime of what it read, outcome
Done = tuple[str, int, int, Outcome]


def _prepare_many(
    items: list[scanner.Changed], settings: Settings, max_bytes: int, now: datetime
) -> Iterator[Prepared]:
    """``_prepare`` each item in turn, reading several files (up to READ_AHEAD_BYTES)
    before parsing any: parsing right after a file's system calls ran ~6% slower
    (caches cold from the kernel), so the calls are bunched."""
    batch: list[scanner.Changed] = []
    held = 0
    for n, item in enumerate(items, start=1):
        item = scanner.loaded(item, max_bytes)
        batch.append(item)
        held += len(item.data or b"")
        if held >= READ_AHEAD_BYTES or n == len(items):
            for ready in batch:
                yield _prepare(ready, settings, max_bytes, now)
            batch, held = [], 0


def _prepare_chunk(
    items: list[scanner.Changed], settings: Settings, max_bytes: int, now: datetime
) -> list[Done]:
    """In a worker: each file's outcome and what reading it found. The item itself is
    not sent back: the parent still holds it."""
    return [
        (done.sha256, done.size, done.mtime_ns, outcome)
        for done, outcome in _prepare_many(items, settings, max_bytes, now)
    ]


def _prepare_all(
    items: list[scanner.Changed],
    settings: Settings,
    max_bytes: int,
    now: datetime,
    progress: Callable[[int, int], None] | None,
    stack: contextlib.ExitStack,
) -> Iterator[Prepared]:
    """Prepare every changed file, in order; a large batch (a cold build) uses every
    core, and its results can be consumed while the rest are still being prepared
    (the worker pool is shut down when ``stack`` closes)."""
    workers = min(os.cpu_count() or 1, 8)
    # fork is cheap and re-imports nothing, but is only safe with no other threads
    # (the daemon has some): there the batch is prepared in this process, up front
    alone = threading.active_count() == 1
    if len(items) < POOL_MIN_FILES or workers < 2 or not alone:
        out = []
        for prepared in _prepare_many(items, settings, max_bytes, now):
            out.append(prepared)
            if progress:
                progress(len(out), len(items))
        return iter(out)
    chunks = [items[i : i + POOL_CHUNK] for i in range(0, len(items), POOL_CHUNK)]
    ctx = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(workers, mp_context=ctx)
    stack.callback(pool.shutdown, wait=True, cancel_futures=True)
    jobs = [(c, pool.submit(_prepare_chunk, c, settings, max_bytes, now)) for c in chunks]
    return _collect(jobs, len(items), progress)


def _collect(
    jobs: list[tuple[list[scanner.Changed], Future[list[Done]]]],
    total: int,
    progress: Callable[[int, int], None] | None,
) -> Iterator[Prepared]:
    done = 0
    for items, job in jobs:
        for item, (digest, size, mtime_ns, outcome) in zip(items, job.result(), strict=True):
            yield _without(item, data=None, sha256=digest, size=size, mtime_ns=mtime_ns), outcome
        done += len(items)
        if progress:
            progress(done, total)


def _kept_entry(db: sqlite3.Connection, rel: str) -> str | None:
    row = db.execute(
        "SELECT entry_id FROM entry_origins WHERE origin = ? OR origin LIKE ? LIMIT 1",
        (rel, rel + "#%"),
    ).fetchone()
    return row[0] if row else None


def _reject(db: sqlite3.Connection, report: BuildReport, r: Rejection, stamp: float) -> None:
    file_rows.reject(db, r.origin, "local", r.reason, stamp, r.kept)
    report.rejected.append(r)
    if r.kept:
        log.info("rejected origin=%s reason=%r kept_last_good=%s", r.origin, r.reason, r.kept)
    else:
        log.info("rejected origin=%s reason=%r", r.origin, r.reason)


class Tally(Protocol):
    new: int
    updated: int
    duplicates: int


def tally(counts: Tally, kind: str) -> None:
    """Count one change by its kind (an unchanged release counts nowhere)."""
    if kind == "new":
        counts.new += 1
    elif kind == "updated":
        counts.updated += 1
    elif kind == "duplicate":
        counts.duplicates += 1


def _count(report: BuildReport, change: Change, queued: int) -> None:
    report.deliveries += queued
    tally(report, change.kind)


def ingest(
    cfg: Config,
    store: Store,
    releases: Sequence[Release],
    now: datetime,
    planner: Planner | None = None,
    force_update: bool = False,
) -> list[Change]:
    """Normalise and store releases from any source (add, pollers) in one transaction."""
    settings = settings_from(cfg)
    planner = planner or default_planner(cfg, now)
    prepared = [(r, normalise(r, settings, now)) for r in releases]
    changes = []
    with store.transaction() as db:
        for release, entry in prepared:
            change, _queued = ingest_one(db, release, entry, settings, now, planner, force_update)
            changes.append(change)
    return changes


def publish_feeds(cfg: Config, store: Store) -> list[str]:
    """Render the newest entries in every configured format; write only what differs.
    When neither those entries nor the settings rendered from changed since the last
    time, and the files are all there, nothing is rendered at all."""
    latest = entry_rows.latest(store.db, cfg.feeds.entries)
    key = _render_key(cfg, latest)
    names = [FEED_FILES[fmt] for fmt in cfg.feeds.formats]
    if store.get_meta("render_key") == key and all(
        (cfg.paths.feeds / name).is_file() for name in names
    ):
        return []
    written = []
    for fmt, name in zip(cfg.feeds.formats, names, strict=True):
        data = render.render(fmt, latest, cfg)
        if publish.write_if_changed(cfg.paths.feeds / name, data):
            written.append(name)
    store.set_meta("render_key", key)
    return written


def _render_key(cfg: Config, latest: Sequence[Entry]) -> str:
    """Everything the feed bytes depend on: scofeed's version, the site and feed
    settings, and each rendered entry's content hash, revision, dates and link."""
    parts = [__version__, repr(cfg.site), repr(cfg.feeds), str(cfg.paths.feeds)]
    parts += [
        f"{e.id} {e.content_hash} {e.revision} {e.updated.isoformat()} {e.link} {e.author}"
        for e in latest
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
