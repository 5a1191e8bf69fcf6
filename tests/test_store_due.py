"""Due times and leases in the store after the wall clock went back (store.due)."""

from __future__ import annotations

import re

from scofeed.store import Store, due

NOW = 1_800_000_000.0  # the clock as it reads since the jump
HOUR = 3600.0


def test_every_due_column_is_in_the_schema(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    try:
        for table, column in due.DUE_COLUMNS:
            names = {row[1] for row in store.db.execute(f"PRAGMA table_info({table})")}
            assert column in names, (table, column)
        with store.transaction() as tx:  # an empty store: nothing to move, no error
            assert due.move_back(tx, HOUR, NOW) == 0
    finally:
        store.close()


def test_times_still_ahead_move_back_by_the_jump_never_before_now(tmp_path):
    store = Store(tmp_path / "s.sqlite3")
    polls = {"ahead": NOW + HOUR + 60, "soon": NOW + 60, "due": NOW - 5, "never": None}
    try:
        with store.transaction() as tx:
            for name, at in polls.items():
                tx.execute("INSERT INTO sources (name, kind, next_poll) VALUES (?, 'feed', ?)",
                           (name, at))  # fmt: skip
            tx.execute(
                "INSERT INTO page_checks (url, source, origin, entry_id, published, next_check)"
                " VALUES ('https://x/1', 'sco', 'https://x/1', 'e1', ?, ?)",
                (NOW - 86400, NOW + 2 * HOUR),
            )
        with store.transaction() as tx:
            assert due.move_back(tx, HOUR, NOW) == 3
        rows = dict(store.db.execute("SELECT name, next_poll FROM sources").fetchall())
        assert rows == {"ahead": NOW + 60, "soon": NOW, "due": NOW - 5, "never": None}
        (check,) = store.db.execute("SELECT next_check FROM page_checks").fetchone()
        assert check == NOW + HOUR
    finally:
        store.close()


def test_every_due_time_and_lease_of_the_schema_is_moved(tmp_path):
    """A column the schema holds for "not before" (``next_*``, ``*_until``) that
    DUE_COLUMNS forgot stayed an hour ahead after the clock went back an hour (an
    endpoint's rate-limit hold, migration 28, held every new delivery that long)."""
    store = Store(tmp_path / "s.sqlite3")
    try:
        tables = [
            r[0] for r in store.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        found = {
            (table, row[1])
            for table in tables
            for row in store.db.execute(f"PRAGMA table_info({table})")
            if re.fullmatch(r"next_\w+|\w+_until", row[1])
        }
        assert found == set(due.DUE_COLUMNS)
    finally:
        store.close()
