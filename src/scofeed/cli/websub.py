"""websub list | remove: the built-in hub's subscriptions.

Listing reads the store's rows only; the hub's modules (which load the HTTP client)
load inside ``remove`` and a ``--topic`` filter, which use them (issue 9)."""

from __future__ import annotations

import argparse
import sys
import time

from scofeed.cli.common import Subparsers, command, open_store, when
from scofeed.store import websub as rows


def register(sub: Subparsers) -> None:  # type: ignore[type-arg]
    p = command(sub, "websub", "list or remove the WebSub hub's subscriptions")
    wsub = p.add_subparsers(dest="websub_command", metavar="ACTION", required=True)
    w = command(wsub, "list", "subscriptions: topic, callback host, lease, last delivery")
    w.add_argument("--topic", metavar="URL", help="only this topic (spelt as the hub reads it)")
    w.set_defaults(func=cmd_list)
    w = command(wsub, "remove", "remove a subscription; its subscriber is told (denied)")
    w.add_argument("subscription_id", type=int, help="the number `scofeed websub list` shows")
    w.set_defaults(func=cmd_remove)


def cmd_list(args: argparse.Namespace) -> int:
    _cfg, store = open_store(args, existing=True)
    subs = rows.subscriptions(store.db)
    if args.topic is not None:  # any spelling of it, as the hub reads a subscriber's
        from scofeed.websub.hub import normal_url  # see the module docstring

        wanted = normal_url(args.topic)
        subs = [s for s in subs if normal_url(s.topic) == wanted]
    if not subs:
        print("no subscriptions", file=sys.stderr)
    print("id\ttopic\tcallback host\tlease expires\tlast delivery\tstate")
    for s in subs:
        state = "pending" if s.pending else "ok"
        if s.last_error:
            state = f"{'retrying' if s.pending else 'failed'}: {s.last_error}"
        signed = "signed" if s.secret else "unsigned"
        print(
            f"{s.id}\t{s.topic}\t{s.host}\t{when(s.expires)}\t{when(s.last_delivery)}\t"
            f"{state} ({signed})"
        )
    counts = rows.counts(store.db)
    if counts["verifying"]:
        print(f"{counts['verifying']} request(s) awaiting verification", file=sys.stderr)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from scofeed import websub  # see the module docstring

    _cfg, store = open_store(args, existing=True)
    removed = websub.drop(store, args.subscription_id, "removed by the operator", time.time())
    if removed is None:
        print(f"scofeed: no subscription {args.subscription_id}", file=sys.stderr)
        return 1
    print(
        f"removed subscription {removed.id} ({removed.topic} -> {removed.host}); "
        "the subscriber is told at the daemon's next tick"
    )
    return 0
