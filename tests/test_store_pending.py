"""Batched inserts of new entries (store.entries.Pending) store what row-by-row does."""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from scofeed.config import load
from scofeed.ingest import ingest_one
from scofeed.model import Release
from scofeed.normalise import normalise, settings_from
from scofeed.store import Store
from scofeed.store import entries as entry_rows
from scofeed.store import matching as match_rows
from scofeed.store import published as published_rows

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def releases() -> list[Release]:
    out = []
    for i in range(12):
        body = f"On {i + 1} June 2020, release number {i} was published.\n\nMore about {i}."
        out.append(Release(f"r{i}.txt", f"Release {i}\n\n{body}"))
        if i % 4 == 3:  # a copy under another name: matches a row that may still be pending
            out.append(Release(f"copy{i}.txt", f"RELEASE  {i}\n\n{body}"))
        if i % 5 == 4:  # the same origin again, edited: an origin match on a pending row
            out.append(Release(f"r{i}.txt", f"Release {i}\n\n{body} Edited."))
    return out


def store_all(site, batched: bool) -> tuple[list[str], list[tuple], list[tuple]]:
    cfg = site.config()
    settings = settings_from(cfg)
    store = Store(site.root / ("batched.sqlite3" if batched else "rows.sqlite3"))
    kinds = []
    with store.transaction() as db:
        known = match_rows.Known(db) if batched else None
        pending = entry_rows.Pending() if batched else None
        for release in releases():
            entry = normalise(release, settings, NOW)
            change, _ = ingest_one(db, release, entry, settings, NOW, known=known, pending=pending)
            kinds.append(change.kind)
        if pending is not None:
            pending.flush(db)
    db = sqlite3.connect(store.path)
    entries = db.execute("SELECT * FROM entries ORDER BY rowid").fetchall()
    origins = db.execute("SELECT * FROM entry_origins ORDER BY rowid").fetchall()
    return kinds, entries, origins


def test_batched_new_entries_match_row_by_row_inserts(site):
    batched = store_all(site, batched=True)
    assert batched == store_all(site, batched=False)
    kinds = batched[0]
    assert kinds.count("new") == 12 and "duplicate" in kinds and "updated" in kinds


def test_rows_are_written_when_the_batch_fills(site):
    store = Store(site.root / "fill.sqlite3")
    settings = settings_from(site.config())
    pending = entry_rows.Pending(flush_at=2)
    with store.transaction() as db:
        known = match_rows.Known(db)  # no lookups, so only a full batch writes
        for release in releases()[:3]:
            entry = normalise(release, settings, NOW)
            ingest_one(db, release, entry, settings, NOW, known=known, pending=pending)
        assert published_rows.count(db) == 2 and len(pending.entries) == 1
        pending.flush(db)
        assert published_rows.count(db) == 3 and not pending.entries


def test_bulk_load_defers_checkpoints_and_restores_them(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    db = store.db
    wal = tmp_path / "s.sqlite3-wal"

    def setting() -> int:
        return int(db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

    before = setting()
    with store.bulk_load():
        assert setting() == 0
        with store.transaction() as tx:
            tx.execute("CREATE TABLE t (x BLOB)")
            tx.executemany("INSERT INTO t VALUES (?)", [(b"x" * 4096,)] * 2000)
        grown = wal.stat().st_size
        assert grown > 4096 * 2000  # nothing checkpointed and reset at the commit
    assert setting() == before
    # the checkpoint at the end copied the pages: the next commit starts the WAL over
    with store.transaction() as tx:
        tx.execute("INSERT INTO t VALUES (?)", (b"y",))
    assert db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 2001
    try:
        with store.bulk_load():
            raise RuntimeError("a build that fails")
    except RuntimeError:
        pass
    assert setting() == before
    store.close()


def test_bulk_load_keeps_statement_journals_in_memory_and_restores_the_setting(tmp_path):
    """An insert into entries fires a trigger, so each one is journaled; during a bulk
    load that journal stays in memory (it went to a temporary file, ~30 writes a row)."""
    store = Store(tmp_path / "s.sqlite3")
    db = store.db

    def temp_store() -> int:
        return int(db.execute("PRAGMA temp_store").fetchone()[0])

    before = temp_store()
    assert before != 2
    with store.bulk_load():
        assert temp_store() == 2  # MEMORY
    assert temp_store() == before
    store.close()


def test_bulk_load_copies_commits_into_the_database_in_a_thread_of_its_own(tmp_path):
    """After ``committed()`` the WAL is copied into the database while the writer goes
    on (before, all of it was copied at the end, the build waiting); no thread runs
    before the first commit (a cold build forks its workers first) nor after."""
    store = Store(tmp_path / "s.sqlite3")
    db = store.db
    threads = threading.active_count()
    with store.bulk_load() as loading:
        with store.transaction() as tx:
            tx.execute("CREATE TABLE t (x BLOB)")
            tx.executemany("INSERT INTO t VALUES (?)", [(b"x" * 4096,)] * 2000)
        assert threading.active_count() == threads  # not started before a commit
        small = (tmp_path / "s.sqlite3").stat().st_size
        assert small < 4096 * 2000  # the rows are in the WAL only
        loading.committed()
        deadline = time.monotonic() + 30
        while (tmp_path / "s.sqlite3").stat().st_size < 4096 * 2000:
            assert time.monotonic() < deadline, "nothing copied into the database"
            time.sleep(0.01)
        with store.transaction() as tx:  # the writer is not held up meanwhile
            tx.execute("INSERT INTO t VALUES (?)", (b"y",))
        loading.committed()
    assert threading.active_count() == threads
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == 2001
    _busy, frames, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert frames == copied  # the checkpoint at the end copied the rest
    store.close()


def _rows(count: int, start: int = 0) -> list[tuple[object, ...]]:
    """New entry rows across two months and three tag lists (and untagged ones)."""
    settings = settings_from(load(None, []))
    tag_lists = [(), ("energy",), ("energy", "trade"), ("trade",)]
    rows = []
    for i in range(start, start + count):
        release = Release(
            f"n{i}.txt", f"Release {i}\n\nOn {1 + i % 28} {('May', 'June')[i % 2]} 2020, item {i}."
        )
        entry = replace(normalise(release, settings, NOW), tags=tag_lists[i % 4])
        rows.append(entry_rows._insert_row(entry, f"key:{i}", None, 0.0, "local"))
    return rows


def _counts(db: sqlite3.Connection) -> tuple[list[tuple], list[tuple]]:
    return (
        [tuple(r) for r in db.execute("SELECT * FROM entry_months ORDER BY month")],
        [tuple(r) for r in db.execute("SELECT * FROM entry_tag_lists ORDER BY tags")],
    )


def test_a_batch_is_counted_as_the_trigger_counts_row_by_row(tmp_path):
    """insert_counted takes the counting trigger out for the batch and counts it in one
    query: months' live counts and versions, and tag lists, are what row-by-row gives,
    also on top of rows already counted; the trigger is back afterwards."""
    by_rows, batched = Store(tmp_path / "rows.sqlite3"), Store(tmp_path / "batch.sqlite3")
    trigger = "SELECT sql FROM sqlite_master WHERE name = 'entries_counted_in'"
    before = by_rows.db.execute(trigger).fetchone()[0]
    for first, count in ((0, 7), (7, 30)):
        rows = _rows(count, first)
        with by_rows.transaction() as db:
            for row in rows:
                db.execute(entry_rows._INSERT, row)
        with batched.transaction() as db:
            entry_rows.insert_counted(db, rows)
        assert _counts(batched.db) == _counts(by_rows.db)
    months, tags = _counts(batched.db)
    assert [m[2] for m in months] == [19, 18]  # each month's version: one per row added
    assert ("[]", 0) not in tags and len(tags) == 3
    assert batched.db.execute(trigger).fetchone()[0] == before


def test_a_failed_batch_leaves_the_store_and_its_trigger_as_they_were(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    with store.transaction() as db:
        entry_rows.insert_counted(db, _rows(4))
    counted = _counts(store.db)
    bad = _rows(3, 10) + _rows(1, 0)  # the last row's id is stored already
    with store.transaction() as db:
        with pytest.raises(sqlite3.IntegrityError):
            entry_rows.insert_counted(db, bad)
        assert published_rows.count(db) == 4  # the batch's first rows are gone too
    assert _counts(store.db) == counted
    with store.transaction() as db:  # the trigger still counts a row on its own
        db.execute(entry_rows._INSERT, _rows(1, 20)[0])
    months, _tags = _counts(store.db)
    assert sum(m[1] for m in months) == 5
