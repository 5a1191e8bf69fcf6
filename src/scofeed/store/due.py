"""Due times and leases kept in the store, when the wall clock went back.

Every time the daemon waits for (a source's next poll, a delivery's next attempt, a
WebSub verification, distribution or ping, an ActivityPub delivery, a page's recheck) and
every lease a sender holds is a wall-clock time in the store: after the clock went back
an hour, each would wait an hour more than meant. ``move_back`` moves those still ahead
back by the jump, never before now.
"""

from __future__ import annotations

import sqlite3

from scofeed.store import runs

# (table, column) of every stored due time and lease
DUE_COLUMNS = (
    ("sources", "next_poll"),
    ("deliveries", "next_attempt"),
    ("webhook_endpoints", "lease_until"),
    ("webhook_endpoints", "hold_until"),
    ("websub_intents", "next_attempt"),
    ("websub_distributions", "next_attempt"),
    ("websub_pings", "next_attempt"),
    ("ap_deliveries", "next_attempt"),
    ("ap_hosts", "lease_until"),
    ("page_checks", "next_check"),
)


def move_back(db: sqlite3.Connection, seconds: float, now: float) -> int:
    """Every due time and lease after ``now`` (epoch seconds, the clock as it reads
    since the jump) ``seconds`` earlier, none before ``now``; how many moved. Call it in
    a transaction."""
    moved = 0
    for table, column in DUE_COLUMNS:
        moved += db.execute(
            f"UPDATE {table} SET {column} = max({column} - ?, ?) WHERE {column} > ?",
            (seconds, now, now),
        ).rowcount
    return moved


def clock_went_back(db: sqlite3.Connection, seconds: float, now: float) -> int:
    """The repair of a wall clock gone back ``seconds``, in the caller's transaction:
    every due time moved back (``move_back``), and every run recorded ahead of the
    clock dated ``now`` (``runs.back_to``), so that the jump is told, and made good,
    once. How many due times moved."""
    moved = move_back(db, seconds, now)
    runs.back_to(db, now)
    return moved
