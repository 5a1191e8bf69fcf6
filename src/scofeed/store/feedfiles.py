"""Published feed files: each path under feeds/, the key of what it was rendered from,
its stamp (size, mtime, inode) as it was left, and, for a feed with nothing to be dated
by (no entry, no withdrawal), since when it has been published so: the date it says
(``publish.plan``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path


def keys(db: sqlite3.Connection) -> dict[str, tuple[str, str | None]]:
    """path -> (the key it was rendered from, its stamp as left: ``stamp``; None for a
    file published before stamps were kept)."""
    rows = db.execute("SELECT path, key, stamp FROM feed_files")
    return {path: (key, stamp) for path, key, stamp in rows}


def stamp(path: Path) -> str | None:
    """A file's size, mtime and inode, as its stamp; None when there is no file."""
    try:
        st = path.stat()
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def empty_since(db: sqlite3.Connection) -> dict[str, datetime]:
    """The files published with nothing to be dated by, and since when."""
    rows = db.execute("SELECT path, empty_since FROM feed_files WHERE empty_since IS NOT NULL")
    return {path: datetime.fromtimestamp(at, UTC) for path, at in rows}


def put(
    db: sqlite3.Connection, rows: Sequence[tuple[str, str, datetime | None, str | None]]
) -> None:
    """(path, key, empty since or None, stamp) of the files just rendered."""
    db.executemany(
        "INSERT INTO feed_files (path, key, empty_since, stamp) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (path) DO UPDATE SET key = excluded.key, "
        "empty_since = excluded.empty_since, stamp = excluded.stamp",
        [(p, key, None if at is None else at.timestamp(), st) for p, key, at, st in rows],
    )


def forget(db: sqlite3.Connection, paths: list[str]) -> None:
    db.executemany("DELETE FROM feed_files WHERE path = ?", [(p,) for p in paths])


def published(db: sqlite3.Connection, path: str) -> bool:
    """Whether ``path`` (relative to feeds/) is a file the publisher wrote."""
    row = db.execute("SELECT 1 FROM feed_files WHERE path = ?", (path,)).fetchone()
    return row is not None
