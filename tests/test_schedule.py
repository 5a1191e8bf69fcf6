"""The scheduler wiring, the scan job and the source watcher, in-process with real parts."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import os
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from watchdog.events import (
    DirModifiedEvent,
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileOpenedEvent,
)
from watchdog.utils import BaseThread

from conftest import Receiver, webhook_toml
from scofeed import schedule, sources, watch
from scofeed.build import Tuning
from scofeed.build import build as build_feeds
from scofeed.errors import ConfigError, SourceError
from scofeed.pool import POOL_CHUNK, POOL_MIN_FILES
from scofeed.schedule import (
    Idle,
    JobContext,
    JobSpec,
    Said,
    Scheduler,
    deliver_job,
    scan_job,
    trigger_for,
)
from scofeed.sources import files as scanner
from scofeed.store import Store, runs
from scofeed.watch import SourceWatcher, relevant

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or predicate}")


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state.sqlite3")
    yield s
    s.close()


@pytest.fixture
def make_scheduler(site):
    made: list[Scheduler] = []

    def make(specs: list[JobSpec], **ctx_kw: object) -> Scheduler:
        cfg = site.config()
        sched = Scheduler(JobContext(cfg, Store(cfg.paths.state), **ctx_kw))  # type: ignore[arg-type]
        sched.load(specs)
        sched.start()
        made.append(sched)
        return sched

    yield make
    for sched in made:
        sched.stop(5)


def test_a_failing_job_is_recorded_and_runs_again_next_tick(make_scheduler):
    calls: list[datetime] = []

    def flaky(ctx: JobContext, now: datetime) -> str:
        calls.append(now)
        if len(calls) <= 2:
            raise SourceError(f"attempt {len(calls)} failed")
        if len(calls) == 3:
            raise RuntimeError("a bug, not an expected error")
        return f"attempt={len(calls)}"

    sched = make_scheduler([JobSpec("flaky", trigger_for(every=1), flaky, grace=5)])
    db = sched.ctx.store.db
    wait_for(lambda: (r := runs.get(db, "flaky")) and not r.ok, what="first failure")
    first = runs.get(db, "flaky")
    assert first is not None and first.error == "attempt 1 failed" and first.last_ok is None
    wait_for(lambda: len(calls) >= 4 and runs.get(db, "flaky").ok, what="recovery")  # type: ignore[union-attr]
    last = runs.get(db, "flaky")
    assert last is not None and last.summary == "attempt=4" and last.failures == 0
    assert last.last_ok == last.finished


def test_wake_runs_a_job_now_and_again_when_it_was_running(make_scheduler):
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def slow(ctx: JobContext, now: datetime) -> str:
        calls.append(1)
        started.set()
        release.wait(10)
        return "done"

    hourly = JobSpec("slow", trigger_for(every=3600), slow, run_at_start=False)
    sched = make_scheduler([hourly])
    sched.wake("slow")
    assert started.wait(10), "wake did not run the job"
    sched.wake("slow")  # while it runs: must run once more afterwards, not be dropped
    sched.wake("slow")
    sched.wake("unknown-job")  # ignored
    release.set()
    wait_for(lambda: len(calls) == 2, what="second run")
    wait_for(lambda: runs.get(sched.ctx.store.db, "slow") is not None)


def test_a_tick_with_nothing_due_is_not_recorded(make_scheduler):
    calls: list[int] = []

    def idle_then_busy(ctx: JobContext, now: datetime) -> str | None:
        calls.append(1)
        return None if len(calls) == 1 else "sent=1"

    sched = make_scheduler([JobSpec("idle", trigger_for(every=3600), idle_then_busy)])
    db = sched.ctx.store.db
    wait_for(lambda: calls, what="the first run")
    wait_for(lambda: "idle" not in sched.running, what="the first run to end")
    assert runs.get(db, "idle") is None
    sched.wake("idle")
    wait_for(lambda: runs.get(db, "idle") is not None, what="the second run's record")
    assert runs.get(db, "idle").summary == "sent=1"  # type: ignore[union-attr]


def test_scan_job_wakes_the_deliver_job_when_a_build_queued_deliveries(site, make_scheduler):
    delivered: list[datetime] = []

    def planner(cfg, now):  # one outbound delivery per new revision
        return lambda db, entry, event: 1

    def deliver(ctx: JobContext, now: datetime) -> str:
        delivered.append(now)
        return "sent=0"

    sched = make_scheduler(
        [
            JobSpec("scan", trigger_for(every=3600), scan_job),
            JobSpec("deliver", trigger_for(every=3600), deliver, run_at_start=False),
        ],
        planner=planner,
    )
    db = sched.ctx.store.db
    wait_for(lambda: delivered, what="deliver woken by the first scan (seed is new)")
    # the scan wakes deliver before it records its own run: wait for the record too
    wait_for(lambda: runs.get(db, "scan"), what="the scan's record")
    scan = runs.get(db, "scan")
    assert scan is not None and "new=1" in scan.summary and "deliveries=1" in scan.summary


def test_unchanged_files_are_never_reparsed(site, monkeypatch):
    """More files than a build reads in this process or without loading every key (it
    starts workers, ``POOL_MIN_FILES``; three tasks of ``POOL_CHUNK``): the second scan
    opens and parses none (size and mtime match)."""
    files = POOL_MIN_FILES + 2 * POOL_CHUNK
    assert files > Tuning().known_min_files
    for i in range(files):
        (site.sources / f"r{i:05d}.txt").write_text(
            f"Release {i}\n\nOn {i % 28 + 1} June 2020 the Secretariat met delegation {i}.\n",
            encoding="utf-8",
        )
    to_parse: list[str] = []  # what each scan hands on to be read and parsed
    parsed: list[str] = []  # what was parsed in this process
    real_scan, real_read = scanner.scan, sources.read

    def counting_scan(*args, **kwargs):
        result = real_scan(*args, **kwargs)
        to_parse.extend(c.rel for c in result.changed)
        return result

    def counting_read(origin, *args, **kwargs):
        parsed.append(origin)
        return real_read(origin, *args, **kwargs)

    monkeypatch.setattr(scanner, "scan", counting_scan)
    monkeypatch.setattr(sources, "read", counting_read)
    cfg = site.config()
    ctx = JobContext(cfg, Store(cfg.paths.state))
    first = scan_job(ctx, NOW)
    assert len(to_parse) == files + 1 and f"found={files + 1} new={files + 1}" in first
    to_parse.clear()
    parsed.clear()
    second = scan_job(ctx, NOW)
    assert to_parse == [] and parsed == []
    assert isinstance(second, Idle)  # nothing changed: logged at DEBUG only
    assert f"found={files + 1} new=0 updated=0 rejected=0" in second.summary
    (site.sources / "r00042.txt").write_text("Release 42 revised\n\nOn 3 June 2020 x.\n")
    third = scan_job(ctx, NOW)
    assert to_parse == parsed == ["r00042.txt"] and "updated=1" in third


def test_trigger_for_interval_and_cron():
    assert "interval" in str(trigger_for(every=30))
    assert "cron" in str(trigger_for(cron="*/15 * * * *"))
    with pytest.raises(ConfigError, match="cron"):
        trigger_for(cron="every tuesday")
    with pytest.raises(ConfigError):
        trigger_for()


def test_run_records_count_consecutive_failures(store):
    db = store.db
    runs.record(db, runs.Run("scan", 1.0, 2.0, True, "ok"))
    runs.record(db, runs.Run("scan", 3.0, 4.0, False, "", "boom"))
    r = runs.record(db, runs.Run("scan", 5.0, 6.0, False, "", "boom"))
    assert (r.failures, r.last_ok) == (2, 2.0)
    assert [x.name for x in runs.all_runs(db)] == ["scan"]
    store.set_meta("jobx", "not a run")
    assert [x.name for x in runs.all_runs(db)] == ["scan"]


def test_watch_events_that_count():
    assert relevant(FileCreatedEvent("/s/a.txt"))
    assert relevant(FileClosedEvent("/s/a.txt"))
    assert relevant(FileMovedEvent("/s/.a.txt.swp", "/s/a.txt"))
    # the scan's own reads, temp files and directory mtime changes do not
    assert not relevant(FileOpenedEvent("/s/a.txt"))
    assert not relevant(FileClosedNoWriteEvent("/s/a.txt"))
    assert not relevant(FileCreatedEvent("/s/.hidden"))
    assert not relevant(FileCreatedEvent("/s/a.txt.tmp"))
    assert not relevant(FileCreatedEvent("/s/A.TXT.TMP"))  # a Windows tool's, in any case
    assert not relevant(FileCreatedEvent("/s/#a.txt#"))  # an Emacs autosave
    assert not relevant(DirModifiedEvent("/s"))


def test_watcher_calls_back_after_writes(tmp_path):
    fired: list[float] = []
    watcher = SourceWatcher(tmp_path, lambda: fired.append(time.monotonic()), debounce=0.2)
    watcher.start()
    try:
        for i in range(5):
            (tmp_path / f"n{i}.txt").write_text("x")
        wait_for(lambda: fired, what="change callback")
        (tmp_path / "later.txt").write_text("y")
        wait_for(lambda: len(fired) >= 2, what="second change callback")
    finally:
        watcher.stop()


def _inotify_masks() -> list[int]:
    """The event mask of each inotify watch this process holds (Linux's fdinfo)."""
    masks = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:inotify":
                info = Path(f"/proc/self/fdinfo/{fd}").read_text()
                masks += [int(w.split("mask:")[1].split()[0], 16) for w in info.splitlines()
                          if w.startswith("inotify wd:")]  # fmt: skip
    return masks


@pytest.mark.skipif(not Path("/proc/self/fdinfo").is_dir(), reason="Linux's inotify only")
def test_the_watch_asks_for_no_opening_or_unwritten_closing(tmp_path):
    """Every listing of a folder opens and closes it, and the watch asked the kernel for
    those events too (watchdog's default): with ~5,000 folders under sources/ each walk
    (a scan's, watchdog's own after an overflow) overflowed inotify's queue, whose
    recovery walked the tree again, five times a second for good. Only what may change
    a scan's finding is asked for; a file written deep in the tree still counts."""
    in_open, in_close_nowrite, in_close_write = 0x20, 0x10, 0x08
    for i in range(20):
        (tmp_path / f"d{i}" / "e").mkdir(parents=True)
    fired: list[float] = []
    before = len(_inotify_masks())
    watcher = SourceWatcher(tmp_path, lambda: fired.append(time.monotonic()), debounce=0.05)
    watcher.start()
    try:
        masks = _inotify_masks()
        assert len(masks) - before == 41  # the root and each folder under it
        assert all(m & (in_open | in_close_nowrite) == 0 for m in masks)
        assert all(m & in_close_write for m in masks)
        (tmp_path / "d7" / "e" / "a.txt").write_text("x")
        wait_for(lambda: fired, what="change callback")
    finally:
        watcher.stop()


def watched(tmp_path) -> tuple[Path, list[float], SourceWatcher]:
    """A sources/ folder under ``tmp_path`` and a started watcher noting when it fires."""
    root = tmp_path / "sources"
    root.mkdir()
    fired: list[float] = []
    watcher = SourceWatcher(root, lambda: fired.append(time.monotonic()), debounce=0.05)
    watcher.start()
    return root, fired, watcher


def test_a_sources_folder_replaced_is_watched_again(tmp_path):
    """sources/ renamed away and made again (or a tmpfs on it unmounted and mounted
    anew): the watch went on following the old folder, its emitter alive, so
    ``ensure`` never re-armed it and a new file waited for the interval scan (60 s)
    instead of about a second."""
    root, fired, watcher = watched(tmp_path)
    try:
        root.rename(tmp_path / "sources.old")
        root.mkdir()
        watcher.ensure()  # the daemon's every 5 s
        fired.clear()
        (root / "new.txt").write_text("x")
        wait_for(lambda: fired, what="a change seen in the new folder")
    finally:
        watcher.stop()


def test_a_sources_folder_put_in_place_full_is_scanned_when_watched_again(tmp_path):
    """A folder of releases renamed in as sources/ (the old one renamed away first):
    the new watch saw nothing of what the folder held already, no file changed after,
    and its releases waited for the interval scan (60 s)."""
    root, fired, watcher = watched(tmp_path)
    try:
        new = tmp_path / "sources.new"
        new.mkdir()
        (new / "release.md").write_text("x")
        root.rename(tmp_path / "sources.old")
        new.rename(root)
        fired.clear()
        watcher.ensure()  # the daemon's every 5 s
        wait_for(lambda: fired, what="a scan asked for the folder put in place")
    finally:
        watcher.stop()


def test_a_watch_the_system_refuses_is_said_once_not_at_every_retry(tmp_path, monkeypatch, caplog):
    """With the inotify limits spent (``fs.inotify.max_user_instances``, 128 by
    default, shared by every program of the user) the daemon's ``ensure``, every 5 s,
    logged ``watch_unavailable`` at WARNING each time: 17,000 lines a day. The limit
    is the kernel's, so an observer that meets it stands in for the real one."""

    class Spent(watch.Observer):  # type: ignore[misc,valid-type]
        def start(self) -> None:
            raise OSError(errno.EMFILE, "inotify instance limit reached")

    monkeypatch.setattr(watch, "Observer", Spent)
    caplog.set_level(logging.DEBUG, logger="scofeed.watch")
    root = tmp_path / "sources"
    root.mkdir()
    watcher = SourceWatcher(root, lambda: None)
    watcher.start()
    for _ in range(3):
        watcher.ensure()  # the daemon's every 5 s
    said = [r for r in caplog.records if "watch_unavailable" in r.getMessage()]
    assert [r.levelno for r in said] == [logging.WARNING] + [logging.DEBUG] * 3


class _Faulty(SourceWatcher):
    """The real watcher, whose handler raises at its first event (a bug, or a
    RuntimeError no one foresaw), as ours did once in the observer's thread. It notes
    the thread each event was handed on in: the real watchdog observer's own."""

    def __init__(self, root: Path, on_change: Callable[[], None], fail: bool) -> None:
        super().__init__(root, on_change, debounce=0.05)
        self.fail = fail
        self.threads: list[threading.Thread] = []

    def poke(self) -> None:
        self.threads.append(threading.current_thread())
        if self.fail and self.threads[-1] is not threading.main_thread():
            self.fail = False
            raise RuntimeError("a handler's bug")
        super().poke()


def _rearmed(watcher: SourceWatcher, root: Path, fired: list[float], caplog) -> str:
    """``ensure`` (the daemon's every 5 s) after the observer's thread ended: the watch
    is re-armed with one WARNING, a scan is asked for at once (what was written while
    the watch was dead), and a new file is seen again. Returns the line's reason."""
    fired.clear()
    caplog.clear()
    watcher.ensure()
    said = [r for r in caplog.records if "watch_rearmed" in r.getMessage()]
    assert [r.levelno for r in said] == [logging.WARNING], caplog.text
    wait_for(lambda: fired, what="a scan asked for as the watch is re-armed")
    fired.clear()
    (root / "after.txt").write_text("x")
    wait_for(lambda: fired, what="a change seen by the new watch")
    watcher.ensure()  # sound now: nothing more to say
    assert len([r for r in caplog.records if "watch_rearmed" in r.getMessage()]) == 1
    return said[0].getMessage()


def _rearmed_after(tmp_path: Path, caplog, kill: Callable[[threading.Thread], None],
                   fail: bool = False) -> str:  # fmt: skip
    """A real watch on a new sources/, its first event handed on, then ``kill`` (given
    the thread the event was handed on in: the observer's own) ends one of its threads,
    and a file is written while it is dead: ``_rearmed``'s reason."""
    caplog.set_level(logging.INFO, logger="scofeed.watch")
    root = tmp_path / "sources"
    root.mkdir()
    fired: list[float] = []
    watcher = _Faulty(root, lambda: fired.append(time.monotonic()), fail=fail)
    watcher.start()
    try:
        (root / "first.txt").write_text("x")
        wait_for(lambda: watcher.threads, what="the first event handed on")
        kill(watcher.threads[0])
        (root / "meanwhile.txt").write_text("x")  # queued, never handed on, or not seen
        return _rearmed(watcher, root, fired, caplog)
    finally:
        watcher.stop()


def test_a_watch_whose_handler_raised_is_armed_again(tmp_path, caplog, capfd, monkeypatch):
    """A handler that raised ended the watchdog observer's thread, which hands events
    on, while its emitter (inotify) lived on: ``ensure`` saw the emitter alive and the
    same folder, kept the dead watch, and every new file waited for the interval scan
    (60 s) with no word. The thread ends quietly: its traceback on stderr (an
    unhandled thread exception) was printed beside the one line ``ensure`` says."""

    def ended(dead: threading.Thread) -> None:  # by the handler's RuntimeError
        wait_for(lambda: not dead.is_alive(), what="the observer's thread to end")

    monkeypatch.setattr(threading, "excepthook", threading.__excepthook__)  # Python's own
    reason = _rearmed_after(tmp_path, caplog, ended, fail=True)
    assert "died (RuntimeError: a handler's bug)" in reason
    assert "Exception in thread" not in capfd.readouterr().err  # (what Python prints)


def test_a_watch_whose_observer_was_stopped_is_armed_again(tmp_path, caplog):
    """The observer's thread stopped (``observer.stop()``): the watch was re-armed,
    its emitters gone, but with no word of the changes it had missed meanwhile."""

    def stop(observer: threading.Thread) -> None:
        assert isinstance(observer, watch.Observer)
        observer.stop()
        observer.join(5)

    assert "was stopped" in _rearmed_after(tmp_path, caplog, stop)


def test_a_watch_whose_inotify_reader_ended_is_armed_again(tmp_path, caplog):
    """The thread that reads inotify (watchdog's own, beside the emitter and the
    observer's) ended: the emitter and the observer lived on, waiting for events that
    never came, and the watch was kept."""
    readers: list[threading.Thread] = []

    def stop_readers(observer: threading.Thread) -> None:
        assert isinstance(observer, watch.Observer)
        readers.extend(t for t in threading.enumerate() if isinstance(t, BaseThread)
                       and t is not observer and t not in observer.emitters)  # fmt: skip
        assert readers  # watchdog 7: InotifyFD
        for reader in readers:
            reader.stop()
            reader.join(5)

    reason = _rearmed_after(tmp_path, caplog, stop_readers)
    assert f"{type(readers[0]).__name__} thread ended" in reason


NO_FILES_LEFT = """
import logging, os, pathlib, resource, sys
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
import watchdog.observers.inotify  # loaded first: the limit is for the watch alone
from scofeed.watch import SourceWatcher
root = pathlib.Path(sys.argv[1])
watcher = SourceWatcher(root, lambda: None)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) - 1, hard))
watcher.start()
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
watcher.ensure()  # the daemon's every 5 s
print("done", flush=True)
"""


def test_a_watch_short_of_open_files_falls_back_to_the_interval_scan(tmp_path):
    """With the open-files (or inotify) limit spent, watchdog 7 fails as the observer
    is made, before it starts: the ``watch_unavailable`` fallback never ran, and the
    daemon stopped with a traceback, at start or in its loop."""
    done = subprocess.run(
        [sys.executable, "-c", NO_FILES_LEFT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stdout == "done\n", done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"WARNING watch_unavailable path={tmp_path} "), lines
    assert "[Errno 24] " in lines[0] and "fallback=interval" in lines[0]  # EMFILE
    assert lines[1:] == [f"INFO watching path={tmp_path}"]  # once files are free again


@contextlib.contextmanager
def _one_webhook(site, receivers) -> Iterator[tuple[Receiver, JobContext]]:
    """A site built with one webhook endpoint that answers 200, and the jobs' context."""
    hook = receivers([200])
    site.write_config(webhook_toml("hub", hook.url))
    cfg = site.config()
    store = Store(cfg.paths.state)
    try:
        build_feeds(cfg, store, NOW)
        yield hook, JobContext(cfg, store)
    finally:
        store.close()


def test_the_deliver_job_reports_what_it_handed_over_not_outcomes_it_cannot_know(site, receivers):
    """It returns before the workers answer: a line with attempted=0 delivered=0 would
    be false in the log and in /healthz."""
    with _one_webhook(site, receivers) as (hook, ctx):
        line = deliver_job(ctx, NOW)
        assert line == "sending endpoints=1 busy=0"
        hook.wait_for(1)
        ctx.deliveries.shutdown(timeout=10)
        assert deliver_job(ctx, NOW) is None  # nothing due: no line


def test_a_deliver_tick_that_hands_nothing_over_is_not_an_info_line(site, receivers):
    """Endpoints another worker of the pool is still draining are all it found: it
    sends nothing, so the result is Idle (DEBUG), not a line at INFO every tick."""
    with _one_webhook(site, receivers) as (hook, ctx):
        ctx.deliveries._busy.add((str(ctx.store.path), "hub"))  # a drain not finished yet
        assert deliver_job(ctx, NOW) == Idle("sending endpoints=0 busy=1")
        assert hook.received == []


def test_a_run_its_job_said_itself_is_recorded_and_not_said_again(make_scheduler, caplog):
    """A poll or recheck that brought something logs its own line (``poll source=...``)
    and returns it: the scheduler's line for the same run said it a second time at
    INFO (found by a soak test: 138 polls, 276 lines). It is DEBUG now, and recorded."""
    caplog.set_level(logging.DEBUG, logger="scofeed.schedule")

    def polled(ctx: JobContext, now: datetime) -> Said:
        return Said("fetched=1 new=1")

    def scanned(ctx: JobContext, now: datetime) -> str:
        return "found=1 new=1"

    sched = make_scheduler(
        [
            JobSpec("poll:x", trigger_for(every=3600), polled),
            JobSpec("scan", trigger_for(every=3600), scanned),
        ]  # fmt: skip
    )
    db = sched.ctx.store.db
    wait_for(lambda: runs.get(db, "poll:x") and runs.get(db, "scan"), what="both recorded")
    record = runs.get(db, "poll:x")
    assert record is not None and record.ok and record.summary == "fetched=1 new=1"
    said = {r.getMessage().rsplit(" ms=", 1)[0]: r.levelno for r in caplog.records}
    assert said["poll:x fetched=1 new=1"] == logging.DEBUG
    assert said["scan found=1 new=1"] == logging.INFO  # a job that does not log itself


def test_a_job_failing_alike_is_one_error_line_and_its_recovery_is_recorded(make_scheduler, caplog):
    """A job failing at each tick with the same error (a full disk under the deliver
    job, every 5 s) wrote an ERROR line each time; it is logged once now (again after
    ``REPEAT_EVERY``). Once it runs fine with nothing due, that is recorded: its failure
    otherwise stayed in /healthz (its job, ``last_errors``) until it next had work."""
    caplog.set_level(logging.DEBUG, logger="scofeed.schedule")
    calls: list[int] = []

    def full_then_idle(ctx: JobContext, now: datetime) -> None:
        calls.append(1)
        if len(calls) <= 4:
            raise SourceError("the disk is full")

    sched = make_scheduler([JobSpec("sender", trigger_for(every=1), full_then_idle, grace=5)])
    db = sched.ctx.store.db
    wait_for(lambda: (r := runs.get(db, "sender")) and r.failures == 4, what="four failures")
    wait_for(lambda: (r := runs.get(db, "sender")) and r.ok, what="the recovery recorded")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].getMessage().startswith("sender_failed error='the disk is full' ms=")
    assert "sender_recovered failures=4 last_error='the disk is full'" in caplog.text


def test_a_job_failing_as_before_a_restart_at_boot_says_so_at_error(
    site, make_scheduler, caplog, monkeypatch
):
    """The daemon started at boot (systemd) on a store that still fails as before the
    reboot: the failure recorded then counted as logged at monotonic time 0, and with
    the machine up for less than ``REPEAT_EVERY`` (600 s) the new process's first
    failure went to DEBUG alone: no ERROR line at all for its first 10 minutes. The
    clock of schedule is one read 30 s after boot."""
    monkeypatch.setattr(
        schedule, "time", types.SimpleNamespace(time=time.time, monotonic=lambda: 30.0)
    )
    caplog.set_level(logging.DEBUG, logger="scofeed.schedule")
    cfg = site.config()
    before = Store(cfg.paths.state)
    runs.record(before.db, runs.Run("sender", 1.0, 2.0, False, "", "the disk is full"))
    before.close()

    def full(ctx: JobContext, now: datetime) -> None:
        raise SourceError("the disk is full")

    sched = make_scheduler([JobSpec("sender", trigger_for(every=3600), full)])
    wait_for(lambda: (r := runs.get(sched.ctx.store.db, "sender")) and r.failures == 2, what="2")
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert [e for e in errors if e.startswith("sender_failed error='the disk is full'")], errors


def test_a_job_that_failed_before_a_restart_is_recorded_once_it_runs_fine(site, make_scheduler):
    """The record of a failed run survives a restart: a job with nothing due after it
    (the deliver job, the store full at the stop) left it failing in /healthz until it
    next had work."""
    cfg = site.config()
    before = Store(cfg.paths.state)
    runs.record(before.db, runs.Run("sender", 1.0, 2.0, False, "", "the disk is full"))
    before.close()
    sched = make_scheduler([JobSpec("sender", trigger_for(every=3600), lambda ctx, now: None)])
    wait_for(lambda: (r := runs.get(sched.ctx.store.db, "sender")) and r.ok, what="recorded ok")


def test_a_source_failing_alike_is_said_once_though_its_line_counts_the_polls(site, httpserver):
    """A source that stays down was an ERROR at every poll: its line counts the polls in
    a row and names the next one, so the job's error never read the same. It is said
    once while the source fails alike (the job's error keeps its words as its gist)."""
    httpserver.expect_request("/feed.xml").respond_with_data("down", status=500)
    url = httpserver.url_for("/feed.xml")
    site.write_config(
        f'\n[[sources]]\nname = "agency"\nkind = "feed"\nurl = "{url}"\n'
        "interval = 600\ndelay = 0\ntimeout = 1\n"
    )
    cfg = site.config()
    ctx = JobContext(cfg, Store(cfg.paths.state))
    job = schedule.poll_job("agency")
    now = datetime.now(UTC)
    errors = []
    for hours in (0, 24):  # the second past any back-off: due again
        with pytest.raises(SourceError) as caught:
            job(ctx, now + timedelta(hours=hours))
        errors.append(caught.value)
    assert str(errors[0]) != str(errors[1]) and "2 polls in a row" in str(errors[1])
    assert errors[0].gist == errors[1].gist == "agency: temporary: server error 500"
    ctx.store.close()


def test_slow_polls_never_hold_the_scans_and_pushes(make_scheduler):
    """Four sources on a slow site (a body trickling in for the whole timeout) held
    the four job threads: a release dropped into sources/ waited two minutes for its
    scan and its webhooks. The polls run on threads of their own."""
    release = threading.Event()
    polling: list[str] = []
    scans: list[datetime] = []

    def hanging(ctx: JobContext, now: datetime) -> str:
        polling.append("poll")
        release.wait(30)
        return "polled"

    def scan(ctx: JobContext, now: datetime) -> str:
        scans.append(now)
        return "scanned"

    polls = [
        JobSpec(f"poll:s{n}", trigger_for(every=3600), hanging, executor=schedule.POLLS)
        for n in range(6)
    ]
    sched = make_scheduler([*polls, JobSpec("scan", trigger_for(every=3600), scan)])
    try:
        wait_for(lambda: len(polling) == 6, what="every poll hanging at once")
        before = len(scans)
        sched.wake("scan")
        wait_for(lambda: len(scans) > before, what="a scan while the polls hang")
    finally:
        release.set()


def test_a_cron_source_runs_however_late_its_tick_comes(site):
    """A cron source's tick is its only one: missed by more than a minute (the machine
    asleep, the threads busy), the source waited a whole period though the store had it
    due. An interval source ticks every minute at most: a late tick is dropped."""
    site.write_config(
        '\n[[sources]]\nname = "hourly"\nkind = "feed"\nurl = "https://a.example/f.xml"\n'
        'cron = "30 * * * *"\n'
        '\n[[sources]]\nname = "often"\nkind = "feed"\nurl = "https://b.example/f.xml"\n'
        "interval = 600\n"
    )
    specs = {s.name: s for s in schedule.job_table(site.config())}
    assert (specs["poll:hourly"].grace, specs["poll:hourly"].executor) == (None, schedule.POLLS)
    assert (specs["poll:often"].grace, specs["poll:often"].executor) == (60, schedule.POLLS)
    assert specs["scan"].executor == "default"


def test_a_reload_while_a_job_runs_runs_it_again_with_the_new_table(make_scheduler):
    """APScheduler skips a run due while one is under way: a reload landing during a
    scan ("every job runs at once with the new config") waited for the next tick."""
    started = threading.Event()
    release = threading.Event()
    seen: list[str] = []

    def slow(ctx: JobContext, now: datetime) -> str:
        seen.append(ctx.cfg.site.title)
        started.set()
        release.wait(10)
        return "done"

    hourly = JobSpec("scan", trigger_for(every=3600), slow)
    sched = make_scheduler([hourly])
    assert started.wait(10), "the job did not start"
    sched.ctx.cfg = dataclasses.replace(
        sched.ctx.cfg, site=dataclasses.replace(sched.ctx.cfg.site, title="Reloaded")
    )
    sched.load([hourly])  # the reload's new table, while the scan runs
    release.set()
    wait_for(lambda: len(seen) == 2, what="the run with the new config")
    assert seen[1] == "Reloaded"
