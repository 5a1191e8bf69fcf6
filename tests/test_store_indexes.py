"""The indexes on entries (migration 15): every query the store makes of entries is
answered through an index, not by reading the table (apart from the two that read it
all on purpose), and the partial indexes hold exactly the rows their queries look for.
Fewer indexes make a cold build cheaper; a query that lost its index would make every
lookup read the whole table, which no output shows: so the query plans are checked."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from scofeed.build import build
from scofeed.store import Store
from scofeed.store import entries as entry_rows
from scofeed.store import files as file_rows
from scofeed.store import matching as match_rows
from scofeed.store import published as published_rows
from scofeed.store import withdrawals as withdrawal_rows

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def write(site, i: int, meta: dict[str, object]) -> None:
    release = {"title": f"Release {i}", "date": f"2023-0{i % 3 + 4}-0{i % 7 + 1}"}
    release |= {"text": f"A meeting was held, number {i}.", **meta}
    (site.sources / f"r{i}.json").write_text(json.dumps(release), encoding="utf-8")


def plans_of(db: sqlite3.Connection, calls) -> dict[str, list[str]]:
    """The query plan of every SELECT on entries that ``calls()`` made (their SQL as run,
    values in place), by statement."""
    seen: list[str] = []
    db.set_trace_callback(seen.append)
    try:
        calls()
    finally:
        db.set_trace_callback(None)
    plans = {}
    for sql in seen:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")) and "entries" in sql:
            plans[sql] = [r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql)]
    return plans


def test_every_read_of_entries_goes_through_an_index(site):
    for i in range(8):
        meta: dict[str, object] = {"lang": ["en", "ru"][i % 2]}
        if i % 3 == 0:
            meta |= {"id": f"key-{i}", "url": f"https://example.org/r/{i}"}
        if i % 4 == 0:
            meta |= {"tags": ["security"]}
        write(site, i, meta)
    cfg = site.config()
    store = Store(cfg.paths.state)
    build(cfg, store, NOW)
    db = store.db
    total = published_rows.count(db)
    some = published_rows.latest(db, 1)[0]

    def reads() -> None:
        published_rows.latest(db, 5)
        published_rows.newest(db, 5)
        published_rows.newest(db, 5, languages=["ru"])
        published_rows.newest(db, 5, tags=['["security"]'])
        published_rows.month_ids(db, some.published.isoformat()[:7])
        published_rows.languages(db)
        published_rows.page(db, 0, 3, total)
        published_rows.page(db, total - 2, 3, total)
        published_rows.by_ids(db, [some.id])
        entry_rows.get(db, some.id)
        withdrawal_rows.withdrawn(db, NOW)
        withdrawal_rows.count_withdrawn(db)
        withdrawal_rows.withdrawals(db)
        # an identity and a URL key that are no entry's: every lookup runs
        match_rows.find_match(db, "new.json", "key:nothing", "https://example.org/x", "fp0")

    plans = plans_of(db, reads)
    assert any("identity =" in sql for sql in plans) and any("url_key =" in sql for sql in plans)
    for sql, plan in plans.items():
        for step in plan:
            # "SCAN entries" alone reads the table; "SCAN entries USING ... INDEX" does not
            table = step.startswith("SCAN") and step.split()[1] in ("entries", "e")
            assert not (table and "USING" not in step), (sql, plan)
    store.close()


def test_the_partial_indexes_hold_the_rows_that_are_looked_up(site):
    for i in range(6):
        write(site, i, {"id": f"key-{i}", "url": f"https://example.org/r/{i}"} if i % 2 else {})
    cfg = site.config()
    store = Store(cfg.paths.state)
    build(cfg, store, NOW)
    db = store.db
    rows = db.execute("SELECT identity, url_key FROM entries").fetchall()
    keyed = [r for r in rows if not r[0].startswith("fp:")]
    assert keyed and len(keyed) < len(rows)
    indexed = db.execute(
        "SELECT count(*) FROM entries INDEXED BY entries_by_identity "
        "WHERE identity > '' AND substr(identity, 1, 3) != 'fp:'"
    ).fetchone()[0]
    assert indexed == len(keyed)
    with_url = db.execute(
        "SELECT count(*) FROM entries INDEXED BY entries_by_url WHERE url_key IS NOT NULL"
    ).fetchone()[0]
    assert with_url == sum(1 for r in rows if r[1] is not None) > 0
    # an entry is still found by its identity and by its URL key
    identity, url_key = keyed[0]
    by_identity = match_rows.find_match(db, "other.json", identity, None, "fp-none")
    assert by_identity is not None and by_identity.by == "identity"
    by_url = match_rows.find_match(db, "other.json", "key:none", url_key, "fp-none")
    assert by_url is not None and by_url.by == "url"
    store.close()


def test_the_rejected_files_are_found_without_reading_the_whole_files_index(site):
    """Every scan asks the files index for its rejected files (migration 26)."""
    for i in range(4):
        write(site, i, {})
    (site.sources / "bad.json").write_text("{not json", encoding="utf-8")
    cfg = site.config()
    store = Store(cfg.paths.state)
    build(cfg, store, NOW)
    db = store.db
    seen: list[str] = []
    db.set_trace_callback(seen.append)
    try:
        index = file_rows.Index(db)
        rejected = index.rejected()
    finally:
        db.set_trace_callback(None)
    assert [(s.path, s.status) for s in rejected] == [("bad.json", "rejected")]
    asked = [sql for sql in seen if "status = 'rejected'" in sql]
    assert len(asked) == 2, seen
    for sql in asked:
        plan = [r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql)]
        assert any("files_rejected" in step for step in plan), (sql, plan)
    store.close()
