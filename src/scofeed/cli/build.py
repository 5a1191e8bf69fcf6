"""build: ingest sources/, render and publish the feeds (also ``--dry-run``)."""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import UTC, datetime

from scofeed import config as config_mod
from scofeed.build import build, need_sources, preview
from scofeed.cli.common import (
    Subparsers,
    command,
    counted,
    load_config,
    note,
    open_store,
    record_run,
    refuse_root,
    report_pings,
)
from scofeed.errors import ScofeedError, shown
from scofeed.store import Store, runs
from scofeed.store.lock import running
from scofeed.store.schema import MIGRATIONS

SETTLE_WAIT = 60.0  # seconds `scofeed build` waits, at most, for files still being written


def register(sub: Subparsers) -> None:  # type: ignore[type-arg]
    p = command(sub, "build", "ingest sources/, render and publish the feeds")
    p.add_argument(
        "--reread",
        action="store_true",
        help="read every file in sources/ again, changed or not (after an upgrade: an "
        "entry this version reads differently is revised, as by an edit)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="show what the build would change, entry by entry, and change nothing: it "
        "builds a copy of the store into a scratch folder, sends nothing, writes no feed",
    )
    p.set_defaults(func=cmd_build)


def _progress(done: int, total: int) -> None:
    if total >= 200 and sys.stderr.isatty() and (done % 100 == 0 or done == total):
        print(f"\rreading {done}/{total}", end="\n" if done == total else "", file=sys.stderr)


def _daemon_behind(cfg: config_mod.Config, store: Store) -> str | None:
    """A note when a daemon runs on this store and the config file changed since it
    last read it: its next scan applies its own config again, undoing what this build
    applied (a [tags] rule's feed published, then deleted within a minute)."""
    if cfg.path is None:
        return None
    try:
        holder = running(cfg.paths.state)
        changed = cfg.path.stat().st_mtime
    except (OSError, ScofeedError):
        return None
    if holder is None or holder.started is None:
        return None
    read = holder.started
    reload = runs.get(store.db, runs.RELOAD_JOB)
    if reload is not None and reload.ok:
        read = max(read, reload.started)
    if changed < read + 1:  # the lock file says whole seconds
        return None
    return (
        f"note: {cfg.path} changed since the daemon (pid {holder.pid}) last read it: "
        "run `scofeed reload`, or its next scan applies its own config again"
    )


def cmd_build(args: argparse.Namespace) -> int:
    if args.dry_run:  # the store is only read (a copy is built)
        cfg = load_config(args)
        refuse_root(cfg)  # as every command that opens the store
        args.store_path, args.store_wait = cfg.paths.state, cfg.limits.store_wait
        return _dry_run(cfg, args.reread, SETTLE_WAIT if cfg.limits.settle > 0 else 0.0)
    cfg = load_config(args)
    need_sources(cfg)  # before the store is opened: run in the wrong folder, the build
    cfg, store = open_store(args, cfg)  # failed and left a new empty store there
    wait = SETTLE_WAIT if cfg.limits.settle > 0 else 0.0
    started = time.time()
    try:
        report = build(
            cfg, store, datetime.now(UTC), progress=_progress, wait=wait, reread=args.reread
        )
    except ScofeedError as exc:
        record_run(store, runs.Run(runs.BUILD_JOB, started, time.time(), False, "", str(exc)))
        raise
    record_run(store, runs.Run(runs.BUILD_JOB, started, time.time(), True, report.line()))
    if report.waited:
        note(f"waited {report.waited:.1f} s for files still being written")
    for rel, left in report.deferred:
        print(
            f"deferred {shown(rel)}: still being written (settles in {_tenths_up(left)} s); "
            "the next build reads it",
            file=sys.stderr,
        )
    for r in report.rejected:  # an earlier build's, unchanged since: "still rejected"
        kept = f" (kept last good version of {r.kept})" if r.kept else ""
        still = "still " if r.earlier else ""
        print(f"{still}rejected {shown(r.origin)}: {shown(r.reason)}{kept}", file=sys.stderr)
    print(report.line() + f" feeds={cfg.paths.feeds}")
    behind = _daemon_behind(cfg, store)
    if behind:
        note(behind)
    unreadable = report.unreadable_line()
    if unreadable:
        print(f"scofeed: {unreadable}", file=sys.stderr)
    failed = 1 if report.rejected or unreadable else 0
    if not cfg.websub.hubs:
        return failed
    # lazy on purpose: the pings need requests, which a build without hubs never loads
    # (nor one that wrote nothing while no earlier ping waits for its retry); the hub's
    # rows, five dataclasses (~8 ms to make), only when hubs are configured
    from scofeed.store import websub as hub_rows

    if not (report.written or hub_rows.due_pings(store.db, datetime.now(UTC).timestamp(), 1)):
        return failed
    from scofeed import websub

    report_pings(websub.ping_hubs(cfg, store, report.written))
    return failed


REMOVED_NAMED = 5  # the files a dry run names of those a build would remove


def _dry_run(cfg: config_mod.Config, reread: bool, wait: float) -> int:
    seen = preview(cfg, datetime.now(UTC), reread, wait)
    report = seen.report
    for line in seen.changes:
        print(line)
    if seen.upgraded_from is not None:
        print(
            f"store: would be upgraded from schema {seen.upgraded_from} to {len(MIGRATIONS)}, "
            "once, which only a backup undoes (scofeed backup)"
        )
    removed = seen.feeds_removed
    named = ", ".join(shown(p) for p in removed[:REMOVED_NAMED])
    more = f" and {len(removed) - REMOVED_NAMED} more" if len(removed) > REMOVED_NAMED else ""
    print(
        f"feeds: {seen.feeds_changed} of {counted(seen.feeds_total, 'file')} would be "
        f"written anew, {len(removed)} removed" + (f": {named}{more}" if removed else "")
    )
    for r in report.rejected:
        print(f"rejected {shown(r.origin)}: {shown(r.reason)}", file=sys.stderr)
    print(
        f"dry run: entries={report.entries} new={report.new} updated={report.updated} "
        f"rejected={len(report.rejected)} deliveries={report.deliveries}; nothing was "
        "stored, published or sent"
    )
    return 1 if report.rejected or report.unreadable else 0


def _tenths_up(seconds: float) -> str:
    """Seconds to the tenth above: a file settling in 0.04 s said "settles in 0.0 s"."""
    return f"{math.ceil(seconds * 10) / 10:.1f}"
