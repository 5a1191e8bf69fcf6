"""Memory running out (a virtual-memory limit: ``ulimit -v``, ``prlimit --as``, systemd
``MemoryMax=``) is one line saying so, naming the file being read when there is one:
exit 1 for a one-shot command, a failed job for the daemon, which stays up. What was
published stays whole, and nothing is quarantined for it: the machine ran short, not the
file. Real subprocesses under real limits (``RLIMIT_AS``), real files."""

from __future__ import annotations

import json
import logging
import os
import resource
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from lxml import etree

import test_daemon
from conftest import Site
from scofeed.build import build as build_feeds
from scofeed.deliver.runner import StoreTrouble
from scofeed.errors import OutOfMemory
from scofeed.serve import App, HttpServer
from scofeed.serve import app as app_module
from scofeed.store import Store
from test_daemon import SEED_TITLE

start = test_daemon.start
wait_for = test_daemon.wait_for

MB = 1 << 20
OUT_OF_MEMORY = "scofeed: memory ran out"

# Run the CLI with the address space limited to what the process maps once the command's
# modules are loaded plus argv[1] MB: the limit bites inside the command, at a point
# that does not depend on how much this machine's libraries take.
LIMITED = """
import importlib, resource, sys
for name in ("scofeed.cli.build", "scofeed.build", "scofeed.publish", "lxml.etree",
             "feedgen.feed", "sqlite3", "logging"):
    importlib.import_module(name)
mapped = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
              if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (mapped + (int(sys.argv[1]) << 20), resource.RLIM_INFINITY))
from scofeed.cli import main
sys.exit(main(sys.argv[2:]))
"""

# a release of ~1.7 MB (under limits.max_file_bytes): Cyrillic, so its text takes two
# bytes a character in memory, and normalising it a few copies of that
BIG = (
    "Генеральный секретарь ШОС провёл встречу\n\n12 мая 2023 года. "
    + ("Генеральный секретарь ШОС встретился с послами государств-членов. " * 20 + "\n\n") * 700
)


def published(site: Site) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(site.feeds.rglob("*")) if p.is_file()}


def whole(site: Site, before: dict[str, bytes]) -> None:
    """Every feed published before is still there, whole (written or not since), and
    still lists the seed release."""
    now = published(site)
    for path in before:
        data = now[path]
        if path.endswith(".json"):
            json.loads(data)
        else:
            etree.fromstring(data)  # cut short, it would not parse
    assert SEED_TITLE.encode() in now[str(site.feeds / "atom.xml")]


def cli(site: Site, *args: str, limit: int | None = None, margin: int | None = None):
    """``scofeed --config <site's> ARGS``; ``limit``: its address space in MB from the
    start; ``margin``: MB above what it maps once loaded (``LIMITED``)."""

    def limited() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit * MB, resource.RLIM_INFINITY))

    head = [sys.executable, "-c", LIMITED, str(margin)] if margin is not None else [
        sys.executable, "-m", "scofeed",
    ]  # fmt: skip
    return subprocess.run(
        [*head, "--config", str(site.config_path), *args],
        capture_output=True,
        text=True,
        cwd=site.root,
        timeout=120,
        preexec_fn=limited,
    )


def test_a_build_short_of_memory_anywhere_is_one_line_and_exit_1(site):
    """``scofeed build`` under ever larger limits, from the least a bare interpreter
    starts in: memory ran out while its modules loaded (a MemoryError, or a library that
    could not be mapped: an ImportError), while it worked (a MemoryError), or as it
    started its feed writers (a thread gets no stack: RuntimeError). Each was a
    traceback (exit 1 or 120); each is one line, exit 1, and the feeds published
    before are as they were."""
    assert cli(site, "build").returncode == 0
    before = published(site)
    (site.sources / "big.txt").write_text(BIG, encoding="utf-8")
    bare = next(
        mb
        for mb in range(8, 200, 2)
        if subprocess.run(
            [sys.executable, "-c", "pass"],
            preexec_fn=lambda mb=mb: resource.setrlimit(resource.RLIMIT_AS, (mb * MB, -1)),
            capture_output=True,
        ).returncode
        == 0
    )
    failures = 0
    for mb in range(bare + 4, bare + 400, 6):
        proc = cli(site, "build", limit=mb)
        if proc.returncode == 0:
            break  # enough: it built
        if proc.stderr.startswith("Fatal Python error: pycore_"):
            # the interpreter itself did not start (its memory layout varies from run to
            # run: a limit "pass" started in may fail the next start): no code ran
            continue
        failures += 1
        assert "Traceback" not in proc.stderr, (mb, proc.stderr)
        assert proc.returncode == 1, (mb, proc.stderr)
        assert proc.stderr.startswith(OUT_OF_MEMORY) and proc.stderr.count("\n") == 1, proc.stderr
        whole(site, before)  # some may be written already, each in full (a rename)
    else:
        raise AssertionError("no limit was enough to build")
    assert failures, "no limit was low enough to fail: the test tested nothing"


def test_memory_running_out_on_a_file_names_it_and_quarantines_nothing(site):
    """A MemoryError while a file was read quarantined it as "too large to process":
    a good release stayed out of the feeds until its file was edited, whatever memory
    the next build had. Now the build stops naming the file, and the next build with
    memory enough publishes it."""
    assert cli(site, "build").returncode == 0
    before = published(site)
    (site.sources / "big.txt").write_text(BIG, encoding="utf-8")
    proc = cli(site, "build", margin=4)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"{OUT_OF_MEMORY} while reading big.txt (MemoryError); ")
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert published(site) == before  # it stopped before any was written
    done = cli(site, "build")
    assert done.returncode == 0 and "new=1" in done.stdout and "rejected=0" in done.stdout
    assert "Генеральный секретарь ШОС провёл встречу" in (site.feeds / "atom.xml").read_text(
        encoding="utf-8"
    )


def mapped(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    return next(int(line.split()[1]) * 1024 for line in status.splitlines() if "VmSize:" in line)


def test_the_daemon_short_of_memory_fails_the_scan_in_one_line_and_stays_up(
    start, site, monkeypatch
):
    """The running daemon's address space limited to what it maps already (a tighter
    ``MemoryMax=``), then a large release dropped in: its scan failed with a traceback
    (``job_crashed``). Now it is the job's one line, the feeds stay whole, the daemon
    stays up, and once memory is back the release is published. One malloc arena:
    each thread's own reserves 64 MB of address space up front, in which the scan's
    thread would find room under any limit set after it."""
    monkeypatch.setenv("MALLOC_ARENA_MAX", "1")
    d = start()
    before = published(site)
    pid = d.proc.pid
    _soft, hard = resource.prlimit(pid, resource.RLIMIT_AS)
    resource.prlimit(pid, resource.RLIMIT_AS, (mapped(pid) + 2 * MB, hard))
    try:
        (site.sources / ".big.tmp").write_text(BIG, encoding="utf-8")
        os.rename(site.sources / ".big.tmp", site.sources / "big.txt")
        wait_for(lambda: "scan_failed" in d.log(), timeout=30, what="the scan to fail")
    finally:
        resource.prlimit(pid, resource.RLIMIT_AS, (hard, hard))
        whole(site, before)
    log = d.log()
    # reading the file (naming it), starting a thread to time it or the feed writers:
    # the limit bites where it bites
    assert "scan_failed error='memory ran out " in log
    assert "Traceback" not in log and "job_crashed" not in log
    assert d.proc.poll() is None
    wait_for(lambda: "scan_recovered" in d.log(), timeout=30, what="the scan to recover")
    after = d.get("/atom.xml").content
    assert "Генеральный секретарь ШОС провёл встречу".encode() in after
    assert d.stop() == 0


def test_a_sender_worker_short_of_memory_is_its_job_s_one_line(site):
    """A webhook, WebSub or ActivityPub worker meeting memory that ran out logged it
    with its traceback (``delivery_worker_failed``), each worker at each tick: it is
    the machine's trouble, as a full disk is, noted and raised by the job in one line
    (said once while it lasts). A bug is still the caller's to log in full."""
    store = site.store()
    trouble = StoreTrouble("delivery_worker")
    assert trouble.caught(store, MemoryError(), "endpoint=hook")
    with pytest.raises(OutOfMemory, match=r"^memory ran out \(MemoryError\); "):
        trouble.check(tried=True)
    thread = RuntimeError("can't start new thread")
    assert trouble.caught(store, thread, "endpoint=hook")
    with pytest.raises(OutOfMemory, match=r"^memory ran out \(cannot start a thread\); "):
        trouble.check(tried=True)
    assert not trouble.caught(store, ValueError("a bug"), "endpoint=hook")


# a script's line after which no thread can start: no room for one more thread's stack
# (8 MB) in its address space
NO_THREAD_TO_SPARE = """
mapped = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
              if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (mapped + (1 << 20), resource.RLIM_INFINITY))"""


def short_of_threads(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """``script`` (``{no_thread_to_spare}`` where its threads run short) run in its own
    process with ``tmp_path`` as its argument: what it printed, and no traceback."""
    done = subprocess.run(
        [sys.executable, "-c", script.format(no_thread_to_spare=NO_THREAD_TO_SPARE), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MALLOC_ARENA_MAX": "1"},  # one malloc arena: its room is known
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


WATCHED = """
import os, pathlib, resource, sys, threading, time
from scofeed.watch import SourceWatcher
root = pathlib.Path(sys.argv[1])
fired = threading.Event()
watcher = SourceWatcher(root, fired.set, debounce=0.05)
watcher.start()
# no room for one more thread's stack: its debounce timer cannot start{no_thread_to_spare}
(root / "new.txt").write_text("x")
print("fired" if fired.wait(10) else "not fired", flush=True)
os._exit(0)
"""


def test_the_watch_with_no_thread_to_spare_still_asks_for_a_scan(tmp_path):
    """A change in sources/ while memory is short: the watch's debounce timer could not
    start its thread, and the "can't start new thread" killed the watch's own thread
    with a traceback; quick pickup was gone for good (its emitter still alive, so it
    was never re-armed). The change now asks for the scan at once instead."""
    done = short_of_threads(WATCHED, tmp_path)
    assert done.stdout == "fired\n", (done.stdout, done.stderr)


SOURCES_MADE = """
import logging, os, pathlib, resource, sys
logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
logging.getLogger("scofeed.watch").setLevel(logging.DEBUG)  # its tries said again too
from scofeed.watch import SourceWatcher
root = pathlib.Path(sys.argv[1]) / "sources"
watcher = SourceWatcher(root, lambda: None, debounce=0.05)
watcher.start()  # no sources/ yet: nothing to watch
# no room for one more thread's stack: the watch's threads cannot start{no_thread_to_spare}
root.mkdir()
for _ in range(3):
    watcher.ensure()  # the daemon's every 5 s
print("done", flush=True)
os._exit(0)
"""


def test_a_watch_armed_with_no_thread_to_spare_falls_back_to_the_interval_scan(tmp_path):
    """sources/ made (or replaced) while memory is short: arming the watch on it could
    start no thread, and the "can't start new thread" ended the daemon's loop, which
    calls ``ensure`` every 5 s, with a traceback. It is one line, the interval scan
    the fallback, and no new try at every tick while memory stays short."""
    done = short_of_threads(SOURCES_MADE, tmp_path)
    assert done.stdout == "done\n", (done.stdout, done.stderr)
    assert done.stderr.splitlines() == [
        f"WARNING watch_unavailable path={tmp_path / 'sources'} "
        'error="can\'t start new thread" fallback=interval'
    ]


def test_a_request_short_of_memory_is_a_503_and_one_line(site, caplog, monkeypatch):
    """A request that met memory running out was a 500 and a traceback each, a flood of
    them while memory was short: it is a 503 to come back to (Retry-After), and one line
    a minute with a count. (The real server on 127.0.0.1; the store's read runs out as
    an allocation would: a process cannot run this short and go on serving a test.)"""
    cfg = site.config()
    store = Store(cfg.paths.state)
    build_feeds(cfg, store, datetime(2026, 3, 1, tzinfo=UTC))
    server = HttpServer(App(lambda: cfg, store), "127.0.0.1", 0)
    server.start()
    host, port = server.addresses[0]

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(app_module.runs, "all_runs", no_memory)
    try:
        with caplog.at_level(logging.ERROR, logger="scofeed.serve"):
            answers = [requests.get(f"http://{host}:{port}/healthz", timeout=10) for _ in range(3)]
        assert [a.status_code for a in answers] == [503, 503, 503]
        assert answers[0].headers["Retry-After"] == "30"
        assert answers[0].text == "out of memory: try again shortly\n"
        assert requests.get(f"http://{host}:{port}/atom.xml", timeout=10).status_code == 200
    finally:
        server.stop()
        store.close()
    lines = [r for r in caplog.records if r.name.startswith("scofeed.serve")]
    assert len(lines) == 1 and lines[0].exc_info is None  # held back, no traceback
    assert "memory ran out (MemoryError)" in lines[0].getMessage()
