"""Atomic writes: a reader sees the old file or the new one, never half of either."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from concurrent import futures
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scofeed import build as build_module
from scofeed import publish
from scofeed.build import DEFAULT_TUNING, Tuning, build
from scofeed.errors import PublishError
from scofeed.publish import render_batch, write_atomic, write_if_changed
from scofeed.store import published as published_rows
from scofeed.withdraw import withdraw

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_write_replaces_by_rename_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "atom.xml"
    target.write_bytes(b"old")
    inode = target.stat().st_ino
    assert write_if_changed(target, b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_ino != inode  # a new file renamed over the old one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atom.xml"]


def test_same_bytes_are_not_written(tmp_path):
    target = tmp_path / "rss.xml"
    write_if_changed(target, b"x")
    os.utime(target, ns=(1, 1))
    assert not write_if_changed(target, b"x")
    assert target.stat().st_mtime_ns == 1


def test_a_new_version_is_later_than_the_old_even_when_the_clock_went_back(tmp_path):
    """The file was written an hour 'ahead' (the clock was set back since): its new
    version still gets a later mtime, so If-Modified-Since the old Last-Modified is
    answered with the new bytes, not 304, here and in any static server."""
    target = tmp_path / "atom.xml"
    target.write_bytes(b"old")
    ahead = (int(time.time()) + 3600) * 1_000_000_000 + 123
    os.utime(target, ns=(ahead, ahead))
    assert write_if_changed(target, b"new")
    assert target.stat().st_mtime_ns // 1_000_000_000 == ahead // 1_000_000_000 + 1
    # and again: each version later than the one before, until the clock catches up
    assert write_if_changed(target, b"newer")
    assert target.stat().st_mtime_ns // 1_000_000_000 == ahead // 1_000_000_000 + 2
    # in the ordinary case (the old file is older than the clock) the clock's time stays:
    # the file is not given the old mtime plus a second (2 s after the epoch)
    fresh = tmp_path / "rss.xml"
    fresh.write_bytes(b"old")
    os.utime(fresh, ns=(1_000_000_000, 1_000_000_000))
    assert write_if_changed(fresh, b"new")
    assert fresh.stat().st_mtime_ns // 1_000_000_000 > 2


def test_failed_write_keeps_the_old_file_and_cleans_up(tmp_path):
    target = tmp_path / "feed.json"
    target.mkdir()  # rename over a directory fails
    with pytest.raises(PublishError, match="feed.json: cannot write"):
        write_atomic(target, b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feed.json"]


def test_concurrent_reader_never_sees_a_partial_file(tmp_path):
    target = tmp_path / "atom.xml"
    versions = [bytes([65 + i]) * 400_000 for i in range(6)]
    write_atomic(target, versions[0])
    seen: set[int] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            data = target.read_bytes()
            assert data in versions, len(data)
            seen.add(data[0])

    t = threading.Thread(target=reader)
    t.start()
    try:
        for _ in range(5):
            for v in versions:
                write_atomic(target, v)
    finally:
        stop.set()
        t.join()
    assert seen


def _in_batches(cfg, batches):
    """A fan-out run here, batch by batch, as the workers of a cold build run it."""
    return [render_batch(cfg, batch) for batch in batches]


@pytest.mark.parametrize("spread", [False, True], ids=["in-process", "fan-out"])
def test_a_feed_is_not_moved_on_past_an_archive_page_that_could_not_be_written(
    site, monkeypatch, spread
):
    """With the disk full, the subscription feed was written with a prev-archive link to
    a page that was not: its oldest entries were in no published file. The feed keeps
    its last bytes until the page can be written; then both are. The other files are
    written all the same, whether rendered here or fanned out to workers as a cold build
    does (there, one failed page stopped every feed)."""
    site.write_config("[feeds]\nentries = 1\n")
    cfg, store = site.config(), site.store()
    if spread:
        monkeypatch.setattr(publish, "FAN_OUT_MIN", 0)
        monkeypatch.setattr(build_module, "_render_in_workers", _in_batches)
    tuning = Tuning(known_min_files=1) if spread else DEFAULT_TUNING  # a cold build's path
    assert build(
        cfg, store, NOW, tuning=tuning
    ).written  # the seed alone: complete, no archive pages
    before = (site.feeds / "atom.xml").read_bytes()
    for name, day in (("a", "5 January 2026"), ("b", "3 February 2026")):
        (site.sources / f"{name}.txt").write_text(
            f"SCO meeting {name}\n\nOn {day}, the SCO met in Astana.\n", encoding="utf-8"
        )
    (site.feeds / "archive").mkdir()
    (site.feeds / "archive" / "2026-01").write_text("in the way")  # a page's folder
    with pytest.raises(PublishError) as err:
        build(cfg, store, NOW, tuning=tuning)
    assert "archive/2026-01/atom.xml" in str(err.value)
    # the line says what was stored: no summary line follows a failed build
    assert str(err.value).endswith("(the releases are stored: entries=3 new=2 updated=0)")
    assert (site.feeds / "atom.xml").read_bytes() == before  # not moved on
    assert (site.feeds / "archive/2026-02/atom.xml").is_file()  # the other page: written
    assert b"SCO meeting b" in (site.feeds / "en/atom.xml").read_bytes()  # no archive link
    (site.feeds / "archive" / "2026-01").unlink()
    build(cfg, store, NOW, tuning=tuning)
    atom = (site.feeds / "atom.xml").read_bytes()
    assert b'rel="prev-archive"' in atom and (site.feeds / "archive/2026-01/atom.xml").is_file()


def test_a_new_scofeeds_rendering_reaches_every_file_once(site, monkeypatch):
    """The package version was what told an upgrade's rendering from the last one's,
    and it does not move with each change: after an upgrade the files kept the old
    bytes until their entries changed (RSS titles kept "&amp;" after "&#x26;"). The
    rendering code's own hash is in every file's key."""
    cfg, store = site.config(), site.store()
    assert len(build(cfg, store, NOW).written) > 5
    feed = site.feeds / "rss.xml"
    fresh, st = feed.read_bytes(), feed.stat()
    old = fresh.replace(b"<generator>", b"<GENERATOR>").replace(b"</generator>", b"</GENERATOR>")
    with open(feed, "r+b") as fh:  # as an older scofeed left it: same size, inode, time
        fh.write(old)
    os.utime(feed, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert build(cfg, store, NOW).written == []  # the same code: nothing to render
    assert feed.read_bytes() == old
    monkeypatch.setattr(publish.render, "code_version", lambda: "a newer rendering")
    assert build(cfg, store, NOW).written == ["rss.xml"]  # every file rendered, one differs
    assert feed.read_bytes() == fresh
    assert build(cfg, store, NOW).written == []


def test_a_store_restored_from_a_backup_brings_the_feeds_back_in_step(site):
    """The restored store held the keys of the files as they were at the backup, and the
    newer files on disk were trusted by key: a release withdrawn after the backup was
    live again in the store, its page answered 200, and every feed still left it out."""
    cfg, store = site.config(), site.store()
    (site.sources / "b.txt").write_text(
        "SCO meets envoys\n\nOn 5 January 2026, the SCO met envoys in Astana.\n", "utf-8"
    )
    build(cfg, store, NOW)
    target = next(e for e in published_rows.latest(store.db) if e.title == "SCO meets envoys")
    backup = site.root / "backup.sqlite3"
    with sqlite3.connect(backup) as copy:
        store.db.backup(copy)
    copy.close()
    withdraw(cfg, store, target.id, "published by mistake", NOW)
    build(cfg, store, NOW)
    assert b"SCO meets envoys" not in (site.feeds / "rss.xml").read_bytes()
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{cfg.paths.state}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, cfg.paths.state)
    store = site.store()
    assert "rss.xml" in build(cfg, store, NOW).written
    for name in ("rss.xml", "atom.xml", "feed.json"):
        assert b"SCO meets envoys" in (site.feeds / name).read_bytes(), name
    assert build(cfg, store, NOW).written == []


def test_the_temporary_files_of_a_killed_publisher_are_swept(site):
    """A build or daemon killed with -9 while writing left ".rss.xml.XXXXXXXX.tmp", a
    full copy of the feed, for good: one more at every such crash."""
    cfg, store = site.config(), site.store()
    build(cfg, store, NOW)
    left = [site.feeds / ".rss.xml.k3j_9x2a.tmp", site.feeds / "en" / ".atom.xml.a1b2c3d4.tmp"]
    for path in left:
        path.write_bytes(b"half a feed")
    mine = site.feeds / ".notes.tmp"  # not a name the publisher writes: left alone
    mine.write_text("mine")
    (site.sources / "b.txt").write_text(
        "SCO meets envoys\n\nOn 5 January 2026, the SCO met envoys in Astana.\n", "utf-8"
    )
    assert "rss.xml" in build(cfg, store, NOW).written
    assert [p.exists() for p in left] == [False, False] and mine.exists()


@pytest.mark.parametrize("inline", [0.0, 60.0], ids=["threads", "in-turn"])
def test_files_written_in_turn_or_by_threads_are_the_same(site, monkeypatch, inline):
    """A build writes its first files in turn and hands the rest to threads once the
    writes have waited ``INLINE_SECONDS``: either way every file is written once, in
    plan order, and a file that cannot be written holds up none after it."""
    started: list[int] = []
    pool = futures.ThreadPoolExecutor

    def counted(*args, **kwargs):
        started.append(1)
        return pool(*args, **kwargs)

    monkeypatch.setattr(publish, "INLINE_SECONDS", inline)
    monkeypatch.setattr(futures, "ThreadPoolExecutor", counted)
    cfg, store = site.config(), site.store()
    site.feeds.mkdir(parents=True, exist_ok=True)
    (site.feeds / "en").write_text("in the way")  # a feed set's folder
    with pytest.raises(PublishError) as err:
        build(cfg, store, NOW)
    assert "en/atom.xml: cannot read (Not a directory); and 2 more files" in str(err.value)
    assert bool(started) == (inline == 0)  # threads only once the writes waited long enough
    written = sorted(p.relative_to(site.feeds).as_posix() for p in site.feeds.rglob("*.*"))
    assert "atom.xml" in written and "feeds.opml" in written  # before and after en/
    assert any(p.startswith("tags/") for p in written)
    (site.feeds / "en").unlink()
    written = build(cfg, store, NOW).written  # what failed, and nothing else
    assert sorted(written) == ["en/atom.xml", "en/feed.json", "en/rss.xml"]
