"""The machine misbehaving under a running ``scofeed run`` (docs/operations.md, "When the
machine misbehaves"): a full disk, a store locked or damaged, folders that cannot be
read. Each failure is one log line naming the path and the reason, shows in /healthz,
never stops the daemon, and leaves what was published as it was. Real daemon
subprocesses, real files, real SQLite.

Permissions: root reads and writes whatever the modes say, so as root the daemon runs
under ``setpriv`` without the capabilities that let it (``CAP_DAC_OVERRIDE``,
``CAP_DAC_READ_SEARCH``); as any other user the modes apply as they are."""

from __future__ import annotations

import os
import resource
import shutil
import sqlite3
from pathlib import Path

import pytest

import test_daemon
from conftest import free_port
from scofeed.store import Store, runs

start = test_daemon.start
wait_for = test_daemon.wait_for

RELEASE = "Statement number {n}\n\nOn {day} May 2021 the Secretary-General spoke. {body}\n"


def modes_apply() -> list[str]:
    """The command prefix under which file modes bind the daemon (see the docstring)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file modes would not apply")
    drop = "-dac_override,-dac_read_search,-fowner"
    return [setpriv, f"--bounding-set={drop}", "--inh-caps=-all", "--"]


def failing(d: test_daemon.Running) -> dict | None:
    r = d.get("/healthz")
    doc = r.json()
    return doc if r.status_code == 503 and doc["status"] == "failing" else None


def test_a_full_disk_fails_the_scan_in_one_line_naming_the_store(start, site):
    """A file-size limit makes every write past it fail (EFBIG; Python ignores
    SIGXFSZ), as a full disk does. The scan's transaction cannot commit: /healthz says
    so even though the store cannot record it, the log says which file, the feeds
    already published stay, and the daemon stops cleanly."""
    limit = 1_500_000

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    d = start(preexec=small_disk)
    before = d.get("/atom.xml").content
    body = "The Secretariat spoke about cooperation and trade. " * 2000  # ~100 KB each
    for n in range(30):
        text = RELEASE.format(n=n, day=1 + n % 28, body=body)
        (site.sources / f"big{n}.txt").write_text(text, encoding="utf-8")
    doc = wait_for(lambda: failing(d), timeout=30, what="/healthz to say the scan failed")
    state = str(site.config().paths.state)
    assert doc["last_scan"]["error"].startswith(state + ": "), doc["last_scan"]
    log = d.log()
    assert f"scan_failed error='{state}: " in log
    assert "Traceback" not in log and "OperationalError" not in log
    assert d.get("/atom.xml").content == before  # the published feed is untouched
    assert d.proc.poll() is None and d.stop() == 0


def test_a_run_the_store_cannot_take_is_held_for_health(tmp_path):
    """Another process holding the store's write lock past the busy timeout: the run
    is not lost, get() and all_runs() give it until a record lands."""
    store = Store(tmp_path / "state.sqlite3")
    ok = runs.record(store.db, runs.Run("scan", 1.0, 2.0, True, "found=1"))
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    impatient = sqlite3.connect(store.path, timeout=0, isolation_level=None)
    failed = runs.Run("scan", 3.0, 4.0, False, "", "database is locked")
    with pytest.raises(sqlite3.OperationalError):
        runs.record(impatient, failed)
    held = runs.get(store.db, "scan")
    assert held is not None and not held.ok and held.error == "database is locked"
    assert held.last_ok == ok.finished and held.failures == 1
    assert [r.name for r in runs.all_runs(store.db) if not r.ok] == ["scan"]
    holder.execute("ROLLBACK")
    again = runs.record(impatient, runs.Run("scan", 5.0, 6.0, True, "found=1"))
    assert runs.get(store.db, "scan") == again and runs.all_runs(store.db) == [again]
    for conn in (holder, impatient):
        conn.close()
    store.close()


def damage(path: Path, how: str) -> None:
    if how == "overwritten":  # its header no longer says SQLite
        with open(path, "r+b") as fh:
            fh.write(b"this is not a database any more, sorry")
    else:  # cut short, as a copy that ran out of room
        os.truncate(path, path.stat().st_size // 2)


@pytest.mark.parametrize("how", ["overwritten", "truncated"])
def test_a_damaged_store_stops_the_start_with_exit_2_and_is_left_alone(site, how):
    """exit 2: the systemd unit does not restart on it (a restart cannot repair a
    file); the message names the file and what to do, and nothing is written to it."""
    assert test_daemon.cli(site, "build").returncode == 0
    state = site.config().paths.state
    damage(state, how)
    before = state.read_bytes()
    run = test_daemon.cli(site, "run", "--port", str(free_port()))
    assert run.returncode == 2, run.stderr
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"scofeed: {state}: the state store is damaged (")
    assert "Restore it from a backup" in line
    assert state.read_bytes() == before
    assert test_daemon.cli(site, "status").returncode == 2


def test_a_store_from_a_newer_scofeed_stops_the_start_with_exit_2(site):
    assert test_daemon.cli(site, "build").returncode == 0
    state = site.config().paths.state
    db = sqlite3.connect(state)
    db.execute("PRAGMA user_version = 999")
    db.close()
    run = test_daemon.cli(site, "run", "--port", str(free_port()))
    assert run.returncode == 2
    assert f"{state}: schema version 999 is newer than this scofeed" in run.stderr
