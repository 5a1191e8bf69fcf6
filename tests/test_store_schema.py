"""A new store is made from one schema script (``store.fresh``) instead of replaying every
migration; an existing store is still upgraded migration by migration. Both must end with
the same schema: the same ``sqlite_master`` (every table, index and trigger and their SQL
text, in the same order) and the same ``PRAGMA user_version``. Real SQLite files. Root
pages are not compared: a migration that drops an index (15) leaves its page free for the
next one made, so an upgraded store numbers its pages differently from a new one.

``python tests/test_store_schema.py`` (``make schema``) writes ``store/fresh.py`` again
from the migrations: run it after appending a migration.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from pathlib import Path

import pytest

from scofeed.errors import StoreError
from scofeed.store import Store
from scofeed.store.fresh import FRESH, FRESH_VERSION
from scofeed.store.making import fresh_image, make_whole
from scofeed.store.schema import MIGRATIONS, statements

FRESH_MODULE = Path(__file__).resolve().parents[1] / "src" / "scofeed" / "store" / "fresh.py"
MASTER = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"


def schema_of(path: Path) -> tuple[list[tuple[object, ...]], int]:
    db = sqlite3.connect(path)
    try:
        return db.execute(MASTER).fetchall(), db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def by_hand(path: Path, upto: int) -> Path:
    """A store at version ``upto``, made as a store that predates ``store.fresh`` was:
    the first ``upto`` migrations, one transaction each."""
    db = sqlite3.connect(path, isolation_level=None)
    for version, migration in enumerate(MIGRATIONS[:upto]):
        db.execute("BEGIN")
        for statement in statements(migration):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {version + 1}")
        db.execute("COMMIT")
    db.close()
    return path


def migrated(path: Path, upto: int) -> Path:
    """A store made by the migrations alone: the first ``upto`` by hand, the rest by
    ``Store`` as it upgrades an existing store."""
    Store(by_hand(path, upto)).close()
    return path


def test_a_fresh_store_has_the_schema_the_migrations_make(tmp_path):
    fresh = tmp_path / "fresh.sqlite3"
    Store(fresh).close()
    master, version = schema_of(fresh)
    assert version == len(MIGRATIONS)
    assert {"entries", "files", "deliveries", "feed_files"} <= {r[1] for r in master}
    for upto in (1, FRESH_VERSION - 1):
        assert schema_of(migrated(tmp_path / f"migrated-{upto}.sqlite3", upto)) == (
            master,
            version,
        )


def test_the_schema_script_is_what_the_migrations_make(tmp_path):
    """store.fresh is current: written from MIGRATIONS as they stand (if this fails after
    a migration was appended, run ``make schema``)."""
    assert FRESH_VERSION == len(MIGRATIONS), "store/fresh.py is out of date: run `make schema`"
    assert FRESH == script_of(migrated(tmp_path / "m.sqlite3", len(MIGRATIONS)))


def test_the_image_a_new_store_is_written_from_is_the_schema_script(tmp_path):
    """store.fresh's image of a new store is the one FRESH makes (if this fails after a
    migration was appended, run ``make schema``): its schema, version, WAL mode and
    integrity; and a store made from it by ``make_whole`` is the same as one made by
    running FRESH."""
    path = tmp_path / "image.sqlite3"
    path.write_bytes(fresh_image())
    assert path.read_bytes()[18:20] == b"\2\2"  # WAL mode from its first bytes
    assert script_of(path) == FRESH
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == FRESH_VERSION
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0
    made = tmp_path / "made.sqlite3"
    make_whole(made)
    image_of(FRESH, FRESH_VERSION, tmp_path / "ran.sqlite3")
    assert schema_of(made) == schema_of(tmp_path / "ran.sqlite3")


def test_a_migration_appended_after_the_image_is_run_before_the_store_takes_its_name(
    tmp_path, monkeypatch
):
    """A migration appended and no ``make schema`` run since (the image one version
    behind): the new store still takes its name at the latest version."""
    import scofeed.store
    import scofeed.store.making

    extra = [*MIGRATIONS, "CREATE TABLE appended (x INTEGER)"]
    monkeypatch.setattr(scofeed.store.making, "MIGRATIONS", extra)
    monkeypatch.setattr(scofeed.store, "MIGRATIONS", extra)
    path = tmp_path / "s.sqlite3"
    make_whole(path)
    master, version = schema_of(path)
    assert version == len(extra)
    assert master[-1][1] == "appended"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_new_store_is_made_from_the_script_and_an_old_one_by_the_migrations(
    tmp_path, monkeypatch
):
    """With the first FRESH_VERSION migrations made unusable, a new store still opens (it
    never runs them) and a store at version 1 does not (it must)."""
    import scofeed.store

    old = by_hand(tmp_path / "old.sqlite3", 1)
    broken = ["SELECT no_such_column FROM no_such_table"] * FRESH_VERSION
    monkeypatch.setattr(scofeed.store, "MIGRATIONS", broken + MIGRATIONS[FRESH_VERSION:])
    Store(tmp_path / "new.sqlite3").close()
    with pytest.raises(StoreError, match="no such table"):
        Store(old)


def test_a_fresh_store_is_made_in_one_transaction_that_a_second_process_waits_for(tmp_path):
    """The schema script runs under the same exclusive lock as the migrations: a second
    opener finds the version set and adds nothing (also with an empty database at
    version 0, of 4 kB: a file of 0 bytes is refused, tests/test_state_file.py)."""
    path = tmp_path / "s.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")  # writes the header: a database, no table
    Store(path).close()
    Store(path).close()
    master, version = schema_of(path)
    assert version == len(MIGRATIONS)
    assert len({r[1] for r in master}) == len(master)


def script_of(path: Path) -> str:
    """The schema of the store at ``path`` as one script: the SQL text SQLite keeps of
    each table, index and trigger, in the order they were made (auto-indexes need none)."""
    db = sqlite3.connect(path)
    try:
        made = [sql for (sql,) in db.execute(f"SELECT sql FROM ({MASTER}) WHERE sql IS NOT NULL")]
    finally:
        db.close()
    assert not any("\\" in s or '"""' in s for s in made)
    return "".join(f"{s};\n\n" for s in made)


HEADER = '''"""The schema of a new state store, made in one transaction (``Store``), where replaying
every migration, one transaction each, took twice as long: the SQL text SQLite keeps
(``sqlite_master``) of a store that ``schema.MIGRATIONS[:FRESH_VERSION]`` made, in the
order it was made. A new store then takes the migrations past ``FRESH_VERSION`` as usual.

``FRESH_IMAGE`` is the file of a new store that ``FRESH`` made (zlib, then base64), in
WAL mode, which ``store.making`` writes in place of running ``FRESH`` (~8 ms of CPU a
store); a store found at version 0 (an empty database) still runs ``FRESH``.

Written by ``python tests/test_store_schema.py`` (``make schema``); never edited by hand.
tests/test_store_schema.py checks that it makes what the migrations make.
"""

from __future__ import annotations

'''


def image_of(script: str, version: int, path: Path) -> bytes:
    """The file of a new store that ``script`` makes at ``version``, as ``make_whole``
    made one before it wrote ``FRESH_IMAGE``: no journal while it is made, then WAL mode."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("BEGIN EXCLUSIVE")
        for statement in statements(script):
            db.execute(statement)
        db.execute(f"PRAGMA user_version = {version}")
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=WAL")
    return path.read_bytes()


def write_fresh_module() -> None:
    """Write store/fresh.py from the migrations as they stand."""
    import base64
    import tempfile
    import zlib

    with tempfile.TemporaryDirectory() as tmp:
        script = script_of(migrated(Path(tmp) / "m.sqlite3", len(MIGRATIONS)))
        image = image_of(script, len(MIGRATIONS), Path(tmp) / "fresh.sqlite3")
    lines = []
    for line in script.split("\n"):
        while len(line) > 99:  # a line continuation keeps the text and the source line short
            cut = line.rindex(" ", 0, 98)
            lines.append(line[:cut] + " \\")
            line = line[cut + 1 :]
        lines.append(line)
    body = "\n".join(lines)
    packed = base64.encodebytes(zlib.compress(image, 9)).decode("ascii")
    FRESH_MODULE.write_text(
        HEADER
        + f"FRESH_VERSION = {len(MIGRATIONS)}\n"
        + f'FRESH = """\\\n{body}"""\n'
        + f'FRESH_IMAGE = """\\\n{packed}"""\n',
        encoding="utf-8",
    )
    print(f"wrote {FRESH_MODULE} (version {len(MIGRATIONS)})", file=sys.stderr)


if __name__ == "__main__":
    write_fresh_module()
