"""ap followers, ap deliveries: who follows the ActivityPub actor, and its outbox.

Both only read the store (no key is loaded, nothing is sent).
"""

from __future__ import annotations

import argparse
import sqlite3
from datetime import datetime

from scofeed.cli.common import Subparsers, command, count, note, open_store, table
from scofeed.store import activitypub as rows


def register(sub: Subparsers) -> None:  # type: ignore[type-arg]
    p = command(sub, "ap", "the ActivityPub actor: followers and deliveries")
    asub = p.add_subparsers(dest="ap_command", metavar="ACTION", required=True)
    f = command(asub, "followers", "who follows, and through which inbox")
    f.set_defaults(func=cmd_followers)
    d = command(asub, "deliveries", "the ActivityPub outbox, newest first")
    only = d.add_mutually_exclusive_group()  # both: --failed won, silently
    only.add_argument("--failed", action="store_true", help="only failed deliveries")
    only.add_argument("--pending", action="store_true", help="only pending deliveries")
    d.add_argument("--limit", type=count, default=50, help="at most this many (default 50)")
    d.set_defaults(func=cmd_deliveries)


def _when(t: float | None) -> str:
    if t is None:
        return "-"
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")


def summary(db: sqlite3.Connection) -> str:
    """One line for ``scofeed status`` (when ActivityPub is on)."""
    n = rows.follower_count(db)
    c = rows.counts(db)
    return (
        f"activitypub: {n} follower(s); deliveries pending={c['pending']} "
        f"failed={c['failed']} delivered={c['delivered']}"
    )


def cmd_followers(args: argparse.Namespace) -> int:
    cfg, store = open_store(args, existing=True)
    followers = rows.followers(store.db)
    if not cfg.activitypub.enabled:
        note("note: [activitypub] enabled is false; nobody can follow right now")
    if not followers:
        note("no followers")
        return 0
    out = [["SINCE", "ACTOR", "DELIVERED TO"]]
    out += [[_when(f.since), f.actor, f.target] for f in followers]
    table(out)
    print(f"{len(followers)} follower(s) on {len(rows.targets(store.db))} inbox(es)")
    return 0


def cmd_deliveries(args: argparse.Namespace) -> int:
    _cfg, store = open_store(args, existing=True)
    status = "failed" if args.failed else "pending" if args.pending else None
    items = rows.listing(store.db, status, args.limit)
    if not items:
        if args.limit:  # --limit 0 asked for none: there may be some
            note("no deliveries")
        return 0
    out = [["ID", "KIND", "INBOX", "STATUS", "ATTEMPTS", "NEXT", "LAST"]]
    for d in items:
        last = d.last_error or (f"HTTP {d.last_status}" if d.last_status else "-")
        out.append(
            [str(d.id), d.kind, d.inbox, d.status, str(d.attempts), _when(d.next_attempt), last]
        )
    table(out)
    return 0
