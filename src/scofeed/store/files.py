"""The scan index of files in sources/ and the quarantine of rejected inputs."""

from __future__ import annotations

import sqlite3
from typing import NamedTuple


class FileState(NamedTuple):
    """One row of the scan index (a tuple: 10,000 of them load in a few milliseconds)."""

    path: str
    size: int
    mtime_ns: int
    sha256: str
    status: str  # ok | rejected
    reason: str | None


class Index:
    """The scan index as a scan needs it: every file's size and mtime up front (10,000
    of them load in ~15 ms), a whole row only for a file whose size or mtime moved."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        cur = db.cursor()
        cur.row_factory = None  # plain tuples, not sqlite3.Row
        self.stamps: dict[str, tuple[str, int, int]] = {
            r[0]: r for r in cur.execute("SELECT path, size, mtime_ns FROM files")
        }

    def row(self, path: str) -> FileState | None:
        found = self._db.execute(f"{_SELECT} WHERE path = ?", (path,)).fetchone()
        return FileState(*found) if found else None

    def rejected(self) -> list[FileState]:
        return [
            FileState(*r)
            for r in self._db.execute(f"{_SELECT} WHERE status = 'rejected' ORDER BY path")
        ]


_SELECT = "SELECT path, size, mtime_ns, sha256, status, reason FROM files"


_REMEMBER = (
    "INSERT INTO files (path, size, mtime_ns, sha256, status, reason) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET size = excluded.size, "
    "mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, status = excluded.status, "
    "reason = excluded.reason"
)


def _row(s: FileState) -> tuple[str, int, int, str, str, str | None]:
    return (s.path, s.size, s.mtime_ns, s.sha256, s.status, s.reason)


def remember_all(db: sqlite3.Connection, states: list[FileState]) -> None:
    db.executemany(_REMEMBER, [_row(s) for s in states])


def forget(db: sqlite3.Connection, paths: list[str]) -> None:
    db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in paths])


def reject(
    db: sqlite3.Connection, origin: str, source: str, reason: str, at: float, kept: str | None
) -> None:
    db.execute(
        "INSERT INTO rejects (origin, source, reason, at, kept) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (origin) DO UPDATE SET source = excluded.source, reason = excluded.reason, "
        "at = excluded.at, kept = excluded.kept",
        (origin, source, reason, at, kept),
    )


def clear_rejects(db: sqlite3.Connection, origins: list[str]) -> None:
    db.executemany("DELETE FROM rejects WHERE origin = ?", [(o,) for o in origins])


def rejects(db: sqlite3.Connection, source: str | None = None) -> list[sqlite3.Row]:
    if source is None:
        return db.execute("SELECT * FROM rejects ORDER BY at DESC, origin").fetchall()
    return db.execute(
        "SELECT * FROM rejects WHERE source = ? ORDER BY at DESC, origin", (source,)
    ).fetchall()
