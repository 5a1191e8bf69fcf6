"""Withdrawn entries: withdraw and restore one, and read what the feeds say of them
(tombstones, the date a set's feeds take from their last withdrawal)."""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime

from scofeed.model import Entry, Withdrawal
from scofeed.store.entries import MONTH, READ, from_row


def withdraw(db: sqlite3.Connection, entry_id: str, w: Withdrawal, announced: bool = True) -> None:
    """Withdraw an entry; ``announced=False`` for one stored already withdrawn (never
    published: its restore will be its first publication)."""
    db.execute(
        "UPDATE entries SET withdrawn_at = ?, withdrawn_reason = ?, withdrawn_by = ?, "
        "announced = announced AND ? WHERE id = ?",
        (w.at.timestamp(), w.reason, w.by, int(announced), entry_id),
    )


def restore(db: sqlite3.Connection, entry: Entry, at: datetime) -> tuple[Entry, bool]:
    """Put a withdrawn entry back, updated ``at`` (the restore's time) unless it already
    was later: its tombstone said it was gone at its withdrawal, and a feed whose
    newest date went back to what it was before that left readers no later word on
    it. Returns the entry as it now stands, and True when it had never been announced
    (so what its subscribers get is ``release.published``, not ``release.restored``)."""
    row = db.execute(
        "SELECT announced, withdrawn_at FROM entries WHERE id = ?", (entry.id,)
    ).fetchone()
    updated = max(entry.updated, at)
    if row is not None and row[1] is not None:  # after its tombstone, whatever the clock
        updated = max(updated, datetime.fromtimestamp(math.floor(row[1]) + 1, UTC))
    updated = updated.astimezone(entry.published.tzinfo)  # in its date's zone, as an edit
    db.execute(
        "UPDATE entries SET withdrawn_at = NULL, withdrawn_reason = NULL, withdrawn_by = NULL, "
        "announced = 1, updated = ?, updated_ts = ?, restored_at = ? WHERE id = ?",
        (updated.isoformat(), updated.timestamp(), updated.timestamp(), entry.id),
    )
    return replace(entry, withdrawal=None, updated=updated), row is not None and not row[0]


def withdrawn(db: sqlite3.Connection, since: datetime | None = None) -> list[Entry]:
    """Withdrawn entries, most recently withdrawn first (then by id); with ``since``,
    only those withdrawn at or after it (the tombstones still shown in the Atom feed)."""
    cutoff = since.timestamp() if since is not None else float("-inf")
    rows = db.execute(
        f"SELECT {READ} FROM entries WHERE withdrawn_at IS NOT NULL AND withdrawn_at >= ? "
        "ORDER BY withdrawn_at DESC, id DESC",
        (cutoff,),
    )
    return [from_row(r) for r in rows]


def withdrawals(db: sqlite3.Connection) -> list[tuple[str, tuple[str, ...], str, datetime]]:
    """(language, tags, month published, latest withdrawal or restore) of the entries
    withdrawn or restored, and of those an edit took out of a set or month
    (``departures``), one row per language, tag list and month: what the feeds of
    each set, and each month's archive page, say as their date once an entry of theirs
    is withdrawn, or restored (its tombstone leaves them: a restore of an entry older
    than the subscription feeds took their date back) (``scofeed.publish``). They are
    few; the entries_withdrawn and entries_restored indexes find them."""
    rows = db.execute(
        f"SELECT language, tags, month, MAX(at) FROM ("
        f"SELECT language, tags, {MONTH} AS month, withdrawn_at AS at FROM entries "
        "WHERE withdrawn_at IS NOT NULL UNION ALL "
        f"SELECT language, tags, {MONTH}, restored_at FROM entries "
        "WHERE restored_at IS NOT NULL UNION ALL "
        "SELECT language, tags, month, at FROM departures) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    return [(r[0], tuple(json.loads(r[1])), r[2], datetime.fromtimestamp(r[3], UTC)) for r in rows]


def count_withdrawn(db: sqlite3.Connection) -> int:
    sql = "SELECT COUNT(*) FROM entries WHERE withdrawn_at IS NOT NULL"
    return int(db.execute(sql).fetchone()[0])
