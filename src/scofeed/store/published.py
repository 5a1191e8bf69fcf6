"""Reads of the published entries (withdrawn ones left out), as the feeds, the pages
and the outboxes list them: newest first, by archive month, by stored tag list, by
language, a page at a time, and how many there are. Writes, matching and one entry by
its id are in ``entries``."""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

from scofeed.model import Entry
from scofeed.store.entries import LIVE, MONTH, READ, from_row


def latest(db: sqlite3.Connection, limit: int | None = None) -> list[Entry]:
    """Newest first: by published date, then by id so the order is total and stable.
    Withdrawn entries are left out (they are in no feed, index or list)."""
    sql = f"SELECT {READ} FROM entries WHERE {LIVE} ORDER BY published_ts DESC, id DESC"
    params: tuple[int, ...] = ()
    if limit is not None:
        sql += " LIMIT ?"
        params = (limit,)
    return [from_row(r) for r in db.execute(sql, params)]


# what a feed shows of an entry, one string: changes whenever its rendering would
_STAMP = (
    "id || ' ' || published || ' ' || updated || ' ' || revision || ' ' || content_hash "
    "|| ' ' || link || ' ' || author || ' ' || COALESCE(event_date, '')"
)
_ORDER = "ORDER BY published_ts DESC, id DESC"


class Month(NamedTuple):
    """An archive month as the triggers of migration 14 keep it: how many live entries
    it holds, and a version that moves whenever one of them shows differently."""

    live: int
    version: int


def months(db: sqlite3.Connection) -> dict[str, Month]:
    """Every month holding a live entry: one row per month, whatever the store's size."""
    rows = db.execute("SELECT month, live, version FROM entry_months WHERE live > 0")
    return {month: Month(live, version) for month, live, version in rows}


def month_ids(db: sqlite3.Connection, month: str) -> list[str]:
    """The ids of one month's published entries, newest first."""
    rows = db.execute(f"SELECT id FROM entries WHERE {MONTH} = ? AND {LIVE} {_ORDER}", (month,))
    return [r[0] for r in rows]


def newest(
    db: sqlite3.Connection,
    limit: int,
    languages: list[str] | None = None,
    tags: list[str] | None = None,
) -> list[tuple[str, str]]:
    """(id, stamp) of the newest published entries, of those ``languages`` (the tags
    stored, ``languages``: one, the usual case, reads the language index in order), or
    whose tags column is one of ``tags`` (the stored JSON lists)."""
    where, params = _of_lists(tags)
    if languages is not None:
        where += f" AND language IN ({', '.join('?' * len(languages))})"
        params = [*params, *languages]
    sql = f"SELECT id, {_STAMP} FROM entries WHERE {LIVE}{where} {_ORDER} LIMIT ?"
    return [(r[0], r[1]) for r in db.execute(sql, [*params, limit])]


def tag_lists(db: sqlite3.Connection) -> list[str]:
    """Every distinct tags column (a JSON list) of the published entries, but '[]'
    (kept by the triggers of migration 14: one row per list)."""
    rows = db.execute("SELECT tags FROM entry_tag_lists WHERE live > 0 ORDER BY tags")
    return [r[0] for r in rows]


def by_ids(db: sqlite3.Connection, ids: list[str]) -> dict[str, Entry]:
    """The entries of these ids, by id (a missing id is left out)."""
    out: dict[str, Entry] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        for r in db.execute(f"SELECT {READ} FROM entries WHERE id IN ({marks})", chunk):
            out[r["id"]] = from_row(r)
    return out


def _of_lists(tags: list[str] | None) -> tuple[str, list[str]]:
    """The condition (and its parameters) on the tags column being one of ``tags`` (the
    stored JSON lists, ``tag_lists``); none for None."""
    if tags is None:
        return "", []
    return f" AND tags IN ({', '.join('?' * len(tags))})", tags


def page(
    db: sqlite3.Connection,
    offset: int,
    limit: int,
    total: int | None = None,
    tags: list[str] | None = None,
) -> list[Entry]:
    """One page of the newest-first order of ``latest`` (withdrawn entries left out), of
    every entry or of those whose tags column is one of ``tags``. The offset is walked
    in the entries_live_by_date index alone (rowids), and only the page's rows are
    read; given the ``total`` (``count``), a page in the older half is counted from the
    oldest end, so the last page of 30,000 costs what the first does."""
    newest_first = "ORDER BY published_ts DESC, id DESC"
    order = newest_first
    if total is not None and offset > total // 2:  # counted from the oldest end
        order = "ORDER BY published_ts, id"
        offset, limit = max(0, total - offset - limit), max(0, min(limit, total - offset))
    where, params = _of_lists(tags)
    sql = (
        f"SELECT {READ} FROM entries WHERE rowid IN (SELECT rowid FROM entries "
        f"WHERE {LIVE}{where} {order} LIMIT ? OFFSET ?) {newest_first}"
    )
    return [from_row(r) for r in db.execute(sql, (*params, limit, offset))]


def languages(db: sqlite3.Connection) -> list[str]:
    """Every language some published entry is in, sorted: one probe per language in
    the entries_live_by_language index, not a scan of the entries."""
    sql = (
        "WITH RECURSIVE present(language) AS ("
        f" SELECT MIN(language) FROM entries WHERE {LIVE}"
        " UNION ALL"
        " SELECT (SELECT MIN(language) FROM entries"
        f" WHERE {LIVE} AND language > present.language)"
        " FROM present WHERE present.language IS NOT NULL"
        ") SELECT language FROM present WHERE language IS NOT NULL"
    )
    return [r[0] for r in db.execute(sql)]


def count(db: sqlite3.Connection, tags: list[str] | None = None) -> int:
    """How many entries are published (withdrawn ones not counted), of all or of those
    whose tags column is one of ``tags``: those are counted per list by the store's
    triggers (``entry_tag_lists``, as ``tag_lists`` reads it), not by reading every
    entry (~100 ms at 30,000)."""
    if tags is None:
        return int(db.execute(f"SELECT COUNT(*) FROM entries WHERE {LIVE}").fetchone()[0])
    marks = ", ".join("?" * len(tags))
    sql = f"SELECT COALESCE(SUM(live), 0) FROM entry_tag_lists WHERE tags IN ({marks})"
    return int(db.execute(sql, tags).fetchone()[0])
