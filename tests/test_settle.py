"""Settled files: a file in sources/ is read once it has stopped changing.

A file written in two parts with a pause is published once, whole: one entry, no
correction, one delivery to a real webhook receiver (the daemon as a subprocess).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime

import pytest

import conftest
import forkserver
from conftest import webhook_toml
from scofeed.build import build
from scofeed.sources.files import settle_left
from scofeed.store import deliveries as delivery_rows
from scofeed.store import entries as entry_rows
from scofeed.store import published as published_rows
from test_daemon import start, wait_for  # noqa: F401 - start: the daemon fixture

TITLE = "Secretary-General receives new ambassador"
PART_1 = f"{TITLE}\n\nOn 10 June 2020 the Secretary-General received the new ambassador.\n"
PART_2 = "\nThe parties discussed trade, transport and the digital economy.\n"


def with_settle(site, seconds: float) -> None:
    text = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(text.replace("settle = 0", f"settle = {seconds}"), "utf-8")


def age(path, seconds: float) -> None:
    """Give a file the mtime it would keep when written elsewhere and renamed in."""
    then = time.time() - seconds
    os.utime(path, (then, then))


@pytest.mark.parametrize(
    ("mtime_age", "settle", "left"),
    [
        (0.5, 2.0, 1.5),  # still being written
        (2.0, 2.0, 0.0),  # just settled
        (3600.0, 2.0, 0.0),  # renamed into place: its old mtime is settled at once
        (0.0, 0.0, 0.0),  # settle = 0: every file at once
        (-1.0, 2.0, 3.0),  # a clock a second ahead: still young
        (-3600.0, 2.0, 0.0),  # an mtime an hour ahead is no write in progress
    ],
)
def test_settle_left(mtime_age, settle, left):
    now = 1_700_000_000.0
    mtime_ns = int((now - mtime_age) * 1e9)
    assert settle_left(mtime_ns, now, settle) == pytest.approx(left)


def test_a_young_file_waits_for_a_later_build_and_an_old_one_is_read_at_once(site):
    with_settle(site, 60)
    age(site.sources / "000_8062ea63522097a7.txt", 3600)  # the seed, renamed in long ago
    cfg, store = site.config(), site.store()
    young = site.sources / "young.txt"
    young.write_text(PART_1, encoding="utf-8")
    first = build(cfg, store, datetime.now(UTC))
    assert (first.new, [rel for rel, _ in first.deferred]) == (1, ["young.txt"])
    assert first.waited == 0
    assert TITLE not in [e.title for e in published_rows.latest(store.db)]
    # an edit of a known file is deferred the same way: its last version stays
    young.write_text(PART_1 + PART_2, encoding="utf-8")
    age(young, 120)
    second = build(cfg, store, datetime.now(UTC))
    assert (second.new, second.updated, second.deferred) == (1, 0, [])
    (entry,) = [e for e in published_rows.latest(store.db) if e.title == TITLE]
    assert "digital economy" in entry.content_html and entry.revision == 1
    young.write_text(PART_1 + PART_2 + "\nA third paragraph.\n", encoding="utf-8")
    third = build(cfg, store, datetime.now(UTC))
    assert (third.updated, [rel for rel, _ in third.deferred]) == (0, ["young.txt"])
    assert entry_rows.get(store.db, entry.id).revision == 1


def test_a_build_waits_for_a_file_being_written(site):
    with_settle(site, 1)
    cfg, store = site.config(), site.store()
    (site.sources / "new.txt").write_text(PART_1, encoding="utf-8")
    report = build(cfg, store, datetime.now(UTC), wait=30)
    assert report.waited > 0 and report.deferred == []
    assert TITLE in [e.title for e in published_rows.latest(store.db)]


def test_scofeed_build_says_it_waited(site):
    with_settle(site, 5)
    (site.sources / "new.txt").write_text(PART_1, encoding="utf-8")
    proc = forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "build"],
        capture_output=True, text=True, cwd=site.root, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "for files still being written" in proc.stderr
    assert "entries=2 new=2" in proc.stdout


def test_scofeed_add_does_not_wait_for_the_file_it_wrote(site):
    with_settle(site, 3600)
    age(site.sources / "000_8062ea63522097a7.txt", 7200)
    proc = forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "add", "-"],
        input=PART_1, capture_output=True, text=True, cwd=site.root, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    store = site.store()
    assert TITLE in [e.title for e in published_rows.latest(store.db)]


def test_a_file_written_in_two_parts_is_published_once_whole(site, receivers, monkeypatch, request):
    monkeypatch.setattr(
        conftest, "BASE_CONFIG", conftest.BASE_CONFIG.replace("settle = 0", "settle = 2")
    )
    age(site.sources / "000_8062ea63522097a7.txt", 3600)
    hook = receivers([200])
    # scan_interval = 60: the watcher's scan comes right after the first part is written
    d = request.getfixturevalue("start")(scan_interval=60, extra=webhook_toml("hub", hook.url))
    hook.wait_for(1, timeout=20)  # the seed
    path = site.sources / "new.txt"
    with open(path, "w", encoding="utf-8") as f:
        f.write(PART_1)
        f.flush()
        time.sleep(1.0)  # a slow copy: the watcher sees the first part alone
        f.write(PART_2)
    wait_for(lambda: TITLE in d.feed_titles(), timeout=30, what="the new release in the feed")
    hook.wait_for(2, timeout=20)
    store = site.store()
    (entry,) = [e for e in published_rows.latest(store.db) if e.title == TITLE]
    assert entry.revision == 1 and "digital economy" in entry.content_html
    rows = [r for r in delivery_rows.listing(store.db) if r.entry_id == entry.id]
    assert [(r.event, r.revision) for r in rows] == [("release.published", 1)]
    assert d.stop() == 0
    assert len(hook.received) == 2
    assert "Traceback" not in d.log()
