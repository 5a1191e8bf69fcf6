"""`scofeed build --reread`: every file in sources/ read again by this version, as after
an upgrade whose reading of releases (dates, text cleanup) changed. Real folders, a real
SQLite file; the store's rows are set as an older version would have left them."""

from __future__ import annotations

import ast
import contextlib
import gc
import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from conftest import DATA, SEED, entry_of, free_port, rewind, run_cli, webhook_toml
from scofeed import reading
from scofeed.build import build as run_build
from scofeed.build import preview
from scofeed.normalise import text as text_module
from scofeed.store import entries as entry_rows
from scofeed.store.schema import MIGRATIONS

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
OTHER = "Exercise\n\nOn 3 May 2024, the exercise began.\n\nA second paragraph.\n"


def build(site, now=NOW, reread=False):
    return run_build(site.config(), site.store(), now, reread=reread)


def read_by_an_older_version(site, origin: str, lead: bool = False) -> str:
    """The entry of ``origin`` as an older scofeed read it: another title (a cleanup
    rule it did not have), and the content hash its input held then; with ``lead``,
    another first paragraph and fingerprint too. Its id."""
    entry = entry_of(site, origin)
    with site.store().transaction() as db:
        db.execute(
            "UPDATE entries SET title = title || ' | SCO', content_hash = 'older' WHERE id = ?",
            (entry.id,),
        )
        if lead:
            db.execute(
                "UPDATE entries SET summary = 'Press release. ' || summary, "
                "fingerprint = 'older' WHERE id = ?",
                (entry.id,),
            )
        db.execute(
            "UPDATE entry_origins SET content_hash = 'older' WHERE entry_id = ?", (entry.id,)
        )
    return entry.id


def test_a_reread_revises_what_this_version_reads_differently_and_nothing_else(site):
    (site.sources / "other.txt").write_text(OTHER, encoding="utf-8")
    site.write_config(webhook_toml("hook", f"http://127.0.0.1:{free_port()}/"))
    build(site)
    seed_id = read_by_an_older_version(site, SEED.name)
    other = entry_of(site, "other.txt")
    # an ordinary build reads nothing again: the files did not change
    assert (build(site, LATER).updated, entry_rows.get(site.store().db, seed_id).revision) == (0, 1)

    report = build(site, LATER, reread=True)

    assert (report.new, report.updated, report.duplicates, report.rejected) == (0, 1, 0, [])
    db = site.store().db
    seed = entry_rows.get(db, seed_id)
    assert (seed.revision, seed.updated) == (2, LATER)
    assert not seed.title.endswith(" | SCO")
    assert entry_rows.get(db, other.id) == other  # read the same: left as it was
    events = db.execute("SELECT entry_id, event FROM deliveries ORDER BY id").fetchall()
    assert [tuple(r) for r in events][-1:] == [(seed_id, "release.updated")]
    assert sum(1 for r in events if r[1] == "release.updated") == 1
    parsed = feedparser.parse((site.feeds / "atom.xml").read_bytes())
    assert {e.title for e in parsed.entries} == {seed.title, other.title}
    # read again once more: nothing left to revise
    assert build(site, LATER + timedelta(days=1), reread=True).updated == 0


@pytest.mark.parametrize("lead", [False, True], ids=["title", "title-and-lead"])
def test_a_copy_read_again_does_not_take_its_entry_over(site, lead):
    """The seed and a copy of it differing in layout and case: one entry, the seed's. Read
    again, the copy's new reading is not an edit of the entry: only its own file's is;
    and the seed read anew, title and first paragraph, is not a new release written
    under its name while the copy is the entry's (a file renamed is)."""
    seed = (site.sources / SEED.name).read_text(encoding="utf-8")
    (site.sources / "copy.txt").write_text(seed.replace("\n\n", "\n\n\n").upper(), encoding="utf-8")
    assert build(site).duplicates == 1
    entry_id = read_by_an_older_version(site, SEED.name, lead)

    report = build(site, LATER, reread=True)

    assert (report.entries, report.updated) == (1, 1)
    entry = entry_rows.get(site.store().db, entry_id)
    assert entry.revision == 2 and entry.origin == SEED.name
    assert not entry.title.isupper()


@pytest.mark.parametrize("reread", [False, True], ids=["build", "reread"])
def test_a_file_renamed_and_another_release_under_its_name_in_a_reread(site, reread):
    """The seed's file renamed, and another release written under its old name, before
    a reread: a file edited since the last build is not a new reading of its entry (the
    other release took the seed's entry over, and the seed's release left the feeds),
    it is what any build makes of it: the renamed file keeps the entry, the other
    release is a new one."""
    build(site)
    seed = entry_of(site, SEED.name)
    (site.sources / SEED.name).rename(site.sources / "renamed.txt")
    (site.sources / SEED.name).write_text(OTHER, encoding="utf-8")

    report = build(site, LATER, reread=reread)

    assert (report.entries, report.new, report.updated) == (2, 1, 0)
    db = site.store().db
    kept = entry_rows.get(db, seed.id)
    assert (kept.title, kept.content_hash, kept.revision) == (seed.title, seed.content_hash, 1)
    assert kept.origin == "renamed.txt"
    assert entry_of(site, SEED.name).title == "Exercise"


def test_a_file_an_older_version_read_otherwise_renamed_unchanged_keeps_its_entry(
    site, monkeypatch
):
    """After an upgrade, a file renamed (or moved) unchanged is read by the new version,
    and its title and first paragraph, read otherwise (``AT&amp;T;``: "AT" before
    2026-12-04), matched neither the entry's fingerprint, nor the id minted from it, nor
    its title or summary: it became a second release, pushed again to every subscriber.
    A new file with the very bytes of a file gone in the same scan is that file: its
    entry is revised as a reread would revise it."""
    text = "SCO forum on AT&amp;T; talks\n\nOn 3 February 2025 the SCO and AT&amp;T; met.\n"
    (site.sources / "b.txt").write_text(text, encoding="utf-8")
    with monkeypatch.context() as older:  # the reading before: every such name left out
        older.setattr(text_module, "_leftover", lambda m: " ")
        build(site)
    first = entry_of(site, "b.txt")
    assert first.title == "SCO forum on AT talks"
    (site.sources / "b.txt").rename(site.sources / "2025-02-03-talks.txt")
    report = build(site, LATER)
    assert (report.new, report.updated) == (0, 1)
    entry = entry_of(site, "2025-02-03-talks.txt")
    assert (entry.id, entry.revision, entry.title) == (first.id, 2, "SCO forum on AT&T; talks")


def test_a_file_rejected_for_its_size_is_read_again_after_the_limit_is_raised(site):
    big = site.sources / "big.txt"
    big.write_text(OTHER + "More words. " * 600, encoding="utf-8")
    site.write_config(limits="max_file_bytes = 5000")
    assert [r.origin for r in build(site).rejected] == ["big.txt"]
    assert [r.origin for r in build(site, LATER).rejected] == ["big.txt"]  # not read again
    site.write_config(limits="max_file_bytes = 100000")

    report = build(site, LATER)  # the limit takes it now: read again, no --reread needed

    assert (report.new, report.rejected) == (1, [])


def test_scofeed_build_reread_from_the_command_line(site):
    run_cli(site, "build").check_returncode()
    read_by_an_older_version(site, SEED.name)
    assert " updated=0 " in run_cli(site, "build").stdout
    done = run_cli(site, "build", "--reread")
    assert done.returncode == 0, done.stderr
    assert " new=0 updated=1 " in done.stdout


def test_a_reread_by_the_same_version_changes_nothing(site):
    """Every kind of file read again by the version that stored it: no entry revised, no
    delivery queued, no feed written."""
    data = DATA
    for folder, pattern in (("normalise", "*"), ("sco", "*.html")):
        for path in sorted((data / folder).glob(pattern)):
            if not path.name.startswith("listing"):  # news listings, refused: no release
                shutil.copy(path, site.sources / path.name)
    (site.sources / "list.json").write_text(
        json.dumps(
            [
                {"title": "Weekly digest", "date": "2025-03-03", "html": "<p>One.</p>"},
                {"title": "Weekly digest", "date": "2025-03-10", "html": "<p>Two.</p>"},
                {"id": "k-1", "title": "Named", "html": "<p>Three, named.</p>"},
            ]
        ),
        encoding="utf-8",
    )
    site.write_config(webhook_toml("hook", f"http://127.0.0.1:{free_port()}/"))
    first = build(site)
    assert first.new > 20 and first.rejected == []
    db = site.store().db
    queued = db.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    rows = db.execute("SELECT * FROM entries ORDER BY id").fetchall()

    report = build(site, LATER, reread=True)

    # copies of one release in two files: noted again, as at first
    assert (report.new, report.updated, report.duplicates) == (0, 0, first.duplicates)
    assert (report.rejected, report.written) == ([], [])
    assert db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == queued
    assert db.execute("SELECT * FROM entries ORDER BY id").fetchall() == rows


RU = (
    "Генеральный секретарь ШОС провёл встречу с Послом Беларуси\n\n"
    "12 марта 2025 года Генеральный секретарь ШОС провёл встречу с Послом Республики "
    "Беларусь в КНР.\n\nСтороны обсудили её повестку.\n"
)


def test_a_reread_of_a_store_made_before_folding_keeps_every_entry_and_id(site):
    """Two copies of one release, "ё" and "е", were two entries before scofeed folded
    them. Read again by this version each file is still its own entry's input: no entry
    is new or merged, no id changes, nothing is delivered; a third copy matches one."""
    (site.sources / "yo.txt").write_text(RU, encoding="utf-8")
    (site.sources / "ye.txt").write_text(RU.replace("ё", "е"), encoding="utf-8")
    build(site)
    store = site.store()
    with store.transaction() as db:  # as scofeed left them before folding: two entries
        db.execute("UPDATE entries SET folded = NULL")
        rewind(db, 33)
        entry_id = db.execute(
            "SELECT entry_id FROM entry_origins WHERE origin = 'ye.txt'"
        ).fetchone()[0]
        db.execute("DELETE FROM entry_origins WHERE origin = 'ye.txt'")
        # ye.txt's entry, as an older scofeed made it: minted from its own fingerprint
        db.execute(
            "INSERT INTO entries SELECT 'tag:test.example,2026:release/older', 'fp:older', "
            "url_key, 'older', title || ' ', summary, content_html, published, published_ts, "
            "updated, updated_ts, author, language, link, url, tags, 'older', revision, "
            "'ye.txt', date_source, first_seen + 1, event_date, withdrawn_at, "
            "withdrawn_reason, withdrawn_by, authority, announced, restored_at "
            "FROM entries WHERE id = ?",
            (entry_id,),
        )
        db.execute(
            "INSERT INTO entry_origins (origin, entry_id, content_hash, kind, seen) "
            "VALUES ('ye.txt', 'tag:test.example,2026:release/older', 'older', 'local', 0)"
        )
    store.close()
    ids = {o: entry_of(site, o).id for o in ("yo.txt", "ye.txt")}
    assert len(set(ids.values())) == 2

    report = build(site, LATER, reread=True)

    assert report.new == 0
    assert {o: entry_of(site, o).id for o in ids} == ids
    assert site.store().db.execute("SELECT count(*) FROM entries").fetchone()[0] == 3
    (site.sources / "copy.txt").write_text(RU.replace("ё", "е"), encoding="utf-8")
    report = build(site, LATER + timedelta(hours=1))
    assert (report.new, entry_of(site, "copy.txt").id in ids.values()) == (0, True)


def test_status_says_when_the_stored_files_were_read_by_another_version(site):
    """A build that reads every file (the first, a reread) notes which code read them;
    `scofeed status` names a store whose files another scofeed read, until a reread."""
    assert run_cli(site, "build").returncode == 0
    assert "reading:" not in run_cli(site, "status").stdout
    with site.store().transaction() as db:  # as an older scofeed left it
        db.execute("UPDATE meta SET value = 'older' WHERE key = 'reading'")
    (site.sources / "other.txt").write_text(OTHER, encoding="utf-8")
    assert " new=1 " in run_cli(site, "build").stdout  # reads one file: still older
    shown = run_cli(site, "status").stdout
    assert "reading: the stored files were read by another version of scofeed; " in shown
    assert "`scofeed build --reread` reads them again with this one" in shown
    with site.store().transaction() as db:  # a store from before it kept which: the same
        db.execute("DELETE FROM meta WHERE key = 'reading'")
    assert "reading:" in run_cli(site, "status").stdout

    assert " updated=0 " in run_cli(site, "build", "--reread").stdout
    assert "reading:" not in run_cli(site, "status").stdout


def test_a_dry_run_shows_what_the_build_would_change_and_changes_nothing(site):
    (site.sources / "other.txt").write_text(OTHER, encoding="utf-8")
    site.write_config(webhook_toml("hook", f"http://127.0.0.1:{free_port()}/"))
    assert run_cli(site, "build").returncode == 0
    seed_id = read_by_an_older_version(site, SEED.name)
    store = site.store()
    title = entry_rows.get(store.db, seed_id).title.removesuffix(" | SCO")
    store.close()
    gc.collect()  # the Stores opened above, closed: the last to close writes the store
    with contextlib.closing(sqlite3.connect(site.config().paths.state)) as db:
        rewind(db, len(MIGRATIONS) - 1)  # and the store of an older schema
        db.commit()
    (site.sources / "new.txt").write_text(
        "Summit\n\nOn 4 July 2025, the summit opened.\n\nMore.\n", encoding="utf-8"
    )
    state = site.config().paths.state
    stored, feeds = state.read_bytes(), tree(site)

    done = run_cli(site, "build", "--reread", "--dry-run")

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == (
        "dry run: entries=3 new=1 updated=1 rejected=0 deliveries=2; "
        "nothing was stored, published or sent"
    )
    assert sorted(line.split()[0] for line in lines[:-1]) == ["feeds:", "new", "store:", "updated"]
    assert f"updated {seed_id} {title!r} (title)" in lines
    assert (
        f"store: would be upgraded from schema {len(MIGRATIONS) - 1} to {len(MIGRATIONS)}, "
        "once, which only a backup undoes (scofeed backup)"
    ) in lines
    changed, total = map(int, next(x for x in lines if x.startswith("feeds: ")).split()[1:4:2])
    assert 0 < changed <= total
    assert state.read_bytes() == stored and tree(site) == feeds  # nor upgraded
    assert "store_migrated" not in done.stderr

    done = run_cli(site, "build", "--reread")  # does what the dry run said
    assert " new=1 updated=1 " in done.stdout and "store_migrated" in done.stderr
    again = run_cli(site, "build", "--dry-run").stdout.splitlines()  # nothing left to do
    assert again[0] == f"feeds: 0 of {len(tree(site))} files would be written anew, 0 removed"
    assert not any(line.startswith(("store:", "new ", "updated ")) for line in again)


RUSSIAN = "Заседание\n\n3 мая 2024 года состоялось заседание.\n\nВторой абзац.\n"


def test_a_dry_run_names_the_feed_files_the_build_would_remove(site):
    """A config change that drops feed files (no more archive pages, a format left out,
    a language's folder moved): the dry run said how many files would be written anew,
    and nothing of those the build would remove from feeds/."""
    site.write_config("[feeds]\nentries = 1\n")  # older entries only in archive pages
    (site.sources / "other.txt").write_text(OTHER, encoding="utf-8")
    (site.sources / "russian.txt").write_text(RUSSIAN, encoding="utf-8")
    assert run_cli(site, "build").returncode == 0
    assert (site.feeds / "ru/feed.json").is_file() and (site.feeds / "archive").is_dir()
    done = run_cli(site, "build", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert f"feeds: 0 of {len(tree(site))} files would be written anew, 0 removed" in (
        done.stdout.splitlines()
    )
    site.write_config(
        '[feeds]\nentries = 1\narchives = false\nformats = ["atom", "rss"]\n'
        '[feeds.languages.ru]\npath = "russian"\n'
    )
    feeds = tree(site)

    done = run_cli(site, "build", "--dry-run")

    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("feeds: "))
    assert "unpublish_failed" not in done.stderr  # its scratch folder never held them
    named = preview(site.config(), datetime.now(UTC)).feeds_removed  # all of them
    assert tree(site) == feeds  # nothing removed yet
    done = run_cli(site, "build")  # does what the dry run said
    assert done.returncode == 0, done.stderr
    gone = sorted(str(p.relative_to(site.feeds)) for p in feeds.keys() - tree(site).keys())
    assert named == gone
    assert {"archive/2024-05/atom.xml", "ru/atom.xml", "feed.json"} <= set(gone)
    assert len(gone) > 5
    removed = f"{len(gone)} removed: {', '.join(gone[:5])} and {len(gone) - 5} more"
    assert line.endswith(f" files would be written anew, {removed}"), line


def tree(site):
    return {p: p.read_bytes() for p in sorted(site.feeds.rglob("*")) if p.is_file()}


def beside(path: Path) -> dict[str, bytes]:
    """The files in the store's folder and what they hold."""
    return {p.name: p.read_bytes() for p in sorted(path.parent.iterdir())}


def test_a_dry_run_leaves_no_file_beside_the_store(site):
    """Its copy of the store was read through a read-only connection, which makes the
    store's -wal and -shm files when they are not there and, read-only, cannot remove
    them: an empty -wal and a -shm stayed beside a store that had none. With a
    connection open on it meanwhile (the daemon's), they are the daemon's and stay."""
    assert run_cli(site, "build").returncode == 0
    (site.sources / "new.txt").write_text(
        "Summit\n\nOn 4 July 2025, the summit opened.\n\nMore.\n", encoding="utf-8"
    )
    state = site.config().paths.state
    before = beside(state)
    assert not {f"{state.name}-wal", f"{state.name}-shm"} & set(before)

    done = run_cli(site, "build", "--dry-run")
    assert done.returncode == 0 and " new=1 " in done.stdout, done.stderr
    assert beside(state) == before

    with contextlib.closing(sqlite3.connect(state)) as held:  # another process's, open
        held.execute("SELECT count(*) FROM entries").fetchone()
        during = beside(state)
        done = run_cli(site, "build", "--dry-run")
        assert done.returncode == 0 and " new=1 " in done.stdout, done.stderr
        assert beside(state).keys() == during.keys()


# scofeed's modules the reading code uses that hold no reading of their own (data,
# errors, the store, configuration)
NO_READING = {"model", "errors", "frozen", "config", "store", "USER_AGENT"}


def test_the_reading_hash_covers_every_module_the_reading_code_imports():
    """``reading.version()`` hashes the code that decides what a release becomes; a module
    it imports and does not hash would change a release's reading unnoticed."""
    root = Path(reading.__file__).parent
    hashed = {p.removesuffix(".py") for p in reading.PARTS}
    files = [
        f
        for part in reading.PARTS
        for f in ((root / part).glob("*.py") if (root / part).is_dir() else [root / part])
    ]
    missing = set()
    for file in files:
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("scofeed")
            ):
                names = node.module.split(".")[1:] or [a.name for a in node.names]
                if node.module == "scofeed":
                    candidates = [a.name for a in node.names]
                else:
                    candidates = ["/".join(names[:2]), names[0]]
                if not any(c in hashed or c in NO_READING for c in candidates):
                    missing.add(node.module)
    assert not missing


def test_a_time_still_ahead_when_first_seen_is_not_a_correction_once_passed(site):
    """A stated time still to come when the release was first read ("15:00" read at
    08:00) dates it the moment it was seen; read again once that time had passed, it
    was that time, a revision nobody made, sent to every subscriber. The item of a list
    file beside another edited is read again so too."""
    ahead = "Ahead\n\nOn 4 December 2026, 15:00, the SCO Secretariat hosts a forum.\n"
    (site.sources / "f2.txt").write_text(ahead, encoding="utf-8")
    items = [
        {
            "id": "forum",
            "title": "A forum to come",
            "text": "On 4 December 2026, 15:00, the forum opens.",
        },
        {
            "id": "met",
            "title": "Another release",
            "date": "2026-12-03",
            "text": "The Secretariat met.",
        },
    ]
    (site.sources / "list.json").write_text(json.dumps(items), encoding="utf-8")
    first = datetime(2026, 12, 4, 0, 0, 30, tzinfo=UTC)  # 08:00:30 in Beijing
    build(site, first)
    seen = {o: entry_of(site, o).published for o in ("f2.txt", "list.json#forum")}
    assert all(p == first for p in seen.values())
    items[1]["text"] = "The Secretariat met again."
    (site.sources / "list.json").write_text(json.dumps(items), encoding="utf-8")
    report = build(site, first + timedelta(days=6), reread=True)
    assert report.updated == 1  # the item edited; not the one beside it, nor f2.txt
    for origin, published in seen.items():
        entry = entry_of(site, origin)
        assert entry.published == published and entry.revision == 1, origin


def test_a_file_an_older_version_refused_is_read_again_once(site, monkeypatch):
    """A release an older scofeed refused ("lang: en-US-x-sco") and this one takes
    stayed "still rejected ... the old reason" at every build until it was edited or
    reread. The rejected files are read again at the first build of new reading code,
    once: the builds after it leave them as they are."""
    from scofeed.sources import meta

    (site.sources / "x.md").write_text(
        "---\ntitle: SCO extension tag\ndate: 2025-07-01\nlang: en-US-x-sco\n---\nBody.\n",
        encoding="utf-8",
    )
    with monkeypatch.context() as m:  # as the older reading refused it
        m.setattr(meta, "language_tag", lambda _value: None)
        first = run_build(site.config(), site.store(), NOW)
    assert [r.origin for r in first.rejected] == ["x.md"]
    store = site.store()
    again = run_build(site.config(), store, NOW)  # the same code: still rejected
    assert [(r.origin, r.earlier) for r in again.rejected] == [("x.md", True)]
    with store.transaction() as db:  # read by another version's code
        db.execute("UPDATE meta SET value = 'older' WHERE key = ?", (reading.REFUSALS_META,))
    taken = run_build(site.config(), store, NOW)
    assert (taken.new, taken.rejected) == (1, [])
    assert entry_of(site, "x.md").language == "en-US"
    assert run_build(site.config(), store, NOW).files == taken.files  # nothing read twice


def test_a_reread_gives_an_entry_stored_without_an_event_date_its_date_quietly(site):
    """An entry stored before scofeed read event dates (its text states one: "On 3 May
    2024, the exercise began") gets it from a reread, stored and in the feeds, with
    nothing delivered: its text did not change. It stayed without one after the reread,
    and the next edit of the file sent the date out as a correction ("changed":
    ["event_date", ...]) though it never changed."""
    (site.sources / "other.txt").write_text(OTHER, encoding="utf-8")
    site.write_config(webhook_toml("hook", f"http://127.0.0.1:{free_port()}/"))
    build(site)
    other = entry_of(site, "other.txt")
    assert other.event_date is not None
    with site.store().transaction() as db:  # as an older scofeed stored it
        db.execute("UPDATE entries SET event_date = NULL WHERE id = ?", (other.id,))
    build(site, LATER)
    assert "_scofeed" not in json.dumps(_feed_item(site, other.id))
    queued = site.store().db.execute("SELECT count(*) FROM deliveries").fetchone()[0]

    report = build(site, LATER, reread=True)

    assert (report.new, report.updated) == (0, 0)
    stored = entry_rows.get(site.store().db, other.id)
    assert (stored.event_date, stored.revision) == (other.event_date, 1)
    assert site.store().db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == queued
    assert other.event_date.isoformat() in json.dumps(_feed_item(site, other.id))
    # the next edit names what it changed, not the date
    (site.sources / "other.txt").write_text(OTHER + "\nA third paragraph.\n", encoding="utf-8")
    build(site, LATER + timedelta(days=1))
    body = (
        site.store()
        .db.execute("SELECT body FROM deliveries WHERE entry_id = ? ORDER BY id DESC", (other.id,))
        .fetchone()[0]
    )
    assert "event_date" not in json.loads(body)["data"]["changed"]


def _feed_item(site, entry_id: str) -> dict:
    feed = json.loads((site.feeds / "feed.json").read_text(encoding="utf-8"))
    return next(item for item in feed["items"] if item["id"] == entry_id)
