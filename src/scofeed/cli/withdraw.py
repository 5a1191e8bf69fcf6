"""withdraw, restore: take a release out of the feeds, or put it back."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from scofeed.cli.common import Subparsers, command, open_store, report_pings
from scofeed.config import Config
from scofeed.store import Store
from scofeed.withdraw import Outcome, restore, withdraw

ID_HELP = "the entry's id as `scofeed list` shows it, or the slug its page address ends with"


def register(sub: Subparsers) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "withdraw",
        "take a release out of every feed (tombstone, 410, webhook)",
        description="Take a release out of every feed and the index. The Atom feed carries "
        "an RFC 6721 tombstone for feeds.tombstone_days, its page answers 410 Gone, and a "
        "release.withdrawn webhook (and an ActivityPub Delete) is queued. "
        "`scofeed restore` undoes it.",
    )
    p.add_argument("id", help=ID_HELP)
    p.add_argument("--reason", default="", help="why (the tombstone's comment, page and webhook)")
    p.set_defaults(func=cmd_withdraw)

    p = command(sub, "restore", "put a withdrawn release back in the feeds")
    p.add_argument("id", help=ID_HELP)
    p.set_defaults(func=cmd_restore)


def _report(cfg: Config, store: Store, verb: str, outcome: Outcome) -> None:
    print(f"{verb} {outcome.entry.id}")
    print(f"deliveries={outcome.queued} written={len(outcome.written)} feeds={cfg.paths.feeds}")
    if not (cfg.websub.hubs and outcome.written):
        return
    # lazy on purpose, as in `scofeed build`: the pings need requests
    from scofeed import websub

    report_pings(websub.ping_hubs(cfg, store, outcome.written))


def cmd_withdraw(args: argparse.Namespace) -> int:
    cfg, store = open_store(args, existing=True)
    outcome = withdraw(cfg, store, args.id, args.reason, datetime.now(UTC))
    w = outcome.entry.withdrawal
    if not outcome.changed and w is not None:
        print(f"already withdrawn {outcome.entry.id} at {w.at.isoformat()} ({w.by})")
        return 0
    _report(cfg, store, "withdrawn", outcome)
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    cfg, store = open_store(args, existing=True)
    outcome = restore(cfg, store, args.id, datetime.now(UTC))
    if not outcome.changed:
        print(f"not withdrawn {outcome.entry.id}")
        return 0
    _report(cfg, store, "restored", outcome)
    return 0
