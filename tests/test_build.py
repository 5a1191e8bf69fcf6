"""The build against real folders and a real SQLite file."""

from __future__ import annotations

import concurrent.futures.process
import contextlib
import gc
import json
import logging
import multiprocessing
import os
import random
import shutil
import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta

import feedparser
import pytest
from standardwebhooks import Webhook

from conftest import SECRET, entry_of, run_cli, shown_inputs, webhook_toml
from scofeed import shown
from scofeed.build import DEFAULT_TUNING, Rejection, Tuning
from scofeed.build import build as run_build
from scofeed.deliver import runner
from scofeed.ingest import ingest
from scofeed.model import Release
from scofeed.normalise import settings_from
from scofeed.pool import prepare_many
from scofeed.sources import files as scanner
from scofeed.sources import read
from scofeed.store import Store
from scofeed.store import entries as entry_rows
from scofeed.store import files as file_rows
from scofeed.store import matching as match_rows
from scofeed.store import published as published_rows

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


def build(site, now=NOW, *overrides, tuning=DEFAULT_TUNING):
    return run_build(site.config(*overrides), site.store(), now, tuning=tuning)


def release(title: str, day: str, body: str = "Something happened.") -> str:
    return f"{title}\n\nOn {day}, {body}\n\nA second paragraph.\n"


def tree(site, stat=False):
    """Every published file under feeds/, by path: its bytes (and mtime)."""
    return {
        str(p.relative_to(site.feeds)): (p.read_bytes(), p.stat().st_mtime_ns)
        if stat
        else p.read_bytes()
        for p in sorted(site.feeds.rglob("*"))
        if p.is_file()
    }


def feed_ids(site, name="atom.xml"):
    return [e.id for e in feedparser.parse((site.feeds / name).read_bytes()).entries]


def test_store_schema_wal_and_version(site):
    store = site.store()
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    from scofeed.store.schema import MIGRATIONS

    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_unchanged_rebuild_is_byte_identical_and_writes_nothing(site):
    first = build(site)
    assert first.new == 1 and sorted(first.written) == sorted(tree(site))
    assert {"atom.xml", "feed.json", "rss.xml", "en/atom.xml", "feeds.opml"} <= set(first.written)
    before = tree(site, stat=True)
    second = build(site, LATER)
    assert (second.new, second.updated, second.written) == (0, 0, [])
    assert before == tree(site, stat=True)


def test_rebuild_from_scratch_gives_the_same_bytes(site, tmp_path):
    build(site)
    before = tree(site)
    gc.collect()  # the first build's store closed (its -wal gone), as a process's at exit
    os.remove(site.config().paths.state)
    shutil.rmtree(site.feeds)
    build(site, LATER)
    assert before == tree(site)


def test_newest_first_and_limit(site):
    for i, day in enumerate(["1 March 2021", "2 March 2021", "3 March 2021"]):
        (site.sources / f"r{i}.txt").write_text(release(f"Release {i}", day), encoding="utf-8")
    report = build(site, NOW, "feeds.entries=3")
    assert report.entries == 4
    titles = [e.title for e in feedparser.parse((site.feeds / "rss.xml").read_bytes()).entries]
    assert titles == ["Release 2", "Release 1", "Release 0"]


def test_edit_updates_entry_in_place_and_bumps_revision(site):
    build(site)
    path = site.sources / "000_8062ea63522097a7.txt"
    original = path.read_text(encoding="utf-8")
    entry_id = feed_ids(site)[0]
    path.write_text(original.replace("warm and friendly", "warm, friendly"), encoding="utf-8")
    report = build(site, LATER)
    assert (report.new, report.updated) == (0, 1)
    e = entry_rows.get(site.store().db, entry_id)
    assert e.revision == 2 and e.updated == LATER
    # stated in the zone of its date (the site's), as "published" is, not in UTC
    assert e.updated.utcoffset() == e.published.utcoffset() == timedelta(hours=8)
    assert feed_ids(site) == [entry_id]
    parsed = feedparser.parse((site.feeds / "atom.xml").read_bytes())
    # Atom: LATER plus the entry's stable sub-second offset (no two entries share one value)
    stated = datetime.fromisoformat(parsed.feed.updated)
    assert stated.utcoffset() == timedelta(hours=8)
    assert timedelta(0) < stated - LATER < timedelta(seconds=1)
    assert parsed.feed.updated == parsed.entries[0].updated


def test_a_correction_after_the_clock_went_back_is_still_later(site):
    """A clock set back (by hand, a VM restored from a snapshot) dated the next
    correction before the one it revised, and the feed's date went back with it:
    readers comparing updated kept the older version."""
    build(site)
    path = site.sources / "000_8062ea63522097a7.txt"
    entry_id = feed_ids(site)[0]
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    build(site, LATER)
    path.write_text(path.read_text(encoding="utf-8") + "\nAnd another.\n", encoding="utf-8")
    build(site, NOW)  # a day back
    e = entry_rows.get(site.store().db, entry_id)
    assert e.revision == 3 and e.updated == LATER + timedelta(seconds=1)
    assert (
        feedparser.parse((site.feeds / "atom.xml").read_bytes()).feed.updated_parsed[:6]
        == (LATER + timedelta(seconds=1)).timetuple()[:6]
    )


def test_title_edit_keeps_the_id(site):
    build(site)
    entry_id = feed_ids(site)[0]
    path = site.sources / "000_8062ea63522097a7.txt"
    path.write_text("A new headline\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    build(site, LATER)
    assert feed_ids(site) == [entry_id]
    assert entry_rows.get(site.store().db, entry_id).title == "A new headline"


def test_rename_and_move_keep_the_id_and_announce_nothing(site):
    build(site)
    entry_id = feed_ids(site)[0]
    (site.sources / "archive").mkdir()
    os.rename(site.sources / "000_8062ea63522097a7.txt", site.sources / "archive" / "seed.txt")
    report = build(site, LATER)
    assert (report.new, report.updated, report.entries) == (0, 0, 1)
    assert feed_ids(site) == [entry_id]


def test_touch_without_change_reparses_nothing(site):
    build(site)
    path = site.sources / "000_8062ea63522097a7.txt"
    os.utime(path, ns=(1, 1))
    report = build(site, LATER)
    assert (report.new, report.updated, report.written) == (0, 0, [])


def test_bad_inputs_are_rejected_one_line_each_and_the_rest_published(site):
    s = site.sources
    (s / "empty.txt").write_bytes(b"")
    (s / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (s / "latin1.txt").write_bytes("Caf\xe9 title\n\nOn 3 June 2020, x".encode("latin-1"))
    (s / "notitle.txt").write_text("...\n\n---\n\n", encoding="utf-8")
    (s / "huge.txt").write_text("T\n\n" + "x" * 5000, encoding="utf-8")
    (s / "dangling.txt").symlink_to(s / "does-not-exist.txt")
    (s / "image.png").write_bytes(b"\x89PNG")
    # Notepad's "Unicode", PowerShell's ">": text, yet full of NUL bytes
    (s / "utf16.txt").write_bytes("\ufeffUTF-16 title\n\nOn 3 June 2020, x".encode("utf-16-le"))
    (s / "utf16be.md").write_bytes("\ufeff# T\n\nOn 3 June 2020, x".encode("utf-16-be"))
    # UTF-32's mark opens with UTF-16's (it was named so), and UTF-16 without one
    (s / "utf32.txt").write_bytes("\ufeffUTF-32 title\n\nOn 3 June 2020, x".encode("utf-32-le"))
    (s / "unmarked.txt").write_bytes("Unmarked title\n\nOn 3 June 2020, x".encode("utf-16-le"))
    (s / "unmarked32.txt").write_bytes("Unmarked title\n\nOn 3 June 2020".encode("utf-32-be"))
    (s / "out-nowhere.txt").symlink_to("/nonexistent/release.txt")  # out of sources/ too
    (s / "good.txt").write_text(release("Good one", "4 June 2020"), encoding="utf-8")
    report = build(site, NOW, "limits.max_file_bytes=4000")
    reasons = {r.origin: r.reason for r in report.rejected}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["binary.txt"].startswith("binary content")
    assert reasons["latin1.txt"] == "not UTF-8 (invalid byte 0xe9 at offset 3)"
    assert reasons["notitle.txt"] == "empty file" or "no title" in reasons["notitle.txt"]
    assert reasons["huge.txt"] == "too large (5003 bytes, limit 4000)"
    nothing = "unreadable (a link to nothing (its target is not there))"
    assert reasons["dangling.txt"] == reasons["out-nowhere.txt"] == nothing
    assert reasons["image.png"] == "unknown file type '.png'"
    utf16 = "UTF-16 text (byte order mark {}), not UTF-8: save it as UTF-8"
    assert reasons["utf16.txt"] == utf16.format("FF FE")
    assert reasons["utf16be.md"] == utf16.format("FE FF")
    assert reasons["utf32.txt"] == utf16.format("FF FE 00 00").replace("UTF-16", "UTF-32")
    assert (
        reasons["unmarked.txt"] == "UTF-16 text (no byte order mark), not UTF-8: save it as UTF-8"
    )
    assert reasons["unmarked32.txt"] == reasons["unmarked.txt"].replace("UTF-16", "UTF-32")
    assert report.new == 2 and report.entries == 2
    rows = {r["origin"]: r["reason"] for r in site.store().db.execute("SELECT * FROM rejects")}
    assert rows == reasons
    again = build(site, LATER, "limits.max_file_bytes=4000")
    assert {r.origin for r in again.rejected} == set(reasons)
    # the limit raised: the file refused for its size is read again, unchanged as it is
    # (it was "still rejected ... limit 4000" at every build, whatever the limit)
    raised = build(site, LATER, "limits.max_file_bytes=6000")
    assert raised.new == 1 and "huge.txt" not in {r.origin for r in raised.rejected}


def test_a_link_that_leads_nowhere_is_rejected_once_and_read_once_it_leads_somewhere(site):
    """Like any rejected file, it is not rejected (and logged) again at every scan."""
    (site.sources / "link.txt").symlink_to(site.sources / "target.txt")
    first = build(site)
    assert first.fresh_rejects == 1 and first.rejected[0].origin == "link.txt"
    again = build(site, LATER)
    assert again.fresh_rejects == 0 and [r.origin for r in again.rejected] == ["link.txt"]
    (site.sources / "target.txt").write_text(release("Linked one", "4 June 2020"), "utf-8")
    found = build(site, LATER)
    assert found.new == 1 and found.rejected == []


def test_a_file_deleted_while_the_build_reads_is_not_a_rejection(site):
    """A new file deleted after the scan listed it and before it was read is not
    quarantined as unreadable: the build exited 1 and listed it until the next scan."""
    s = site.sources
    (s / "b.txt").write_text(release("Second one", "4 June 2020"), encoding="utf-8")
    (s / "d.txt").write_text(release("Fourth one", "6 June 2020"), encoding="utf-8")

    def delete_the_next(done: int, _total: int) -> None:
        if done == 2:  # the seed and b.txt are read and prepared; d.txt is not read yet
            (s / "d.txt").unlink()

    one_by_one = Tuning(pool_min_files=10**9, read_ahead_bytes=1)
    report = run_build(
        site.config(), site.store(), NOW, progress=delete_the_next, tuning=one_by_one
    )
    assert report.rejected == [] and report.new == 2  # the seed and b.txt
    assert "d.txt" not in file_rows.Index(site.store().db).stamps
    again = build(site, LATER)
    assert again.rejected == [] and (again.new, again.updated) == (0, 0)


def test_a_known_file_moved_while_the_scan_lists_is_gone_not_unreadable(site, monkeypatch):
    """A file renamed after the scan listed its folder and before the scan looked at it
    (a `git checkout` renaming hundreds) was "rejected ...: unreadable (No such file or
    directory)", and the build exited 1; it is gone, as a file deleted then is, and its
    new name is read as any."""
    s = site.sources
    (s / "b.txt").write_text(release("Second one", "4 June 2020"), encoding="utf-8")
    assert build(site).new == 2
    (s / "b.txt").write_text(release("Second one", "4 June 2020") + "More.\n", encoding="utf-8")
    listing = scanner.walk

    def moving_b(root, unreadable):
        for rel, entry, error in listing(root, unreadable):
            if rel == "b.txt":  # listed; moved before the scan stats it
                (s / "b.txt").rename(s / "c.txt")
            yield rel, entry, error

    monkeypatch.setattr(scanner, "walk", moving_b)
    report = build(site, LATER)
    assert report.rejected == []
    assert "b.txt" not in file_rows.Index(site.store().db).stamps
    monkeypatch.setattr(scanner, "walk", listing)
    again = build(site, LATER)
    assert again.rejected == [] and again.new == 0  # c.txt: b.txt's release, edited


def test_the_names_files_left_under_are_kept_only_while_an_entry_may_need_them(site):
    """Every name deleted or renamed out of sources/ stayed listed as left for good, and
    every scan that found a change read the list. A name is kept while it is its
    entry's input (the entry may yet go on under a file put back or renamed in); one
    whose entry went on under another name is dropped."""
    s = site.sources
    (s / "b.txt").write_text(release("Second one", "4 June 2020"), encoding="utf-8")
    build(site)
    (s / "b.txt").rename(s / "c.txt")
    build(site, LATER)
    (s / "c.txt").rename(s / "d.txt")
    (s / "scratch.txt").write_text("", encoding="utf-8")  # rejected: no entry's input
    build(site, LATER)
    (s / "scratch.txt").unlink()
    (s / "d.txt").unlink()
    build(site, LATER)
    left = [r[0] for r in site.store().db.execute("SELECT path FROM files_left")]
    assert left == ["d.txt"]  # its entry, still published, was last read from it
    (s / "e.txt").write_text(release("Second one", "4 June 2020"), encoding="utf-8")
    report = build(site, LATER)
    assert (report.new, report.rejected) == (0, [])  # d.txt's release, come back


def test_file_turning_invalid_keeps_its_last_good_version(site):
    build(site)
    entry_id = feed_ids(site)[0]
    before = (site.feeds / "atom.xml").read_bytes()
    (site.sources / "000_8062ea63522097a7.txt").write_bytes(b"\xff\xfe broken")
    report = build(site, LATER)
    assert [(r.origin, r.kept) for r in report.rejected] == [("000_8062ea63522097a7.txt", entry_id)]
    assert (site.feeds / "atom.xml").read_bytes() == before


def test_a_rejected_file_is_reported_while_it_stays_bad_and_only_then(site):
    (site.sources / "empty.txt").write_bytes(b"")
    (site.sources / "gone.txt").write_bytes(b"")
    assert sorted(r.origin for r in build(site).rejected) == ["empty.txt", "gone.txt"]
    os.utime(site.sources / "empty.txt", ns=(1, 1))  # touched: same bytes, still bad
    (site.sources / "gone.txt").unlink()
    report = build(site, LATER)
    assert [(r.origin, r.reason) for r in report.rejected] == [("empty.txt", "empty file")]
    (site.sources / "empty.txt").write_bytes(b"\x00")  # bad another way: reported once
    assert [r.reason[:6] for r in build(site, LATER).rejected] == ["binary"]


def test_fixing_a_rejected_file_clears_it(site):
    bad = site.sources / "later.txt"
    bad.write_bytes(b"")
    assert len(build(site).rejected) == 1
    bad.write_text(release("Fixed", "5 June 2020"), encoding="utf-8")
    report = build(site, LATER)
    assert report.rejected == [] and report.new == 1
    assert site.store().db.execute("SELECT COUNT(*) FROM rejects").fetchone()[0] == 0


def test_duplicate_release_in_two_files_is_one_entry(site):
    seed = (site.sources / "000_8062ea63522097a7.txt").read_text(encoding="utf-8")
    (site.sources / "copy.txt").write_text(seed.replace("\n\n", "\n\n\n").upper(), encoding="utf-8")
    report = build(site)
    assert report.entries == 1 and report.duplicates == 1


def _dated_by_file(site, text: str, when: datetime) -> None:
    path = site.sources / "undated.txt"
    path.write_text(text, encoding="utf-8")
    stamp = int(when.timestamp()) * 10**9 + 123_456_789  # a file time is rarely whole
    os.utime(path, ns=(stamp, stamp))


def _undated_entry(site):
    (entry_id,) = (
        site.store()
        .db.execute("SELECT entry_id FROM entry_origins WHERE origin = 'undated.txt'")
        .fetchone()
    )
    return entry_rows.get(site.store().db, entry_id)


def test_an_edit_of_a_release_dated_by_its_file_keeps_its_date(site):
    """A release stating no date is dated by its file, in whole seconds; editing the file
    moves the file's time, but the release was published when it first came: the edit
    is a correction (updated moves), not a new publication date."""
    first = NOW - timedelta(hours=5)
    _dated_by_file(site, "Ministers met\n\nThe ministers met and agreed on trade.\n", first)
    build(site)
    entry = _undated_entry(site)
    assert entry.date_source == "mtime"
    assert entry.published == first.replace(microsecond=0)
    _dated_by_file(
        site, "Ministers met\n\nThe ministers met and agreed on trade and energy.\n", NOW
    )
    assert build(site, LATER + timedelta(microseconds=250_000)).updated == 1
    edited = _undated_entry(site)
    assert (edited.revision, edited.published, edited.date_source) == (2, entry.published, "mtime")
    assert "energy" in edited.content_html and edited.updated == LATER  # when seen, to the second
    # a date the edit states is the release's own date, corrected: it moves
    _dated_by_file(site, "Ministers met\n\nOn 3 March 2026, the ministers met.\n", LATER)
    build(site, LATER + timedelta(hours=1))
    assert _undated_entry(site).published.date() == datetime(2026, 3, 3).date()


@pytest.mark.parametrize("again", ["reread", "renamed", "put back"])
def test_a_date_to_come_passed_over_is_passed_over_again_while_the_text_is_the_same(site, again):
    """A file of April announcing "will be held on 20 June 2025" is dated by its time
    (the date is after it). Read again once its time is later than that date (touched
    and reread, copied without its time and renamed, deleted and put back), the same
    text was dated 20 June and sent out as corrected. Found by comparing builds."""
    text = (
        "SCO ministers to meet in Tianjin\n\nThe meeting of the Council of Foreign "
        "Ministers will be held on 20 June 2025 in Tianjin.\n"
    )
    april = datetime(2025, 4, 1, 12, tzinfo=UTC)
    _dated_by_file(site, text, april)
    build(site, april + timedelta(minutes=5))
    entry = _undated_entry(site)
    assert (entry.date_source, entry.published) == ("mtime", april)
    path = site.sources / "undated.txt"
    if again == "reread":
        _dated_by_file(site, text, NOW)
        report = run_build(site.config(), site.store(), LATER, reread=True)
    elif again == "renamed":
        _dated_by_file(site, text, NOW)
        path.rename(site.sources / "renamed.txt")
        report = build(site, LATER)
    else:
        path.unlink()
        build(site, LATER)
        _dated_by_file(site, text, NOW)
        report = build(site, LATER + timedelta(hours=1))
    assert report.updated == 0
    (published, source, revision) = (
        site.store()
        .db.execute(
            "SELECT published, date_source, revision FROM entries WHERE id = ?", (entry.id,)
        )
        .fetchone()
    )
    assert (datetime.fromisoformat(published), source, revision) == (april, "mtime", 1)
    if again == "renamed":
        (site.sources / "renamed.txt").unlink()
    # an edit that reads otherwise too ("was held") keeps it: the day was stated before
    _dated_by_file(site, text.replace("will be held", "was held"), NOW + timedelta(days=3))
    assert build(site, LATER + timedelta(days=3)).updated == 1
    assert _undated_entry(site).published == april
    # a day the text did not state is the release's own date, corrected: it moves
    _dated_by_file(site, text.replace("20 June", "21 June"), NOW + timedelta(days=4))
    assert build(site, LATER + timedelta(days=4)).updated == 1
    assert _undated_entry(site).published.date() == datetime(2025, 6, 21).date()


def test_an_edit_stating_a_day_before_the_files_date_moves_it(site):
    """A release dated by its file (10 April) whose eighth paragraph says registration
    "closed on 3 April 2025": an edit opening with "On 3 April 2025, ..." states its
    date, which moves it, though the stored text named that day (only a day passed
    over for being after the file's time stays passed over)."""
    body = "".join(f"Paragraph {n} says nothing of when.\n\n" for n in range(7))
    text = f"SCO registration results\n\n{body}Registration closed on 3 April 2025.\n"
    april = datetime(2025, 4, 10, 9, tzinfo=UTC)
    _dated_by_file(site, text, april)
    build(site, april + timedelta(minutes=5))
    assert _undated_entry(site).published == april
    edited = text.replace("Paragraph 0", "On 3 April 2025, the Secretariat announced it.", 1)
    _dated_by_file(site, edited, NOW)
    assert build(site, LATER).updated == 1
    assert _undated_entry(site).published.date() == datetime(2025, 4, 3).date()


def test_a_file_renamed_unchanged_does_not_undo_a_correction_made_through_its_copy(site):
    """a.txt copied to b.txt, b.txt edited (a correction of the entry), then in one
    build b.txt deleted and a.txt renamed: the renamed file, holding what a.txt held
    when last read, took the entry back to its old text and sent that out as a
    correction. It is read again, not edited."""
    text = release("Plan adopted", "3 March 2025", "the plan runs to 2028.")
    (site.sources / "a.txt").write_text(text, encoding="utf-8")
    build(site)
    (site.sources / "b.txt").write_text(text, encoding="utf-8")
    build(site, LATER)
    (site.sources / "b.txt").write_text(text.replace("2028", "2030"), encoding="utf-8")
    assert build(site, LATER + timedelta(hours=1)).updated == 1
    (site.sources / "b.txt").unlink()
    (site.sources / "a.txt").rename(site.sources / "c.txt")
    report = build(site, LATER + timedelta(hours=2))
    assert (report.new, report.updated) == (0, 0)
    entry = entry_of(site, "c.txt")
    assert "2030" in entry.content_html and entry.revision == 2


@pytest.mark.parametrize("when", ["On Thursday", "Yesterday"])
def test_a_release_dated_by_a_relative_date_keeps_its_dates_read_again_or_edited(site, when):
    """ "On Thursday the forum met" is read by the file's date alone: a copy put back
    with a new file time and read again by `build --reread`, or an edit days later,
    moved the release (and its event) by as far and sent it out as corrected. The date
    and event date it was first read with are kept, as for a release dated by its file.
    Found by fuzzing."""
    text = f"SCO forum meets in Astana\n\n{when} the forum met in Astana with delegates.\n"
    first = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # a Wednesday
    _dated_by_file(site, text, first)
    build(site)
    entry = _undated_entry(site)
    day = {"On Thursday": 4, "Yesterday": 9}[when]
    assert (entry.published.date(), entry.event_date) == ((d := date(2026, 6, day)), d)
    _dated_by_file(site, text, NOW - timedelta(days=1))  # the same text, a new file time
    report = run_build(site.config(), site.store(), NOW, tuning=DEFAULT_TUNING, reread=True)
    assert report.updated == 0
    _dated_by_file(site, text.replace("with", "with many"), first + timedelta(days=10))
    assert build(site, LATER).updated == 1
    edited = _undated_entry(site)
    assert (edited.revision, edited.published, edited.event_date) == (
        2, entry.published, entry.event_date,
    )  # fmt: skip


def test_a_relative_date_an_edit_adds_gives_no_event_after_the_publication(site):
    """A release dated by its file, with no event date, edited ten days on to open
    "Yesterday, ...": it kept its publication date, and took an event date nine days
    after it (review)."""
    text = "SCO Secretary-General meets students\n\nThe Secretary-General met students.\n"
    first = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
    _dated_by_file(site, text, first)
    build(site)
    entry = _undated_entry(site)
    assert entry.event_date is None
    _dated_by_file(site, text.replace("The Secretary", "Yesterday, the Secretary"),
                   first + timedelta(days=10))  # fmt: skip
    assert build(site, LATER).updated == 1
    edited = _undated_entry(site)
    assert (edited.published, edited.event_date) == (entry.published, None)


def test_a_new_store_beside_feeds_published_before_is_said(site, caplog):
    """A store lost (or its disk not mounted) beside the feeds it published: the next
    build took every release for new and pushed it to every subscriber again, without
    a word. It warns; a new site's first build does not."""
    with caplog.at_level(logging.WARNING, logger="scofeed"):
        build(site)
        assert not caplog.records
        state = site.config().paths.state
        for leftover in state.parent.glob(state.name + "*"):
            leftover.unlink()
        assert build(site, LATER).new == 1
    (said,) = [r.getMessage() for r in caplog.records]
    assert said.startswith(f"store_new_beside_feeds state={state} feeds={site.feeds} shown=1: ")
    assert "(atom.xml, rss.xml, feed.json)" in said
    # the dry run says what the build would: the same line, of the real feeds folder
    for leftover in state.parent.glob(state.name + "*"):
        leftover.unlink()
    dry = run_cli(site, "build", "--dry-run")
    assert dry.returncode == 0 and f"store_new_beside_feeds state={state} " in dry.stderr
    # a poll's ingest (a site of remote sources alone) says it too, before it stores
    caplog.clear()
    [release] = read("page.txt", ".txt", b"SCO news\n\nOn 3 June 2025, news.\n", NOW, 10**6)
    with caplog.at_level(logging.WARNING, logger="scofeed"):
        ingest(site.config(), site.store(), [release], LATER)
    assert [r.getMessage().split(" ", 1)[0] for r in caplog.records] == ["store_new_beside_feeds"]


@pytest.mark.parametrize("entries", [50, 2])
def test_a_new_store_beside_feeds_pushes_again_only_what_they_do_not_show(site, receivers, entries):
    """A store lost beside the feeds it published: the next build took every release
    for new and sent each to every webhook again. Those the feeds show (in the feeds,
    or with ``entries`` = 2 only in their archive pages) are held back; a release new
    since goes out, and a correction of one held back too."""
    hook = receivers([200])
    text = site.config_path.read_text(encoding="utf-8") + webhook_toml("hub", hook.url)
    site.config_path.write_text(text, encoding="utf-8")
    setting = f"feeds.entries={entries}"
    for i in range(4):
        (site.sources / f"r{i}.txt").write_text(release(f"Release {i}", f"{i + 1} May 2021"))
    assert build(site, NOW, setting).new == 5
    cfg = site.config(setting)
    assert runner.run_due(cfg, site.store(), now=NOW, rng=random.Random(7)).delivered == 5
    if entries == 2:
        assert len(feedparser.parse((site.feeds / "atom.xml").read_bytes()).entries) == 2
    state = cfg.paths.state
    for leftover in state.parent.glob(state.name + "*"):
        leftover.unlink()
    (site.sources / "new.txt").write_text(release("Release new", "1 June 2021"))
    assert build(site, LATER, setting).new == 6
    store = site.store()
    assert runner.run_due(cfg, store, now=LATER, rng=random.Random(7)).delivered == 1
    assert len(json.loads(store.get_meta("shown_before") or "[]")) == 5
    got = [Webhook(SECRET).verify(r.body, r.headers) for r in hook.received[5:]]
    assert [(d["type"], d["data"]["title"]) for d in got] == [("release.published", "Release new")]
    # the release the old feeds showed, corrected since: its subscribers get the correction
    (site.sources / "r1.txt").write_text(release("Release 1", "2 May 2021", "Corrected."))
    assert build(site, LATER + timedelta(hours=1), setting).updated == 1
    runner.run_due(cfg, store, now=LATER + timedelta(hours=1), rng=random.Random(7))
    got = [Webhook(SECRET).verify(r.body, r.headers) for r in hook.received[6:]]
    assert [(d["type"], d["data"]["title"]) for d in got] == [("release.updated", "Release 1")]


def test_a_feed_file_that_cannot_be_read_for_its_ids_is_named_and_the_rest_are_read(site, caplog):
    build(site)
    (site.feeds / "archive").mkdir()
    (site.feeds / "archive" / "cut.xml").write_bytes(b"<feed><entry><id>x")
    (site.feeds / "odd.json").write_bytes(b"[1, 2]")
    with site.store().transaction() as db, caplog.at_level(logging.WARNING, logger="scofeed"):
        assert shown.note(db, site.feeds) == 1  # the seed's id, in every feed alike
    said = sorted(r.getMessage().split(" ", 2)[1] for r in caplog.records)
    assert said == [f"path={site.feeds / 'archive' / 'cut.xml'}", f"path={site.feeds / 'odd.json'}"]


def test_a_first_build_stopped_before_it_noted_its_files_is_no_new_store(site, caplog):
    """A first build killed after it wrote the feeds but before it noted them in the
    store: the next build said the store was new and told the operator to restore a
    backup over a store holding every release. Found by killing builds at random."""
    build(site)
    with site.store().transaction() as db:
        db.execute("DELETE FROM feed_files")  # as the kill left it
    with caplog.at_level(logging.WARNING, logger="scofeed"):
        report = build(site, LATER)
    assert report.new == 0 and not caplog.records


def test_an_edited_list_file_revises_only_the_item_edited_when_none_is_dated(site):
    """Items stating no date are dated by their file: an edit of one moves the file's
    time for all, and the others, the same but for it, are not corrections."""
    path = site.sources / "list.json"
    items = [
        {"title": "First undated item", "text": "The ministers agreed on trade."},
        {"title": "Second undated item", "text": "The delegations agreed on energy."},
    ]
    path.write_text(json.dumps(items), encoding="utf-8")
    os.utime(path, (NOW.timestamp() - 3600,) * 2)
    assert build(site).new == 3  # and the seed
    items[0]["text"] = "The ministers agreed on trade and transport."
    path.write_text(json.dumps(items), encoding="utf-8")
    report = build(site, LATER)
    assert (report.updated, report.new) == (1, 0)
    stored = {e.title: e for e in published_rows.latest(site.store().db)}
    assert [stored[t["title"]].revision for t in items] == [2, 1]
    assert {stored[t["title"]].published for t in items} == {NOW - timedelta(hours=1)}


def test_state_is_plain_sqlite(site):
    build(site)
    db = sqlite3.connect(site.config().paths.state)
    assert db.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == 1
    assert db.execute("SELECT revision FROM entries").fetchone()[0] == 1


def test_parallel_preparation_gives_the_same_feeds(site, tmp_path):
    for i in range(30):
        day = f"{i % 28 + 1} March 2021"
        (site.sources / f"r{i:02d}.txt").write_text(release(f"Release {i}", day), encoding="utf-8")
    (site.sources / "bad.txt").write_bytes(b"")
    sequential = build(site, tuning=Tuning(pool_min_files=10**9))
    before = tree(site)
    gc.collect()  # the first build's store closed (its -wal gone), as a process's at exit
    os.remove(site.config().paths.state)
    shutil.rmtree(site.feeds)
    parallel = build(site, tuning=Tuning(pool_min_files=1, pool_chunk=7))
    assert tree(site) == before
    assert (parallel.new, len(parallel.rejected)) == (sequential.new, 1) == (31, 1)


def test_reading_ahead_in_small_or_large_batches_prepares_the_same(site):
    for i in range(9):
        day = f"{i + 1} April 2021"
        (site.sources / f"r{i}.txt").write_text(release(f"Release {i}", day), encoding="utf-8")
    (site.sources / "bad.txt").write_bytes(b"")
    items = scanner.scan(site.sources, file_rows.Index(site.store().db), 10**6).changed
    settings = settings_from(site.config())
    whole = list(prepare_many(items, settings, 10**6, NOW))
    # a batch every file or two
    assert list(prepare_many(items, settings, 10**6, NOW, read_ahead=100)) == whole
    assert len(whole) == 11 and sum(isinstance(o, Rejection) for _, o in whole) == 1


def _tables(site):
    db = sqlite3.connect(site.config().paths.state)
    queries = {  # all but what the wall clock sets (file times, reject times)
        "entries": "SELECT * FROM entries",
        "origins": "SELECT * FROM entry_origins",
        "files": "SELECT path, size, sha256, status, reason FROM files",
        "rejects": "SELECT origin, reason, kept FROM rejects",
    }
    return {name: sorted(db.execute(sql).fetchall()) for name, sql in queries.items()}


def _batch(site, edit: bool) -> None:
    """Releases that match one another every way: same text in two files (fingerprint),
    the same URL or id in JSON files, edits of stored releases, a bad file."""
    for i in range(12):
        body = "Edited." if edit and i % 3 == 0 else "Something happened."
        text = release(f"Release {i}", f"{i + 1} March 2021", body)
        (site.sources / f"r{i:02d}.txt").write_text(text, encoding="utf-8")
        if i % 4 == 0:
            (site.sources / f"copy{i:02d}.txt").write_text(text, encoding="utf-8")
    for i in range(4):
        doc = (
            f'{{"title": "By URL {i}", "date": "2021-04-0{i + 1}", '
            f'"url": "https://eng.sectsco.org/news/{i}?utm_source=x", '
            f'"id": "{"k" if i % 2 else ""}{i if edit else 0}", "text": "Text {i} {edit}."}}'
        )
        (site.sources / f"u{i}.json").write_text(doc, encoding="utf-8")
    same = release("Release 5", "6 March 2021").split("\n\n", 1)[1]  # r05 by fingerprint
    doc = {"title": "Release 5", "url": "https://eng.sectsco.org/dup", "text": same}
    (site.sources / "v.json").write_text(json.dumps(doc), encoding="utf-8")
    doc = {"title": "Same page", "url": "https://eng.sectsco.org/news/3", "id": "w", "text": "W."}
    doc["date"] = "2021-05-01"
    (site.sources / "w.json").write_text(json.dumps(doc), encoding="utf-8")  # u3 by URL
    for name, path in (("x", "20210502/10001"), ("y", "news/20210502/-Slug-10001")):
        doc = {"title": f"Article {name}", "url": f"https://eng.sectsco.org/{path}.html"}
        doc["text"] = f"{name} {edit}."  # y is x, by the day and number of its address
        (site.sources / f"{name}.json").write_text(json.dumps(doc), encoding="utf-8")
    (site.sources / "bad.txt").write_bytes(b"\x00\x01" if edit else b"")


def test_a_scan_lists_what_changed_in_name_order_whatever_the_folder_order(site):
    """The walk takes each folder as the file system lists it (hash order on most);
    what the scan found comes back as a sorted walk gives it: a folder's files before
    its subfolders', each in name order. Which of two copies of a release is kept as
    its origin follows this order, so it must not move with the file system."""
    names = [f"{c}{i}.txt" for i in range(12) for c in "qcxa"]
    for sub in ("", "m/", "b/", "b/z/", "b/a/"):
        (site.sources / sub).mkdir(parents=True, exist_ok=True)
        for name in names:
            (site.sources / sub / name).write_text(release(name, "2 May 2021"), "utf-8")
    (site.sources / "b" / "t.md~").write_text("an editor's backup", "utf-8")  # left out
    changed = scanner.scan(site.sources, file_rows.Index(site.store().db), 10**6).changed
    seed = sorted(p.name for p in site.sources.glob("*.txt") if p.name not in names)
    expected = [*sorted(names + seed)]
    for sub in ("b/", "b/a/", "b/z/", "m/"):
        expected += [sub + name for name in sorted(names)]
    assert [c.rel for c in changed] == expected
    assert all(c.path == str(site.sources / c.rel) for c in changed)
    assert build(site).new == len(names) + len(seed)
    # each release is in five folders: its entry comes from the first copy the scan named
    origins = {r[0] for r in site.store().db.execute("SELECT origin FROM entries")}
    assert origins == set(names + seed)


def test_skipping_lookups_for_unknown_keys_stores_the_same(site):
    results = []
    for threshold in (10**9, 1):
        tuning = Tuning(known_min_files=threshold)
        for p in site.sources.iterdir():
            if p.name != "000_8062ea63522097a7.txt":
                p.unlink()
        state = site.config().paths.state
        if state.exists():
            gc.collect()  # the stores before closed (their -wal gone), as at a process's exit
            os.remove(state)
        _batch(site, edit=False)
        first = build(site, tuning=tuning)
        _batch(site, edit=True)
        os.utime(site.sources / "r01.txt", (1, 1))  # touched, same bytes
        second = build(site, LATER, tuning=tuning)
        counts = [(r.new, r.updated, r.duplicates, len(r.rejected)) for r in (first, second)]
        results.append((counts, _tables(site)))
    assert results[0] == results[1]
    counts, tables = results[0]
    # copies and shared ids were matched to stored entries by lookup, not inserted anew
    assert len(tables["entries"]) < len(tables["origins"])
    assert counts[0][1] >= 1
    assert counts[1][1] >= 4  # and edits updated their entries
    articles = [r for r in tables["entries"] if "10001" in str(r)]
    assert len(articles) == 1


def test_a_settings_change_rerenders_even_when_no_release_changed(site):
    build(site)
    report = build(site, LATER, "site.title='A new name'")
    assert {"atom.xml", "feed.json", "rss.xml", "tags/economy/rss.xml"} <= set(report.written)
    assert feedparser.parse((site.feeds / "atom.xml").read_bytes()).feed.title == "A new name"
    (site.feeds / "rss.xml").unlink()
    assert build(site, LATER, "site.title='A new name'").written == ["rss.xml"]
    assert build(site, LATER, "site.title='A new name'").written == []


def test_a_build_that_fails_part_way_keeps_what_it_committed(site):
    """A large build commits every commit_every files: a failure loses only the batch
    in hand, and the next build stores the rest, each release once."""
    tuning = Tuning(commit_every=5, known_min_files=1)
    for i in range(12):
        day = f"{i + 1} March 2021"
        (site.sources / f"r{i:02d}.txt").write_text(release(f"Release {i}", day), encoding="utf-8")
    planned = []

    def failing_planner(db, entry, event):  # the outbox write of the 9th entry fails
        if len(planned) == 8:
            raise sqlite3.OperationalError("disk I/O error")
        planned.append(entry.id)
        return 0

    with pytest.raises(sqlite3.OperationalError):
        run_build(site.config(), site.store(), NOW, planner=failing_planner, tuning=tuning)
    db = sqlite3.connect(site.config().paths.state)
    assert db.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == 5  # one batch
    assert db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 5
    report = build(site, tuning=tuning)
    assert (report.new, report.entries, report.duplicates) == (8, 13, 0)
    assert len(set(feed_ids(site))) == 13


def test_a_release_stored_by_another_writer_between_batches_is_matched(site, monkeypatch):
    """`scofeed add` (another connection) stores a release while a large build is
    between two batches; the build's copy of it, in a later batch, is the same entry."""
    tuning = Tuning(commit_every=3, known_min_files=1)
    for i in range(8):
        day = f"{i + 1} March 2021"
        (site.sources / f"r{i:02d}.txt").write_text(release(f"Release {i}", day), encoding="utf-8")
    store = site.store()
    begun = []
    batch_transaction = store.transaction

    @contextlib.contextmanager
    def transaction():
        begun.append(1)
        if len(begun) == 2:  # after the first batch's commit, before the second begins
            text = (site.sources / "r06.txt").read_text(encoding="utf-8")
            other = Store(site.config().paths.state)  # its own connection
            ingest(site.config(), other, [Release("elsewhere.txt", text)], NOW)
        with batch_transaction() as db:
            yield db

    monkeypatch.setattr(store, "transaction", transaction)
    report = run_build(site.config(), store, NOW, tuning=tuning)
    assert len(begun) >= 3
    assert (report.entries, report.new) == (9, 8)  # r06 was already stored: not new
    db = sqlite3.connect(site.config().paths.state)
    owners = dict(db.execute("SELECT origin, entry_id FROM entry_origins").fetchall())
    assert owners["r06.txt"] == owners["elsewhere.txt"]
    assert len(set(feed_ids(site))) == 9


def test_a_large_build_sees_what_another_writer_committed_between_its_batches(site):
    """Known (the keys that spare a large build its lookups) is loaded again when another
    connection has written since, so a release stored meanwhile is matched, not doubled."""
    store = site.store()
    with store.transaction() as db:
        known = match_rows.Known(db)
    with store.transaction() as db:
        assert match_rows.Known.current(db, known) is known  # nothing written meanwhile
        db.execute("INSERT INTO meta (key, value) VALUES ('mine', '1')")
    with store.transaction() as db:
        assert match_rows.Known.current(db, known) is known  # its own commit: still whole
    writer = sqlite3.connect(site.config().paths.state, isolation_level=None)  # another process
    writer.execute(
        "INSERT INTO entry_origins (origin, entry_id, content_hash) VALUES ('x.txt', 'e', 'h')"
    )
    with store.transaction() as db:
        fresh = match_rows.Known.current(db, known)
    assert fresh is not known and "x.txt" in fresh.origins


def test_a_list_of_unnamed_items_that_grows_at_its_head_revises_nothing(site):
    """JSON list items without an id or URL are named by their title and date, not by
    their place: a newest-first list gaining an item at its head adds one entry and
    leaves the others as they were; an edit of an item's text revises its own entry."""

    def item(n: int, text: str = "Something happened.") -> dict[str, str]:
        return {"title": f"Item {n}", "date": f"2021-03-0{n}", "text": text}

    listed = site.sources / "list.json"
    listed.write_text(json.dumps([item(3), item(2), item(1)]), encoding="utf-8")
    assert build(site).new == 4  # and the seed
    before = {e.title: e for e in feedparser.parse(site.feeds / "atom.xml").entries}
    edited = [item(4), item(3), item(2, "Corrected."), item(1)]
    listed.write_text(json.dumps(edited), encoding="utf-8")
    report = build(site, LATER)
    assert (report.new, report.updated) == (1, 1)
    after = {e.title: e for e in feedparser.parse(site.feeds / "atom.xml").entries}
    assert set(after) == {*before, "Item 4"}
    for title in ("Item 1", "Item 3"):
        assert after[title].id == before[title].id
        assert after[title].updated == before[title].updated
        assert after[title].content[0].value == before[title].content[0].value
    assert after["Item 2"].id == before["Item 2"].id
    assert "Corrected." in after["Item 2"].content[0].value


def test_ids_given_later_to_a_lists_items_keep_them_apart_when_it_grows(site):
    """Database ids 2 and 1 given to the items of a list that had none: ids no larger
    than the list's length name items by place, and each entry had been minted from its
    text. A new item at the head then moved each name one on, and each entry took its
    neighbour's text, sent out as corrections; swapping two items swapped them too."""

    def item(n: int, words: str) -> dict[str, object]:
        return {"title": f"SCO {words}", "date": f"2022-05-0{n}", "text": f"The {words}."}

    first = [item(3, "forum closes"), item(1, "forum opens")]
    listed = site.sources / "news.json"
    listed.write_text(json.dumps(first), encoding="utf-8")
    assert build(site).new == 3  # and the seed
    ids = {e.title: e.id for e in feedparser.parse(site.feeds / "atom.xml").entries}
    numbered = [{"id": 2, **first[0]}, {"id": 1, **first[1]}]
    listed.write_text(json.dumps(numbered), encoding="utf-8")
    assert (build(site, LATER).new, build(site, LATER).updated) == (0, 0)
    grown = [{"id": 3, **item(5, "ministers meet")}, *numbered]
    listed.write_text(json.dumps(grown), encoding="utf-8")
    report = build(site, LATER + timedelta(hours=1))
    assert (report.new, report.updated) == (1, 0)
    listed.write_text(json.dumps([grown[0], grown[2], grown[1]]), encoding="utf-8")
    report = build(site, LATER + timedelta(hours=2))
    assert (report.new, report.updated) == (0, 0)
    for e in feedparser.parse(site.feeds / "atom.xml").entries:
        if e.title.startswith("SCO forum"):  # each entry as it was, its id and its text
            assert e.id == ids[e.title] and e.title[4:] in e.content[0].value


def test_an_unnamed_list_item_whose_title_or_date_is_edited_revises_its_entry(site):
    """An item without an id or URL is named by its title and date, so an edit of either
    names it anew. Where it stands in for an item gone from the list's last version,
    with the same first paragraph and the same title or date, it is that item edited:
    its entry is revised (same id, revision 2), never published twice. An item gone
    with no such stand-in, and one new with another first paragraph, stay apart."""

    def item(title: str, date: str, text: str) -> dict[str, str]:
        return {"title": title, "date": date, "text": text}

    one = item("SCO ministers meet in Astana", "2021-03-01", "The ministers met in Astana.")
    two = item("Secretary-General receives envoy", "2021-03-02", "The envoy of Mongolia came.")
    three = item("Youth forum opens", "2021-03-03", "The forum opened in Tashkent.")
    listed = site.sources / "list.json"
    listed.write_text(json.dumps([three, two, one]), encoding="utf-8")
    assert build(site).new == 4  # and the seed
    ids = {e.title: e.id for e in published_rows.latest(site.store().db)}

    retitled = {**one, "title": "SCO foreign ministers meet in Astana"}
    redated = {**two, "date": "2021-03-04"}
    other = item("Youth forum closes", "2021-03-05", "The forum closed in Tashkent.")
    listed.write_text(json.dumps([other, redated, retitled]), encoding="utf-8")
    report = build(site, LATER)
    assert (report.new, report.updated, report.duplicates) == (1, 2, 0)
    entries = {e.title: e for e in published_rows.latest(site.store().db)}
    assert entries["SCO foreign ministers meet in Astana"].id == ids[one["title"]]
    assert entries["SCO foreign ministers meet in Astana"].revision == 2
    assert one["title"] not in entries  # the old title is no entry of its own
    assert entries[two["title"]].id == ids[two["title"]]
    assert entries[two["title"]].published.date().isoformat() == "2021-03-04"
    # the item gone without a stand-in keeps its entry (a deleted item retracts nothing)
    assert entries[three["title"]].id == ids[three["title"]]
    assert entries["Youth forum closes"].id not in ids.values()
    feed = feedparser.parse(site.feeds / "atom.xml")
    assert len(feed.entries) == len({e.id for e in feed.entries}) == 5
    # `scofeed show`: the name an edited item went by is a former name, not a copy
    for title in ("SCO foreign ministers meet in Astana", two["title"]):
        (former, current) = sorted(shown_inputs(site, entries[title].id), reverse=True)
        assert former[0] == "former" and current[0] == "current"
        assert former[1].startswith("list.json#") and current[1].startswith("list.json#")


def test_a_recurring_list_item_of_one_title_is_a_new_release_each_time(site):
    """A rolling list whose item of one title and template text is replaced each week
    ("Weekly press briefing", "On 3 June 2025, ..."): each week's item is a release of
    its own, never the last one's edit. (A date corrected in an item's metadata and in
    its first paragraph at once cannot be told from this: such items need an id.)"""
    listed = site.sources / "list.json"
    weeks = []
    for n, day in enumerate(("03", "10", "17")):
        item = {
            "title": "Weekly press briefing",
            "date": f"2025-06-{day}",
            "text": f"On {int(day)} June 2025, the SCO spokesperson held the weekly briefing.",
        }
        listed.write_text(json.dumps([item]), encoding="utf-8")
        report = build(site, LATER + timedelta(days=7 * n))
        weeks.append((report.new, report.updated))
    assert weeks == [(2, 0), (1, 0), (1, 0)]  # the seed too, first
    titles = [e.title for e in published_rows.latest(site.store().db)]
    assert titles.count("Weekly press briefing") == 3


def test_every_file_gone_at_once_is_said_and_withdraws_nothing(site, caplog):
    """A sources/ folder unmounted or moved shows as every file gone: a build said only
    `found=0`. It warns, once per build, and the releases stay published."""
    (site.sources / "other.txt").write_text(release("Other", "5 June 2020"), encoding="utf-8")
    assert build(site).new == 2
    kept = site.root / "kept"
    site.sources.rename(kept)
    site.sources.mkdir()
    with caplog.at_level("WARNING", logger="scofeed.build"):
        report = build(site, LATER)
    assert report.entries == 2 and len(feed_ids(site)) == 2
    (line,) = [r.getMessage() for r in caplog.records if "sources_emptied" in r.getMessage()]
    assert f"path={site.sources} gone=2: every file in it is gone" in line
    caplog.clear()
    with caplog.at_level("WARNING", logger="scofeed.build"):
        build(site, LATER)  # known gone now: said once
    assert "sources_emptied" not in caplog.text
    site.sources.rmdir()
    kept.rename(site.sources)  # back: matched to their entries, nothing new or revised
    report = build(site, LATER)
    assert (report.new, report.updated, report.entries) == (0, 0, 2)


def test_a_rejected_files_name_is_one_field_of_its_log_line(site, caplog):
    """A file named to look like more fields (``x.txt reason='fixed' y.txt``) was logged
    as ``rejected origin=x.txt reason='fixed' ... reason='empty file'``: a reader of
    key=value lines took the forged reason. A name that is not one word is quoted."""
    forged = "x.txt reason='fixed' kept_last_good=tag:scofeed.example,2026:release y.txt"
    (site.sources / forged).write_bytes(b"")
    (site.sources / "plain.txt").write_bytes(b"")
    with caplog.at_level("INFO", logger="scofeed.build"):
        build(site)
    lines = sorted(r.getMessage() for r in caplog.records if r.getMessage().startswith("rejected "))
    assert sorted(lines) == sorted(
        ["rejected origin=plain.txt reason='empty file'",
         f"rejected origin={forged!r} reason='empty file'"]
    )  # fmt: skip


def test_a_list_item_named_by_its_place_in_an_older_store_is_revised_by_an_edit(site):
    """A store from before 2026-12-01 16:41 named a list's items without an id or URL by
    their place (``list.json#2``); they keep those names until the file changes (it is
    not read again before). The edit that changes it names them by title and date, and
    its edited item, whose first paragraph changed, was matched to nothing: published a
    second time beside its old entry. An item named by its place with the same title and
    date is that item."""

    def item(title: str, day: str, text: str) -> dict[str, str]:
        return {"title": title, "date": day, "text": text}

    one = item("SCO Council meets", "2024-04-01", "On 1 April 2024 the council met.")
    two = item("SCO forum closes", "2024-04-02", "On 2 April 2024 the forum closed.")
    listed = site.sources / "list.json"
    listed.write_text(json.dumps([one, two]), encoding="utf-8")
    assert build(site).new == 3  # and the seed
    store = site.store()
    before = {e.title: e.id for e in published_rows.latest(store.db)}
    for place, entry_id in ((1, before[one["title"]]), (2, before[two["title"]])):
        (named,) = store.db.execute(
            "SELECT origin FROM entries WHERE id = ?", (entry_id,)
        ).fetchone()
        with store.db:  # as the older scofeed named them
            for table in ("entries", "entry_origins"):
                store.db.execute(
                    f"UPDATE {table} SET origin = ? WHERE origin = ?", (f"list.json#{place}", named)
                )
    store.close()
    edited = {**two, "text": "On 2 April 2024 the forum closed, with a joint statement."}
    listed.write_text(json.dumps([one, edited]), encoding="utf-8")
    report = build(site, LATER)
    assert (report.new, report.updated) == (0, 1)
    after = {e.title: e for e in published_rows.latest(site.store().db)}
    assert {t: e.id for t, e in after.items()} == before
    assert "joint statement" in after[two["title"]].content_html
    assert after[two["title"]].revision == 2


@pytest.mark.parametrize("refused", ["fork", "thread"])
def test_a_build_whose_workers_cannot_all_start_prepares_its_files_here(
    site, monkeypatch, caplog, refused
):
    """A cold build's second worker process cannot be forked (a pids limit such as
    systemd's TasksMax, ``docker --pids-limit``; a low open-files limit fails the same
    way): the build said it in a 40-line traceback, and the first worker, already
    started, waited for work for ever, and the build's process with it at its exit.
    Now the started worker is stopped, a line says why, and the files are prepared in
    this process: the same feeds. So when the pool's own thread cannot start, after its
    workers did (a pids limit counts threads too)."""
    for i in range(30):
        day = f"{i % 28 + 1} March 2021"
        (site.sources / f"r{i:02d}.txt").write_text(release(f"Release {i}", day), encoding="utf-8")
    sequential = build(site, tuning=Tuning(pool_min_files=10**9))
    before = tree(site)
    gc.collect()
    os.remove(site.config().paths.state)
    shutil.rmtree(site.feeds)
    real_fork, forks = os.fork, []

    def fork_once() -> int:
        if forks:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        forks.append(1)
        return real_fork()

    def no_thread(self) -> None:
        raise RuntimeError("can't start new thread")

    if refused == "fork":
        monkeypatch.setattr(os, "fork", fork_once)
    else:
        monkeypatch.setattr(concurrent.futures.process._ExecutorManagerThread, "start", no_thread)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    # the pool forks only in a process of one thread; pytest's may have more. Safe here:
    # no worker is given work, each is stopped before it takes any
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    with caplog.at_level(logging.WARNING, logger="scofeed.pool"):
        parallel = build(site, tuning=Tuning(pool_min_files=1, pool_chunk=7))
    monkeypatch.undo()
    assert forks == ([1] if refused == "fork" else [])  # one worker started, the next refused
    assert multiprocessing.active_children() == []  # stopped, not left waiting
    assert "worker_processes_unavailable" in caplog.text
    assert tree(site) == before
    assert parallel.new == sequential.new == 31


def test_the_first_of_two_list_items_of_one_title_and_date_deleted_changes_nothing(site):
    """Two items of one title and date are named by their place (``list.json#1``,
    ``#2``); the first deleted, the other is named by its title and date from then on,
    and found by its text: its own entry, nothing revised. (Matched by title and date
    to the first gone item named by place, it took the deleted item's entry, and its
    text, sent out as a correction.)"""
    one = {"title": "SCO Council meets", "date": "2024-04-01", "text": "The council met."}
    two = {**one, "text": "The council met again, in the afternoon."}
    listed = site.sources / "list.json"
    listed.write_text(json.dumps([one, two]), encoding="utf-8")
    assert build(site).new == 3  # and the seed
    before = {e.id: e for e in published_rows.latest(site.store().db)}
    listed.write_text(json.dumps([two]), encoding="utf-8")
    report = build(site, LATER)
    assert (report.new, report.updated) == (0, 0)
    after = {e.id: e for e in published_rows.latest(site.store().db)}
    assert after == before  # the deleted item's entry stays, as a deleted file's does
