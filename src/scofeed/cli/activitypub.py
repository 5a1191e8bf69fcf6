"""ap followers, ap deliveries: who follows the ActivityPub actor, and its outbox.

Both only read the store (no key is loaded, nothing is sent).
"""

from __future__ import annotations

import argparse
import sqlite3
from datetime import datetime

from scofeed.cli.core import open_store
from scofeed.store import activitypub as rows


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("ap", help="the ActivityPub actor: followers and deliveries")
    asub = p.add_subparsers(dest="ap_command", metavar="ACTION", required=True)
    f = asub.add_parser("followers", help="who follows, and through which inbox")
    f.set_defaults(func=cmd_followers)
    d = asub.add_parser("deliveries", help="the ActivityPub outbox, newest first")
    d.add_argument("--failed", action="store_true", help="only failed deliveries")
    d.add_argument("--pending", action="store_true", help="only pending deliveries")
    d.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    d.set_defaults(func=cmd_deliveries)


def _when(t: float | None) -> str:
    if t is None:
        return "-"
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")


def _table(table: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def summary(db: sqlite3.Connection) -> str:
    """One line for ``scofeed status`` (when ActivityPub is on)."""
    n = rows.follower_count(db)
    c = rows.counts(db)
    return (
        f"activitypub: {n} follower(s); deliveries pending={c['pending']} "
        f"failed={c['failed']} delivered={c['delivered']}"
    )


def cmd_followers(args: argparse.Namespace) -> int:
    cfg, store = open_store(args)
    followers = rows.followers(store.db)
    if not cfg.activitypub.enabled:
        print("note: [activitypub] enabled is false; nobody can follow right now")
    if not followers:
        print("no followers")
        return 0
    table = [["SINCE", "ACTOR", "DELIVERED TO"]]
    table += [[_when(f.since), f.actor, f.target] for f in followers]
    _table(table)
    print(f"{len(followers)} follower(s) on {len(rows.targets(store.db))} inbox(es)")
    return 0


def cmd_deliveries(args: argparse.Namespace) -> int:
    _cfg, store = open_store(args)
    status = "failed" if args.failed else "pending" if args.pending else None
    items = rows.listing(store.db, status, args.limit)
    if not items:
        print("no deliveries")
        return 0
    table = [["ID", "KIND", "INBOX", "STATUS", "ATTEMPTS", "NEXT", "LAST"]]
    for d in items:
        last = d.last_error or (f"HTTP {d.last_status}" if d.last_status else "-")
        table.append(
            [str(d.id), d.kind, d.inbox, d.status, str(d.attempts), _when(d.next_attempt), last]
        )
    _table(table)
    return 0
