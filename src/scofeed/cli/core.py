"""list, show, config check, config show, backup: what is stored and configured.

None of them loads the build (``scofeed.cli.build``): listing what is stored costs no
import of the pipeline that stores it."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from scofeed import config as config_mod
from scofeed.cli.common import (
    Subparsers,
    command,
    count,
    counted,
    load_config,
    must_exist,
    open_store,
    refuse_root,
)
from scofeed.errors import shown
from scofeed.store import entries as entry_rows
from scofeed.store import origins as origin_rows
from scofeed.store import published as published_rows
from scofeed.store import withdrawals as withdrawal_rows

log = logging.getLogger(__name__)


def register(sub: Subparsers) -> None:  # type: ignore[type-arg]
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
    # here, not at the top: the render package loads feedgen, which `list` never needs
    from scofeed.render import links

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
