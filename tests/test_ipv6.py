"""Binding to the IPv6 loopback (issue #13, point 10): ``[serve] host = "::1"`` works for
``scofeed run`` and ``scofeed serve``, real subprocesses answering over IPv6."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import feedparser
import pytest
import requests

import forkserver
from test_daemon import wait_for


def ipv6_port() -> tuple[int, socket.socket] | None:
    """A free port on ::1, and a socket holding the same number on 127.0.0.1 (bound, not
    listening): no other test's server can take it there, so a connection to it answered
    can only be scofeed's, listening on IPv4 when it should not be."""
    for _ in range(20):
        try:
            with socket.socket(socket.AF_INET6) as s:
                s.bind(("::1", 0))
                port = int(s.getsockname()[1])
        except OSError:
            return None
        held = socket.socket(socket.AF_INET)
        try:
            held.bind(("127.0.0.1", port))
        except OSError:  # another process has that number on IPv4: pick again
            held.close()
            continue
        return port, held
    return None


@pytest.mark.parametrize("command", ["run", "serve"])
def test_serve_host_ipv6_loopback(site, command):
    found = ipv6_port()
    if found is None:
        pytest.skip("this machine has no IPv6 loopback (::1)")
    port, held = found
    site.write_config(f'\n[serve]\nhost = "::1"\nport = {port}\n')
    if command == "serve":  # serve only reads the store: build it first
        assert (
            forkserver.run(
                [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "build"],
                cwd=site.root,
                capture_output=True,
            ).returncode
            == 0
        )
    out = site.root / "out.txt"
    with open(out, "wb") as o:
        proc = forkserver.Popen(
            [sys.executable, "-m", "scofeed", "--config", str(site.config_path), command],
            stdout=o,
            stderr=subprocess.DEVNULL,
            cwd=site.root,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    base = f"http://[::1]:{port}"
    try:

        def answers() -> bool:
            assert proc.poll() is None, out.read_text()
            try:
                return requests.get(f"{base}/atom.xml", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(answers, what=f"scofeed {command} to answer on [::1]")
        feed = requests.get(f"{base}/atom.xml", timeout=5)
        assert feed.status_code == 200
        assert len(feedparser.parse(feed.content).entries) == 1
        assert f"{base}/atom.xml" in out.read_text()  # the address it tells to subscribe to
        # and not on IPv4
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        held.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
