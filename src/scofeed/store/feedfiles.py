"""Published feed files: each path under feeds/, the key of what it was rendered from,
and, for a feed with nothing to be dated by (no entry, no withdrawal), since when it has
been published so: the date it says (``publish.plan``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime


def keys(db: sqlite3.Connection) -> dict[str, str]:
    return {path: key for path, key in db.execute("SELECT path, key FROM feed_files")}


def empty_since(db: sqlite3.Connection) -> dict[str, datetime]:
    """The files published with nothing to be dated by, and since when."""
    rows = db.execute("SELECT path, empty_since FROM feed_files WHERE empty_since IS NOT NULL")
    return {path: datetime.fromtimestamp(at, UTC) for path, at in rows}


def put(db: sqlite3.Connection, rows: Sequence[tuple[str, str, datetime | None]]) -> None:
    """(path, key, empty since or None) of the files just written."""
    db.executemany(
        "INSERT INTO feed_files (path, key, empty_since) VALUES (?, ?, ?) "
        "ON CONFLICT (path) DO UPDATE SET key = excluded.key, empty_since = excluded.empty_since",
        [(path, key, None if at is None else at.timestamp()) for path, key, at in rows],
    )


def forget(db: sqlite3.Connection, paths: list[str]) -> None:
    db.executemany("DELETE FROM feed_files WHERE path = ?", [(p,) for p in paths])


def published(db: sqlite3.Connection, path: str) -> bool:
    """Whether ``path`` (relative to feeds/) is a file the publisher wrote."""
    row = db.execute("SELECT 1 FROM feed_files WHERE path = ?", (path,)).fetchone()
    return row is not None
