"""build, list, show, config check, config show, backup."""

from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from scofeed import config as config_mod
from scofeed.build import build, need_sources, preview
from scofeed.cli.common import (
    Subparsers,
    command,
    count,
    counted,
    load_config,
    must_exist,
    note,
    open_store,
    record_run,
    refuse_root,
    report_pings,
)
from scofeed.errors import ScofeedError, shown
from scofeed.render import links
from scofeed.store import Store, runs
from scofeed.store import entries as entry_rows
from scofeed.store import origins as origin_rows
from scofeed.store import published as published_rows
from scofeed.store import withdrawals as withdrawal_rows
from scofeed.store.lock import running
from scofeed.store.schema import MIGRATIONS

log = logging.getLogger(__name__)

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

    p = command(
        sub,
        "list",
        "list the stored entries, newest first",
        description="List the published entries, newest first (what the feeds hold). "
        "Withdrawn entries are left out; --withdrawn lists only them, most recent first, "
        "with when and why.",
    )
    p.add_argument("--limit", type=count, default=None, help="at most this many")
    p.add_argument("--withdrawn", action="store_true", help="list the withdrawn entries instead")
    p.set_defaults(func=cmd_list)

    p = command(sub, "show", "print one entry in full")
    p.add_argument("id", help="the entry's id, or the slug at its end")
    p.set_defaults(func=cmd_show)

    p = command(sub, "config", "check or show the configuration")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    c = command(csub, "check", "validate the config file and exit")
    c.set_defaults(func=cmd_config_check)
    c = command(csub, "show", "print the effective configuration, secrets redacted")
    c.set_defaults(func=cmd_config_show)

    p = command(
        sub,
        "backup",
        "copy the state store, safely while the daemon runs",
        description="Copy the state store, as one moment saw it, to a new file readable "
        "by its owner only (the store holds the WebSub subscribers' secrets); the daemon "
        "may run meanwhile. The copy is checked before it takes its name, and never "
        "written over a file. Restore: docs/operations.md.",
    )
    p.add_argument(
        "target",
        nargs="?",
        default=None,
        help="a new file (a name with a suffix: .sqlite3), or a folder (one that exists, a "
        "name without a suffix, or ending in /) to hold scofeed-<UTC time>.sqlite3 "
        "(default: a backups/ folder beside the store)",
    )
    p.set_defaults(func=cmd_backup)


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


def cmd_list(args: argparse.Namespace) -> int:
    _cfg, store = open_store(args, existing=True, reading=True)
    if args.withdrawn:
        for e in withdrawal_rows.withdrawn(store.db)[: args.limit]:
            w = e.withdrawal
            assert w is not None
            print(f"{e.id}\t{w.at.isoformat()}\t{e.title}\t{w.reason}")
        return 0
    for e in published_rows.latest(store.db, args.limit):
        print(f"{e.id}\t{e.published.isoformat()}\t{e.title}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    _cfg, store = open_store(args, existing=True, reading=True)
    stored = entry_rows.get(store.db, args.id)
    # its link, URL and content links as readers get them (no tracking parameters, the
    # content's relative links resolved against the entry's link, as the feeds have
    # them), the URL as read beside them when it had some: the store keeps it as read
    e = links.published(stored)
    fields = [
        ("id", e.id),
        ("title", e.title),
        ("published", e.published.isoformat()),
        ("event date", e.event_date.isoformat() if e.event_date else ""),
        ("updated", e.updated.isoformat()),
        ("revision", str(e.revision)),
        ("author", e.author),
        ("language", e.language),
        ("link", e.link),
        ("url", e.url or ""),
        *([("url (read)", stored.url or "")] if stored.url != e.url else []),
        ("tags", ", ".join(e.tags)),
        ("origin", shown(e.origin)),
        ("date from", e.date_source),
        ("summary", e.summary),
    ]
    if e.withdrawal is not None:
        w = e.withdrawal
        fields.append(("withdrawn", f"{w.at.isoformat()} by {w.by}: {w.reason or '(no reason)'}"))
    for name, value in fields:
        if value:  # an empty `url:` or `tags:` said nothing but that it was empty
            print(f"{name + ':':<12}{value}")
    print("inputs:")
    inputs = origin_rows.inputs_of(store.db, e.id)
    current = _current(inputs, e.origin)
    for i in inputs:
        print("  " + _input_line(i, current))
    print("content:")
    print(e.content_html)
    return 0


def _current(inputs: list[origin_rows.Input], origin: str) -> str:
    """The name the input that set the entry (``origin``) goes by now: that name, or
    the one it went on under when it became a former name (or was an alias)."""
    names = {i.origin: i for i in inputs}
    seen = {origin}
    while (i := names.get(origin)) and i.name_kind and i.name_of and i.name_of not in seen:
        origin = i.name_of
        seen.add(origin)
    return origin


def _input_line(i: origin_rows.Input, current: str) -> str:
    """One input of an entry: its kind, its role (``current``: it set the entry as it
    stands; ``mirror``: a lower authority's copy, not taken; ``copy``: another input of
    the same authority, not taken; ``alias``: another name of an input listed, a feed
    item's id kept beside its link; ``former``: a name an input listed went by before),
    when it last came, the hash of what it held, and where it is."""
    if i.name_kind is not None:
        role = i.name_kind
    else:
        role = "current" if i.origin == current else "mirror" if i.mirror else "copy"
    when = datetime.fromtimestamp(i.seen, UTC).isoformat(timespec="seconds") if i.seen else "-"
    return f"{i.kind or '-':<9}{role:<8} {when:<25} {i.content_hash[:12]}  {shown(i.origin)}"


def cmd_config_check(args: argparse.Namespace) -> int:
    cfg = load_config(args).require_secrets()  # read where this runs, as the daemon will
    where = str(cfg.path or "built-in defaults")
    if args.overrides:  # what was checked: the file and these
        where += " with --set " + ", ".join(k.partition("=")[0] for k in args.overrides)
    print(f"config ok: {where}")
    root = cfg.paths.sources
    if not root.is_dir():  # made by hand, or mounted later: a note, not an error
        what = "is not a folder" if root.exists() else "does not exist (yet)"
        print(
            f"note: paths.sources: {shown(str(root))} {what}: `scofeed build` refuses and "
            "the daemon's scans fail until it is a folder",
            file=sys.stderr,
        )
    if cfg.paths.feeds.exists() and not cfg.paths.feeds.is_dir():
        print(
            f"note: paths.feeds: {shown(str(cfg.paths.feeds))} is not a folder: no feed "
            "can be written there",
            file=sys.stderr,
        )
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    print(config_mod.show(load_config(args)), end="")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from scofeed.store import backup as backups  # this command's own: not every build's

    cfg = load_config(args)
    refuse_root(cfg)  # its copy would be root's, in the store's folder
    args.store_path = store = cfg.paths.state
    args.store_wait = cfg.limits.store_wait
    must_exist(store)
    now = datetime.now(UTC)
    target = Path(args.target) if args.target else store.parent / "backups"
    # a folder, said so: Path drops the "/", and "/mnt/b.d/" was a file "b.d"
    folder = bool(args.target and args.target.endswith("/"))
    cfg.paths.refuse_store_inside("backup", target.resolve(), "a path", "the backup")
    made = backups.backup(store, target, now, cfg.limits.store_wait, folder=folder)
    print(
        f"backup {made.path}: {counted(made.entries, 'entry', 'entries')}, schema {made.schema}, "
        f"{made.size / 1e6:.1f} MB"
    )
    key = cfg.activitypub.key_path(store)
    if key.is_file():  # lost, followers' servers refuse what a new key signs for a while
        print(f"not in it: the ActivityPub key {key}; back it up too", file=sys.stderr)
    return 0


def _tenths_up(seconds: float) -> str:
    """Seconds to the tenth above: a file settling in 0.04 s said "settles in 0.0 s"."""
    return f"{math.ceil(seconds * 10) / 10:.1f}"
