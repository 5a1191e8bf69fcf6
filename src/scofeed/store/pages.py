"""Official pages watched for corrections: a page-list source's article pages and
``scofeed add URL`` pages, re-fetched while recently published (``[recheck]``).

Due-ness lives here (``next_check``), so a restart loses nothing. A page's first check
is spread over one interval by its address, so pages ingested together are not all
fetched together; each later check comes one interval after the last.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from scofeed.digest import sha256

GONE = (404, 410)


@dataclass(frozen=True)
class Page:
    url: str
    source: str  # a page-list source's name, or "add"
    origin: str  # the input the entry knows it by (the URL, or add's file in sources/)
    entry_id: str
    published: float
    next_check: float
    last_check: float | None = None
    last_status: int | None = None
    last_error: str | None = None
    gone_since: float | None = None
    # an ``add`` page's release format as ``add URL --format`` named it ("md", ...):
    # a recheck reads it so; None: as the response's Content-Type says
    format: str | None = None


_COLUMNS = (
    "url, source, origin, entry_id, published, next_check, last_check, last_status, "
    "last_error, gone_since, format"
)


# how recent a page is: the later of its publication date and when its entry was first
# seen (a page whose date was wrong, 2016 for 2026, is new all the same: rechecked, the
# site's correction of that date comes in; it was never checked, and soon forgotten)
_RECENT = (
    "MAX(page_checks.published, COALESCE((SELECT first_seen FROM entries "
    "WHERE id = page_checks.entry_id), page_checks.published))"
)


def spread(url: str, interval: float) -> float:
    """Where in an interval a page's first check falls: the same for the same address."""
    digest = sha256(url.encode("utf-8", "surrogatepass")).digest()
    return interval * int.from_bytes(digest[:4], "big") / 2**32


def watch(
    db: sqlite3.Connection,
    url: str,
    source: str,
    origin: str,
    entry_id: str,
    published: float,
    now: float,
    interval: float,
    fmt: str | None = None,
) -> None:
    """Watch a page just ingested (``fmt``: the release format ``add URL --format``
    named); a page already watched keeps its schedule."""
    db.execute(
        f"INSERT INTO page_checks ({_COLUMNS}) "
        "VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, ?) "
        "ON CONFLICT (url) DO UPDATE SET source = excluded.source, origin = excluded.origin, "
        "entry_id = excluded.entry_id, published = excluded.published, format = excluded.format",
        (url, source, origin, entry_id, published, now + spread(url, interval), fmt),
    )


def due(db: sqlite3.Connection, now: float, since: float, limit: int) -> list[Page]:
    """Pages whose check is due, recent (``_RECENT``) at or after ``since``, the most
    overdue first."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM page_checks WHERE next_check <= ? AND {_RECENT} >= ? "
        "ORDER BY next_check, url LIMIT ?",
        (now, since, limit),
    ).fetchall()
    return [Page(*r) for r in rows]


def record(
    db: sqlite3.Connection,
    url: str,
    at: float,
    next_check: float,
    status: int | None,
    error: str | None = None,
    published: float | None = None,
) -> None:
    """The outcome of one check. A 404/410 starts (or continues) the page's gone run;
    any other answer ends it."""
    db.execute(
        "UPDATE page_checks SET last_check = ?, next_check = ?, last_status = ?, "
        "last_error = ?, published = COALESCE(?, published), gone_since = CASE "
        "WHEN ? IN (404, 410) THEN COALESCE(gone_since, ?) "
        "WHEN ? IS NULL THEN gone_since ELSE NULL END WHERE url = ?",
        (at, next_check, status, error, published, status, at, status, url),
    )


def postpone(db: sqlite3.Connection, url: str, next_check: float) -> None:
    """Not checked this time (its source is disabled): due again at ``next_check``."""
    db.execute("UPDATE page_checks SET next_check = ? WHERE url = ?", (next_check, url))


def forget(db: sqlite3.Connection, url: str) -> None:
    db.execute("DELETE FROM page_checks WHERE url = ?", (url,))


def prune(db: sqlite3.Connection, since: float) -> int:
    """Stop watching pages not recent (``_RECENT``) since ``since``; a gone page stays
    listed until it has been gone that long too."""
    cur = db.execute(
        f"DELETE FROM page_checks WHERE {_RECENT} < ? AND (gone_since IS NULL OR gone_since < ?)",
        (since, since),
    )
    return cur.rowcount


def is_gone(db: sqlite3.Connection, url: str) -> bool:
    """Whether the watched page at ``url`` answered 404 or 410 at its last check."""
    row = db.execute(
        "SELECT 1 FROM page_checks WHERE url = ? AND gone_since IS NOT NULL", (url,)
    ).fetchone()
    return row is not None


def gone(db: sqlite3.Connection) -> list[Page]:
    """Watched pages that answered 404 or 410 at their last check, longest gone first."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM page_checks WHERE gone_since IS NOT NULL ORDER BY gone_since, url"
    ).fetchall()
    return [Page(*r) for r in rows]


def counts(db: sqlite3.Connection, now: float, since: float) -> tuple[int, int]:
    """(pages watched within the window, of them due now)."""
    row = db.execute(
        f"SELECT COUNT(*), COALESCE(SUM(next_check <= ?), 0) FROM page_checks WHERE {_RECENT} >= ?",
        (now, since),
    ).fetchone()
    return int(row[0]), int(row[1])
