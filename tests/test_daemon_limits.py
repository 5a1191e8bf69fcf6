"""The daemon under the limits of the machine it runs on: few file descriptors, a store
that cannot be written for a while (a full disk), held by an operator's shell. Real
daemon subprocesses, real SQLite, real receivers on 127.0.0.1 (docs/operations.md,
"When the machine misbehaves")."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import test_daemon
from conftest import Receiver, free_port, run_cli, webhook_toml
from scofeed.deliver import runner
from scofeed.errors import StoreError
from scofeed.store import Store
from test_daemon_trouble import LATER

start = test_daemon.start
wait_for = test_daemon.wait_for


@pytest.fixture
def small_disk() -> Iterator[Callable[[Path], Path]]:
    """``small_disk(folder)`` mounts an 8 MB tmpfs on ``folder`` (made empty), as a
    full disk needs a real filesystem to fill; unmounted at the end. Root only (the
    CI runs as root): skipped elsewhere, or where mounting is not allowed (a container
    without CAP_SYS_ADMIN)."""
    mounted: list[Path] = []

    def mount(folder: Path) -> Path:
        if os.geteuid() != 0 or shutil.which("mount") is None:
            pytest.skip("mounting a small tmpfs to fill needs root and mount(8)")
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(folder)],
            capture_output=True, text=True,
        )  # fmt: skip
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(folder)
        return folder

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> Path:
    """Fill the filesystem of ``folder`` to the last byte; returns the filler file."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 65536)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        try:  # what is left of the last block
            while True:
                f.write(b"\0")
        except OSError:
            pass
    return filler


def test_many_endpoints_under_a_low_open_files_limit_all_get_every_release(start, site):
    """70 endpoints, 64 open files (``ulimit -n 64``). Each delivery worker kept a store
    connection (two descriptors) for the rest of the daemon's life, and once they held
    them all no scan could open a file again: new releases were never published until
    a restart. And a worker that could not open the store left its endpoint taken for
    busy for good: it got nothing more, without a line in the log. Some attempts still
    fail for want of a descriptor now; they are tried again, and every endpoint gets
    both releases."""

    def few_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    receiver = Receiver([204])
    retry = [0] + [1] * 40
    hooks = "".join(
        webhook_toml(f"w{n}", f"{receiver.url}/w{n}", retry_schedule=retry) for n in range(70)
    )
    # not ready=True: /healthz may answer 500 while the workers hold every descriptor
    d = start(extra=hooks, schedule="deliver_interval = 1\n", preexec=few_files, ready=False)
    atom = site.feeds / "atom.xml"
    wait_for(atom.exists, what="the first build")
    (site.sources / "late.txt").write_text(LATER, encoding="utf-8")
    wait_for(lambda: "Statement written later" in atom.read_text(), what="the release published")

    def each_got_both() -> bool:
        with receiver.lock:
            paths = Counter(r.path for r in receiver.received)
        return len(paths) == 70 and min(paths.values()) >= 2

    wait_for(each_got_both, timeout=60, what="both releases at every endpoint")
    assert "Statement written later" in d.feed_titles()  # and served
    log = d.log()  # as few workers as the limit leaves room for: none went without
    assert "Too many open files" not in log and "unable to open database file" not in log
    assert d.stop() == 0


def test_a_full_disk_stops_the_deliveries_in_one_line_and_they_go_on_once_freed(
    start, site, small_disk
):
    """The store's disk full while a delivery waits for its retry. The workers met
    "database or disk is full" at each tick: each wrote a traceback, the deliver job
    and its record a line each (two lines and a traceback per endpoint every 5 s, onto
    the full disk), and /healthz said the deliver job was fine. Now the deliver job
    fails in /healthz with one line naming the store; the same failure again is not
    logged again; freed, the delivery goes out by itself and the job says it
    recovered."""
    state = small_disk(site.root / "state")
    receiver = Receiver([503, 204])
    hook = webhook_toml("partner", receiver.url, retry_schedule=[0] + [1] * 40)
    d = start(extra=hook, schedule="deliver_interval = 1\n")
    wait_for(lambda: receiver.received, what="the first attempt (503)")
    # the WAL emptied, so that the next write must grow it; then nothing left to grow in
    store = site.config().paths.state
    with sqlite3.connect(store) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    filler = fill(state)

    def deliver_job() -> dict:
        return dict(d.get("/healthz").json()["jobs"]["deliver"])

    full = f"{store}: database or disk is full"
    wait_for(lambda: deliver_job()["failures"] >= 3, what="three failed deliver ticks")
    assert deliver_job()["error"] == full and d.get("/healthz").status_code == 503
    log = d.log()
    assert log.count(f"deliver_failed error={full!r}") == 1, log
    assert "Traceback" not in log and "delivery_worker_failed" not in log
    assert log.count("job_record_failed job=deliver") <= 1
    filler.unlink()
    wait_for(lambda: len(receiver.received) == 2, what="the delivery once the disk has room")
    wait_for(lambda: deliver_job()["ok"], what="the deliver job ok again")
    assert "deliver_recovered failures=" in d.log()
    assert d.stop() == 0


def test_deliver_on_a_full_disk_says_so_in_one_line(site, small_disk):
    """``scofeed deliver`` (``run_due`` waiting for its workers) with the store's disk
    full: each worker's traceback, then a report of nothing sent and exit 0. Now the
    one line of the store's trouble (the CLI's exit 1), and the delivery waits."""
    state = small_disk(site.root / "state")
    receiver = Receiver([204])
    site.write_config(webhook_toml("partner", receiver.url))
    assert run_cli(site, "build").returncode == 0  # queues the seed's delivery
    cfg = site.config()
    store = Store(cfg.paths.state)
    try:
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the next write grows it
        fill(state)
        with pytest.raises(StoreError) as failed:
            runner.run_due(cfg, store)
        assert str(failed.value) == f"{cfg.paths.state}: database or disk is full"
    finally:
        store.close()
    assert receiver.received == []


def test_the_commands_that_read_work_on_a_full_disk_and_a_write_says_why_not(
    site, small_disk, tmp_path
):
    """The store's disk full with no daemon running (its -shm file gone with the last
    connection, and no room to make it again): ``status``, ``list`` and ``show``, what
    an operator runs to see what is wrong, failed with "cannot open the state store
    (disk I/O error)". They read it as it is now, and a command that must write, or
    the daemon, says the disk is full."""
    state = small_disk(site.root / "state")
    assert run_cli(site, "build").returncode == 0
    lock = state / "test.sqlite3.lock"
    lock.write_text("4242\n")  # a daemon's before, whose block it writes over at start
    fill(state)
    status = run_cli(site, "status")
    assert status.returncode == 0, status.stderr
    listed = run_cli(site, "list")
    assert listed.returncode == 0 and test_daemon.SEED_TITLE in listed.stdout, listed.stderr
    release = tmp_path / "release.txt"
    release.write_text(LATER, encoding="utf-8")
    add = run_cli(site, "add", str(release))
    assert add.returncode == 1
    assert add.stderr == (
        f"scofeed: {site.config().paths.state}: cannot write the state store "
        f"(no space left on the disk of {state})\n"
    )
    run = run_cli(site, "run", "--port", str(free_port()))  # "(disk I/O error)"
    assert (run.returncode, run.stderr) == (
        1,
        f"scofeed: {site.config().paths.state}: cannot open the state store "
        f"(no space left on the disk of {state})\n",
    )


def test_the_daemon_on_a_full_disk_does_not_start_in_one_line(site, small_disk):
    """It wrote its lock file on a full disk with a traceback (and under systemd,
    restarted into the same traceback)."""
    state = small_disk(site.root / "state")
    assert run_cli(site, "build").returncode == 0
    fill(state)
    run = run_cli(site, "run", "--port", str(free_port()))
    assert (run.returncode, run.stderr) == (
        1,
        f"scofeed: {site.config().paths.state}.lock: cannot write the daemon's lock file "
        "(No space left on device)\n",
    )


@pytest.mark.parametrize("files", [64, 32])
def test_more_clients_than_open_files_wait_without_a_line_each(start, site, files):
    """80 clients connect and wait under ``ulimit -n``: the server accepted until no
    descriptor was left, then each accept failed with "Too many open files" and was
    tried again at once, a traceback each time (400,000 lines and 50 MB in 10 s, the
    poll loop spinning a core). Now it accepts no more connections than the limit
    leaves room for, and when a descriptor is wanting all the same it stops accepting
    for a moment and says so once; the clients wait in the backlog, and once they go
    it answers."""

    def few_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    d = start(preexec=few_files)
    clients = [socket.create_connection(("127.0.0.1", d.port)) for _ in range(80)]
    try:
        time.sleep(3)  # what the log would fill with meanwhile
        log = d.log()
    finally:
        for c in clients:
            c.close()
    assert "accept() threw" not in log and "Traceback" not in log
    assert log.count("serve_accept_paused") <= 1
    assert len(log.splitlines()) < 100, log[-2000:]
    wait_for(lambda: d.get("/healthz").status_code == 200, what="an answer once they left")
    assert d.stop() == 0
