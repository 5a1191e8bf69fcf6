"""Remote source state: when each source was polled and is due, and the HTTP cache
(ETag / Last-Modified) that makes a poll of an unchanged page cost one 304."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from dataclasses import dataclass

from scofeed.errors import TEMPORARY  # a reject reason with it is retried on the next poll
from scofeed.store.files import as_db


@dataclass(frozen=True)
class SourceState:
    name: str
    kind: str
    last_poll: float | None
    next_poll: float | None
    last_result: str | None
    last_error: str | None
    schedule: str | None = None  # what next_poll was computed from ("every 600", "cron ...")
    failures: int = 0  # polls that failed in a row, up to the last one


@dataclass(frozen=True)
class Validators:
    etag: str | None
    last_modified: str | None


def state(db: sqlite3.Connection, name: str) -> SourceState | None:
    row = db.execute(
        "SELECT name, kind, last_poll, next_poll, last_result, last_error, schedule, "
        "failures FROM sources WHERE name = ?",
        (name,),
    ).fetchone()
    return SourceState(*row) if row else None


def record_poll(
    db: sqlite3.Connection,
    name: str,
    kind: str,
    at: float,
    next_poll: float,
    result: str,
    error: str | None,
    new: int = 0,
    schedule: str | None = None,
    failures: int = 0,
) -> None:
    """The outcome of one poll; ``new`` entries are added to the source's running count;
    ``schedule`` names what ``next_poll`` was computed from; ``failures``: the polls
    that failed in a row, this one included (0 after one that did not)."""
    db.execute(
        "INSERT INTO sources (name, kind, last_poll, next_poll, last_result, last_error, "
        "entries, schedule, failures) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET "
        "kind = excluded.kind, last_poll = excluded.last_poll, next_poll = excluded.next_poll, "
        "last_result = excluded.last_result, last_error = excluded.last_error, "
        "entries = sources.entries + excluded.entries, schedule = excluded.schedule, "
        "failures = excluded.failures",
        (name, kind, at, next_poll, result, error, new, schedule, failures),
    )


def brought(db: sqlite3.Connection, name: str) -> int:
    """The new entries a source has brought in, all its polls together."""
    row = db.execute("SELECT entries FROM sources WHERE name = ?", (name,)).fetchone()
    return int(row[0]) if row and row[0] else 0


def cut_short(db: sqlite3.Connection, name: str) -> float | None:
    """Since when the source's catch-up through its listing's next pages has been cut
    short, poll after poll (None: it was not)."""
    row = db.execute("SELECT catch_up FROM sources WHERE name = ?", (name,)).fetchone()
    return float(row[0]) if row and row[0] is not None else None


def set_cut_short(db: sqlite3.Connection, name: str, since: float | None) -> None:
    """Record since when the source's catch-up has been cut short, or None once it is not."""
    db.execute("UPDATE sources SET catch_up = ? WHERE name = ?", (since, name))


def catch_up_held(db: sqlite3.Connection, name: str) -> bool:
    """Whether the source's next poll holds its catch-up back, once (``hold_catch_up``)."""
    row = db.execute("SELECT catch_up_held FROM sources WHERE name = ?", (name,)).fetchone()
    return bool(row and row[0])


def hold_catch_up(db: sqlite3.Connection, name: str, held: bool) -> None:
    """A next listing page asked the source to wait: its next poll reads the first page
    alone (``held``); or that poll came."""
    db.execute("UPDATE sources SET catch_up_held = ? WHERE name = ?", (int(held), name))


def reschedule(db: sqlite3.Connection, name: str, next_poll: float, schedule: str) -> None:
    """A new schedule in the config: the next poll moves, the last one stays recorded."""
    db.execute(
        "UPDATE sources SET next_poll = ?, schedule = ? WHERE name = ?",
        (next_poll, schedule, name),
    )


def validators(db: sqlite3.Connection, url: str) -> Validators | None:
    row = db.execute("SELECT etag, last_modified FROM http_cache WHERE url = ?", (url,)).fetchone()
    if row is None or (row[0] is None and row[1] is None):
        return None
    return Validators(row[0], row[1])


def remember(
    db: sqlite3.Connection,
    url: str,
    etag: str | None,
    last_modified: str | None,
    at: float,
    status: int,
) -> None:
    db.execute(
        "INSERT INTO http_cache (url, etag, last_modified, fetched_at, status) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, "
        "last_modified = excluded.last_modified, fetched_at = excluded.fetched_at, "
        "status = excluded.status",
        (url, etag, last_modified, at, status),
    )


def forget_validators(db: sqlite3.Connection, url: str) -> None:
    """The next GET of ``url`` asks for it whole, not a 304."""
    db.execute("DELETE FROM http_cache WHERE url = ?", (url,))


def touch(db: sqlite3.Connection, url: str, at: float, status: int) -> None:
    """A 304: the validators stand, only the time and status change."""
    db.execute("UPDATE http_cache SET fetched_at = ?, status = ? WHERE url = ?", (at, status, url))


def seen(
    db: sqlite3.Connection,
    origin: str,
    url_key: str,
    retry_rejected: bool = False,
    official: bool = False,
) -> bool:
    """An article page already ingested (by this URL or its URL key) or rejected for
    good (unless ``retry_rejected``): it is not fetched again. For an ``official``
    source, what only a mirror brought does not count: the official page is fetched
    and takes the entry over (docs/provenance.md)."""
    mirror = " AND kind IS NOT 'other'" if official else ""
    if db.execute(f"SELECT 1 FROM entry_origins WHERE origin = ?{mirror}", (origin,)).fetchone():
        return True
    mirror = " AND authority IS NOT 'other'" if official else ""
    if db.execute(
        f"SELECT 1 FROM entries WHERE url_key = ?{mirror} LIMIT 1", (url_key,)
    ).fetchone():
        return True
    if retry_rejected:
        return False
    row = db.execute("SELECT reason FROM rejects WHERE origin = ?", (origin,)).fetchone()
    return row is not None and not str(row[0]).startswith(TEMPORARY)


def pages_like(db: sqlite3.Connection, like: str, kind: str) -> list[str]:
    """The addresses of ``kind`` inputs (official | other) matching a LIKE pattern,
    oldest first: the pages that may be one article under another address."""
    rows = db.execute(
        "SELECT origin FROM entry_origins WHERE origin LIKE ? AND kind = ? ORDER BY seen",
        (like, kind),
    ).fetchall()
    return [row[0] for row in rows if isinstance(row[0], str)]


@dataclass(frozen=True)
class Failing:
    """An article page whose refusals for a passing reason run on: the last one
    (``at``), the first of the run (``since``), and how many in a row (``tries``)."""

    at: float
    since: float
    tries: int


def fail_for_now(
    db: sqlite3.Connection, origin: str, source: str, reason: str, at: float
) -> Failing:
    """Record a page refused for a passing reason (``reason`` starts ``temporary:``): one
    more in its run of such refusals, or the first of a run."""
    db.execute(
        "INSERT INTO rejects (origin, source, reason, at, kept, since, tries) "
        "VALUES (?, ?, ?, ?, NULL, ?, 1) ON CONFLICT (origin) DO UPDATE SET "
        "source = excluded.source, reason = excluded.reason, at = excluded.at, kept = NULL, "
        "since = CASE WHEN rejects.reason LIKE ? AND rejects.since IS NOT NULL "
        "THEN rejects.since ELSE excluded.since END, "
        "tries = CASE WHEN rejects.reason LIKE ? THEN max(rejects.tries, 1) + 1 ELSE 1 END",
        (as_db(origin), source, reason, at, at, TEMPORARY + "%", TEMPORARY + "%"),
    )
    row = db.execute(
        "SELECT at, since, tries FROM rejects WHERE origin = ?", (as_db(origin),)
    ).fetchone()
    return Failing(row[0], row[1] if row[1] is not None else row[0], row[2])


_FAILING = "SELECT origin, at, since, tries FROM rejects WHERE reason LIKE ? AND "


def _failing(rows: list[tuple[object, float, float | None, int]]) -> dict[str, Failing]:
    """Refusals for now as read (``_FAILING``), by the address refused."""
    return {
        origin: Failing(at, since if since is not None else at, max(tries, 1))
        for origin, at, since, tries in rows
        if isinstance(origin, str)  # a name kept as bytes is no page address
    }


def failing_pages(db: sqlite3.Connection, source: str, but: str) -> dict[str, Failing]:
    """The pages of ``source`` (but the address ``but``, its own) last refused for a
    passing reason, by address: each to be tried again at a later poll."""
    sql = _FAILING + "source = ? AND origin != ?"
    return _failing(db.execute(sql, (TEMPORARY + "%", source, as_db(but))).fetchall())


def failing_orphans(db: sqlite3.Connection, owners: Collection[str]) -> dict[str, Failing]:
    """The pages last refused for a passing reason by a source not among ``owners`` (a
    source renamed or removed from the config): nobody's turns take them any more."""
    sql = _FAILING + f"source NOT IN ({', '.join('?' * len(owners))})"
    return _failing(db.execute(sql, (TEMPORARY + "%", *owners)).fetchall())


def failed_for_now(db: sqlite3.Connection, origins: list[str]) -> dict[str, Failing]:
    """Those of ``origins`` whose last refusal was for a passing reason (``temporary:``)."""
    found: dict[str, Failing] = {}
    for start in range(0, len(origins), 500):  # within SQLite's bound parameters
        chunk = origins[start : start + 500]
        sql = _FAILING + f"origin IN ({', '.join('?' * len(chunk))})"
        found.update(_failing(db.execute(sql, (TEMPORARY + "%", *chunk)).fetchall()))
    return found
