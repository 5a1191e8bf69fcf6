"""SIGTERM against endpoints that hold the request (issue #13, points 6 and 10): a real
``scofeed run`` and real socket servers on 127.0.0.1, one that drips its answer a byte
a second and one that never answers. The daemon stops within its stop budget (10 s,
docs/operations.md "Signals") plus start-up slack, exit 0, and the cut-off delivery
stays pending for the next start (same webhook-id)."""

from __future__ import annotations

import signal
import socket
import sqlite3
import threading

import pytest

import test_daemon
from conftest import webhook_toml

start = test_daemon.start
wait_for = test_daemon.wait_for

NEW = "Secretary-General meets the press\n\nOn 12 June 2020 the Secretary-General met the press.\n"
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class SlowServer:
    """Accepts connections, reads the request head, then either drips ``ANSWER`` one
    byte a second ("drip") or says nothing until the test ends ("silent")."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests = 0
        self.done = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(60)
            try:
                got = b""
                while b"\r\n\r\n" not in got:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    got += chunk
                self.requests += 1
                if self.mode == "silent":
                    self.done.wait(120)
                    return
                for byte in ANSWER:
                    if self.done.wait(1):
                        return
                    conn.sendall(bytes([byte]))
            except OSError:
                return

    def stop(self) -> None:
        self.done.set()
        self.sock.close()


@pytest.fixture
def slow_server():
    made: list[SlowServer] = []

    def make(mode: str) -> SlowServer:
        made.append(SlowServer(mode))
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


@pytest.mark.parametrize(("mode", "timeout"), [("drip", 2), ("drip", 120), ("silent", 120)])
def test_sigterm_with_a_held_request_stops_within_the_budget(
    start, site, slow_server, mode, timeout
):
    """timeout 2: the attempt's own deadline cuts the drip inside the stop budget;
    timeout 120: the attempt outlives the budget, and the daemon leaves it (the hard-exit
    path: ``stopped_with_work_running``, exit 0, the delivery pending)."""
    server = slow_server(mode)
    for f in site.sources.iterdir():
        f.unlink()
    d = start(scan_interval=60, extra=webhook_toml("slow", server.url, timeout=timeout))
    (site.sources / "press.txt").write_text(NEW, encoding="utf-8")
    wait_for(lambda: server.requests == 1, what="the request to reach the slow endpoint")
    d.proc.send_signal(signal.SIGTERM)
    # the budget is 10 s; 25 s leaves room for a loaded machine, far below the attempt
    # deadline of 120 s that a daemon without the hard exit would wait out
    assert d.proc.wait(25) == 0, d.log()
    log = d.log()
    assert "stopping signal=SIGTERM" in log
    if timeout > 10:
        assert "stopped_with_work_running unfinished=" in log
    ((webhook_id, status),) = pending(site)
    assert status == "pending" and webhook_id.startswith("msg_")
