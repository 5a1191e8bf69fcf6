"""The feed plan's summaries of the whole store (migration 14): per archive month its
live entries and a version, per distinct tags list its live entries, kept by triggers.
Checked against the same figures computed from every row, after each kind of change a
real build, a withdrawal and a restore make, and after migrating an older store."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

from conftest import rewind
from scofeed.build import build
from scofeed.store import Store
from scofeed.store import published as published_rows
from scofeed.store.schema import MIGRATIONS, statements
from scofeed.withdraw import restore, withdraw

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def write(site, i: int, day: str, tags: list[str], text: str = "A meeting was held.") -> None:
    release = {"id": f"r{i}", "title": f"Release {i}", "date": day, "tags": tags, "text": text}
    (site.sources / f"r{i}.json").write_text(json.dumps(release), encoding="utf-8")


def from_rows(db: sqlite3.Connection) -> tuple[dict[str, tuple[int, str]], list[str]]:
    """Each month's live count and joined stamps, and the distinct tags lists, read from
    every row (what the plan queried before migration 14)."""
    stamps = {
        month: (n, joined)
        for month, n, joined in db.execute(
            "SELECT substr(published, 1, 7), count(*), group_concat(id || published || updated "
            "|| revision || content_hash || link || author || COALESCE(event_date, ''), ' ') "
            "FROM (SELECT * FROM entries WHERE withdrawn_at IS NULL ORDER BY id) GROUP BY 1"
        )
    }
    tags = [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT tags FROM entries WHERE withdrawn_at IS NULL AND tags != '[]' "
            "ORDER BY tags"
        )
    ]
    return stamps, tags


def check(store: Store, before: dict[str, tuple[int, str]], versions: dict[str, int]) -> None:
    """The summaries equal the figures from every row, and a month's version moved
    exactly when what it shows did."""
    stamps, tags = from_rows(store.db)
    months = published_rows.months(store.db)
    assert {m: v.live for m, v in months.items()} == {m: n for m, (n, _) in stamps.items()}
    assert published_rows.tag_lists(store.db) == tags
    for month, m in months.items():
        if month in versions:
            assert (m.version != versions[month]) == (before.get(month) != stamps[month]), month


def id_of(store: Store, i: int) -> str:
    return store.db.execute("SELECT id FROM entries WHERE origin = ?", (f"r{i}.json",)).fetchone()[
        0
    ]


def snapshot(store: Store) -> tuple[dict[str, tuple[int, str]], dict[str, int]]:
    return from_rows(store.db)[0], {
        m: v.version for m, v in published_rows.months(store.db).items()
    }


def test_the_summaries_follow_every_change(site):
    (site.sources / "000_8062ea63522097a7.txt").unlink()
    cfg = site.config()
    store = Store(cfg.paths.state)
    for i in range(12):
        write(site, i, f"2024-{i % 4 + 1:02d}-1{i % 9}", [["security"], [], ["culture"]][i % 3])
    build(cfg, store, NOW)
    assert sorted(published_rows.months(store.db)) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert published_rows.tag_lists(store.db) == ['["culture"]', '["security"]']

    steps = [
        lambda: write(site, 0, "2024-01-10", ["security"], "A corrected text."),  # correction
        lambda: write(site, 1, "2024-07-02", []),  # moves to a new month
        lambda: write(site, 2, "2024-03-12", ["economy", "security"]),  # new tags list
        lambda: write(site, 5, "2024-02-15", []),  # the last '["culture"]' but one goes
        lambda: write(site, 20, "2024-04-01", ["culture"]),  # a new release
        lambda: withdraw(cfg, store, id_of(store, 20), "by mistake", NOW),
        lambda: restore(cfg, store, id_of(store, 20), NOW),
        lambda: withdraw(
            cfg, store, id_of(store, 2), "by mistake", NOW
        ),  # its tags list goes with it
        lambda: store.db.execute("UPDATE entries SET announced = 1"),  # not shown: no move
    ]
    for step in steps:
        before, versions = snapshot(store)
        step()
        build(cfg, store, NOW)
        check(store, before, versions)
    assert '["economy", "security"]' not in published_rows.tag_lists(store.db)
    store.close()


def test_an_older_store_gets_its_summaries_from_its_rows(site):
    cfg = site.config()
    store = Store(cfg.paths.state)
    for i in range(6):
        write(site, i, f"2023-{i % 3 + 5:02d}-01", [["security"], []][i % 2])
    build(cfg, store, NOW)
    withdraw(cfg, store, id_of(store, 0), "by mistake", NOW)
    expected = from_rows(store.db)
    store.close()
    # back to the schema before migration 14, the rows kept
    db = sqlite3.connect(cfg.paths.state)
    for name in ("entries_counted_in", "entries_counted_out", "entries_shown_moved",
                 "entries_tags_moved"):  # fmt: skip
        db.execute(f"DROP TRIGGER {name}")
    db.execute("DROP TABLE entry_months")
    db.execute("DROP TABLE entry_tag_lists")
    # and the indexes as they were before migration 15
    for name in ("entries_live_by_language", "entries_by_url", "entries_by_identity"):
        db.execute(f"DROP INDEX {name}")
    for index in (
        "entries_by_date ON entries (published_ts DESC, id)",
        "entries_by_url ON entries (url_key)",
        "entries_by_identity ON entries (identity)",
        "entries_live_by_language ON entries (language, withdrawn_at) WHERE withdrawn_at IS NULL",
        "entries_by_language ON entries (language, published_ts DESC, id DESC)",
    ):
        db.execute(f"CREATE INDEX {index}")
    rewind(db, 13)
    db.commit()
    db.close()
    store = Store(cfg.paths.state)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    months = published_rows.months(store.db)
    assert {m: v.live for m, v in months.items()} == {m: n for m, (n, _) in expected[0].items()}
    assert published_rows.tag_lists(store.db) == expected[1]
    store.close()


def test_a_trigger_body_stays_one_statement():
    script = (
        "CREATE TABLE t (a);\nCREATE TRIGGER x AFTER INSERT ON t BEGIN\n"
        "  SELECT 1;\n  SELECT 2;\nEND;\n"
    )
    assert list(statements(script)) == [
        "CREATE TABLE t (a);",
        "CREATE TRIGGER x AFTER INSERT ON t BEGIN\n  SELECT 1;\n  SELECT 2;\nEND;",
    ]
    db = sqlite3.connect(":memory:")
    for statement in statements(MIGRATIONS[13]):  # 14: the triggers
        assert sqlite3.complete_statement(statement)
    db.close()
