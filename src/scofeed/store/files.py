"""The scan index of files in sources/, the last scan's time and result, and the
quarantine of rejected inputs.

Paths are stored losslessly: a name that is not valid UTF-8 (its bytes came to Python
as surrogate escapes) cannot be SQLite TEXT, so it is stored as a BLOB of its bytes
(``os.fsencode``) and read back with ``os.fsdecode``; a BLOB never equals TEXT, so
such a name cannot collide with another.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from typing import Any, NamedTuple, cast

from scofeed.store import put_meta


def as_db(name: str) -> str | bytes:
    """A path or origin as the store keeps it: TEXT, or the bytes of a non-UTF-8 name."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name)
    return name


def from_db(value: str | bytes) -> str:
    """The path or origin ``as_db`` stored."""
    return os.fsdecode(value) if isinstance(value, bytes) else value


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
        # the rows as they come (a name stored as TEXT is already what it is in Python);
        # the few stored as bytes (names that are not UTF-8) decoded after: telling
        # them apart here costs less than a typeof() per row in the query
        stamps: dict[str | bytes, tuple[str, int, int]] = {
            r[0]: r for r in cur.execute("SELECT path, size, mtime_ns FROM files")
        }
        for raw in [k for k in stamps if k.__class__ is bytes]:
            _raw, size, mtime_ns = stamps.pop(raw)
            stamps[from_db(raw)] = (from_db(raw), size, mtime_ns)
        self.stamps = cast(dict[str, tuple[str, int, int]], stamps)
        # files rejected because they could not be read: a scan tries them again; and
        # for their size: a scan reads one again once the limit takes it
        self.unreadable: set[str] = set()
        self.too_large: set[str] = set()
        for path, reason in db.execute(
            "SELECT path, reason FROM files WHERE status = 'rejected' "
            "AND (reason LIKE 'unreadable (%' OR reason LIKE 'too large (%')"
        ):
            (self.unreadable if reason.startswith("unreadable") else self.too_large).add(
                from_db(path)
            )

        self.refused_before: set[str] = set()  # see ``read_refused_again``

    def read_refused_again(self) -> None:
        """Every file rejected for what it holds is read again by this build, as a
        changed one is: another version of the reading code (``reading.refusals_read``)
        may take what an earlier one refused (a language tag with an extension, a
        grandfathered one); it stayed "still rejected" until edited or reread."""
        self.refused_before = (
            {
                from_db(path)
                for (path,) in self._db.execute("SELECT path FROM files WHERE status = 'rejected'")
            }
            - self.unreadable
            - self.too_large
        )

    def row(self, path: str) -> FileState | None:
        found = self._db.execute(f"{_SELECT} WHERE path = ?", (as_db(path),)).fetchone()
        return _state(found) if found else None

    def rejected(self) -> list[FileState]:
        return [
            _state(r)
            for r in self._db.execute(f"{_SELECT} WHERE status = 'rejected' ORDER BY path")
        ]


def _state(r: sqlite3.Row) -> FileState:
    return FileState(from_db(r[0]), *tuple(r)[1:])


_SELECT = "SELECT path, size, mtime_ns, sha256, status, reason FROM files"


_REMEMBER = (
    "INSERT INTO files (path, size, mtime_ns, sha256, status, reason) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET size = excluded.size, "
    "mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, status = excluded.status, "
    "reason = excluded.reason"
)


def _row(s: FileState) -> tuple[str | bytes, int, int, str, str, str | None]:
    return (as_db(s.path), s.size, s.mtime_ns, s.sha256, s.status, s.reason)


LAST_SCAN = "local.last_scan"  # meta keys: shown by `scofeed status` and /healthz
LAST_RESULT = "local.last_result"


def any_read(db: sqlite3.Connection) -> bool:
    """Whether any file of sources/ was read fine (its releases are stored)."""
    return db.execute("SELECT 1 FROM files WHERE status = 'ok' LIMIT 1").fetchone() is not None


def remember_scan(db: sqlite3.Connection, now: datetime, result: str) -> None:
    put_meta(db, (LAST_SCAN, now.isoformat(timespec="seconds")), (LAST_RESULT, result))


def remember_all(db: sqlite3.Connection, states: list[FileState]) -> None:
    db.executemany(_REMEMBER, [_row(s) for s in states])


def forget(db: sqlite3.Connection, paths: list[str]) -> None:
    """Files gone from sources/: out of the index, listed as left (``files_left``). A
    name listed there is looked for (``entries.left_files``) only while it is its
    entry's input still: one whose entry went on under another name (a rename) or was
    never an entry's is dropped, or the table grew with every name ever deleted or
    renamed, and every scan that found a change read it."""
    rows = [(as_db(p),) for p in paths]
    db.executemany("DELETE FROM files WHERE path = ?", rows)
    db.executemany("INSERT OR IGNORE INTO files_left (path) VALUES (?)", rows)
    db.execute(
        "DELETE FROM files_left WHERE NOT EXISTS (SELECT 1 FROM entry_origins o "
        "JOIN entries e ON e.id = o.entry_id AND e.origin = o.origin "
        "WHERE o.origin = files_left.path)"
    )


def reject(
    db: sqlite3.Connection, origin: str, source: str, reason: str, at: float, kept: str | None
) -> None:
    db.execute(
        "INSERT INTO rejects (origin, source, reason, at, kept) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (origin) DO UPDATE SET source = excluded.source, reason = excluded.reason, "
        "at = excluded.at, kept = excluded.kept, since = NULL, tries = 0",
        (as_db(origin), source, reason, at, kept),
    )


def reject_reason(db: sqlite3.Connection, origin: str) -> str | None:
    """Why ``origin`` stands rejected now, None when it does not."""
    row = db.execute("SELECT reason FROM rejects WHERE origin = ?", (as_db(origin),)).fetchone()
    return None if row is None else str(row[0])


def clear_rejects(db: sqlite3.Connection, origins: list[str]) -> None:
    if not origins or db.execute("SELECT 1 FROM rejects LIMIT 1").fetchone() is None:
        return  # nothing to clear: a cold build of 10,000 files skips 10,000 lookups
    db.executemany("DELETE FROM rejects WHERE origin = ?", [(as_db(o),) for o in origins])


def clear_rejects_but(db: sqlite3.Connection, source: str, kept: set[str]) -> None:
    """Clear the rejects of ``source`` (a remote source's name) but ``kept``'s."""
    rows = db.execute("SELECT origin FROM rejects WHERE source = ?", (source,)).fetchall()
    gone = [r[0] for r in rows if from_db(r[0]) not in kept]
    db.executemany("DELETE FROM rejects WHERE origin = ?", [(g,) for g in gone])


def rejects(db: sqlite3.Connection, source: str | None = None) -> list[dict[str, Any]]:
    if source is None:
        rows = db.execute("SELECT * FROM rejects ORDER BY at DESC, origin").fetchall()
    else:
        rows = db.execute(
            "SELECT * FROM rejects WHERE source = ? ORDER BY at DESC, origin", (source,)
        ).fetchall()
    return [{**dict(r), "origin": from_db(r["origin"])} for r in rows]
