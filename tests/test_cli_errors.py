"""What an operator's mistakes get from the CLI: one line on stderr naming what was
wrong, the README's exit code, no traceback. A real subprocess each."""

from __future__ import annotations

import subprocess
import sys

from conftest import SlowReceiver


def scofeed(site, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), *args],
        capture_output=True,
        text=True,
        cwd=site.root,
        timeout=120,
    )


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_add_of_an_address_urllib_cannot_read_is_refused_in_one_line(site):
    proc = scofeed(site, "add", "http://[::1/release.html")
    assert proc.returncode == 1
    assert one_line(proc) == "scofeed: http://[::1/release.html: not a valid address"


def test_add_of_a_page_redirecting_to_an_unreadable_address_is_refused(site):
    hop = b"HTTP/1.1 302 Found\r\nLocation: http://[::1/x\r\nConnection: close\r\n\r\n"
    server = SlowReceiver(hop, start=len(hop))  # all at once
    try:
        proc = scofeed(site, "add", server.url)
    finally:
        server.stop()
    assert proc.returncode == 1
    assert one_line(proc) == f"scofeed: {server.url}: redirect to an invalid address"
