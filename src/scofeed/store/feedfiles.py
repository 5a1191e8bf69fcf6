"""Published feed files: each path under feeds/ and the key of what it was rendered from."""

from __future__ import annotations

import sqlite3


def keys(db: sqlite3.Connection) -> dict[str, str]:
    return {path: key for path, key in db.execute("SELECT path, key FROM feed_files")}


def put(db: sqlite3.Connection, pairs: list[tuple[str, str]]) -> None:
    db.executemany(
        "INSERT INTO feed_files (path, key) VALUES (?, ?) "
        "ON CONFLICT (path) DO UPDATE SET key = excluded.key",
        pairs,
    )


def forget(db: sqlite3.Connection, paths: list[str]) -> None:
    db.executemany("DELETE FROM feed_files WHERE path = ?", [(p,) for p in paths])


def published(db: sqlite3.Connection, path: str) -> bool:
    """Whether ``path`` (relative to feeds/) is a file the publisher wrote."""
    row = db.execute("SELECT 1 FROM feed_files WHERE path = ?", (path,)).fetchone()
    return row is not None
