"""Worker processes die with their parent (issue #13, finding 7): ``kill -9`` of the
process that owns the pool leaves no worker behind, and no worker holds the caller's
stdout open. Real processes; the task the workers run is a long sleep."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

SCRIPT = """
import sys, time
from scofeed.pool import worker_pool
pool = worker_pool(2)
futures = [pool.submit(time.sleep, 120) for _ in range(2)]
time.sleep(0.5)
print(" ".join(str(p) for p in pool._processes), flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_kill_9_of_the_parent_leaves_no_worker_and_frees_stdout():
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    workers = [int(p) for p in proc.stdout.readline().split()]
    assert len(workers) == 2 and all(alive(p) for p in workers)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    try:
        # EOF only once no process holds the pipe
        readable, _, _ = select.select([proc.stdout], [], [], 10)
        assert readable and proc.stdout.read() == b""
        for _ in range(100):
            if not any(alive(p) for p in workers):
                break
            time.sleep(0.05)
        assert not any(alive(p) for p in workers)
    finally:
        for p in workers:
            if alive(p):
                os.kill(p, signal.SIGKILL)
