"""SIGTERM against endpoints that hold the request (issue #13, points 6 and 10): a real
``scofeed run`` and real socket servers on 127.0.0.1, one that drips its answer a byte
a second and one that never answers. The daemon stops within its stop budget
(``schedule.stop_seconds``, docs/operations.md "Signals") plus start-up slack, exit 0,
and the cut-off delivery stays pending for the next start (same webhook-id)."""

from __future__ import annotations

import os
import signal
import sqlite3
import time

import pytest

import test_daemon
from conftest import SlowReceiver, webhook_toml
from scofeed.store.lock import running_pid

start = test_daemon.start
wait_for = test_daemon.wait_for

NEW = "Secretary-General meets the press\n\nOn 12 June 2020 the Secretary-General met the press.\n"
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.fixture
def slow_server():
    """``slow_server("drip")`` drips its answer a byte a second; "silent" never answers."""
    made: list[SlowReceiver] = []

    def make(mode: str) -> SlowReceiver:
        made.append(SlowReceiver(ANSWER, every=1.0, silent=mode == "silent"))
        return made[-1]

    yield make
    for s in made:
        s.stop()


def pending(site) -> list[tuple[str, str]]:
    db = sqlite3.connect(site.config().paths.state)
    try:
        return db.execute("SELECT webhook_id, status FROM deliveries").fetchall()
    finally:
        db.close()


@pytest.mark.parametrize(
    ("mode", "timeout", "budget"), [("drip", 2, None), ("drip", 120, 3), ("silent", 120, 3)]
)
def test_sigterm_with_a_held_request_stops_within_the_budget(
    start, site, slow_server, mode, timeout, budget
):
    """timeout 2: the attempt's own deadline cuts the drip inside the stop budget (the
    default, 20 s); timeout 120: the attempt outlives the budget (set to 3 s), and the
    daemon leaves it (the hard-exit path: ``stopped_with_work_running``, exit 0, the
    delivery pending)."""
    server = slow_server(mode)
    for f in site.sources.iterdir():
        f.unlink()
    d = start(
        scan_interval=60,
        extra=webhook_toml("slow", server.url, timeout=timeout),
        schedule=f"stop_seconds = {budget}\n" if budget else "",
    )
    (site.sources / "press.txt").write_text(NEW, encoding="utf-8")
    wait_for(lambda: server.requests == 1, what="the request to reach the slow endpoint")
    d.proc.send_signal(signal.SIGTERM)
    # the drip is cut at 2 s, and a budget of 3 s leaves the rest: 25 s leaves room for
    # a loaded machine, far below the attempt deadline of 120 s that a daemon without
    # the hard exit would wait out
    assert d.proc.wait(25) == 0, d.log()
    log = d.log()
    assert f"stopping signal=SIGTERM within={budget or 20}s" in log
    if timeout > (budget or 20):
        assert "stopped_with_work_running unfinished=" in log
    ((webhook_id, status),) = pending(site)
    assert status == "pending" and webhook_id.startswith("msg_")


@pytest.mark.parametrize("when", ["lock", "fork"])
@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_a_signal_the_moment_the_lock_names_the_daemon_is_acted_on(start, site, sig, when):
    """`scofeed reload` (and `systemctl reload`) signal the pid the lock names, which it
    names first thing; the handlers came after the store opened, the ActivityPub key
    was made and the server bound, so a SIGHUP or SIGTERM then killed the daemon with no
    word (exit 129 or 143). Now it is queued: a reload once up, or a clean stop. So is
    one sent while the command still loads ("fork": systemd's ExecReload signals the
    pid it forked, before any lock): a fresh interpreter, which has the command to load."""
    d = start(
        extra="[activitypub]\nenabled = true\nallow_private = true\n",
        ready=False,
        fresh=when == "fork",
    )
    if when == "fork":
        time.sleep(0.25)  # the interpreter is up; the command still loads (most of 1 s)
        os.kill(d.proc.pid, sig)
    else:
        state = site.config().paths.state
        deadline = time.monotonic() + 20
        while (pid := running_pid(state)) is None:  # the first moment it names one
            assert time.monotonic() < deadline and d.proc.poll() is None, d.log()
            time.sleep(0.001)
        assert pid == d.proc.pid
        os.kill(pid, sig)
    if sig == signal.SIGTERM:
        assert d.proc.wait(30) == 0, d.log()
        assert "stopping signal=SIGTERM" in d.log()
        return
    wait_for(lambda: "reloaded config=" in d.log(), what="the queued reload")
    assert d.proc.poll() is None
    assert d.stop() == 0
