"""The daemon under the limits of the machine it runs on: few file descriptors, a store
that cannot be written for a while (a full disk), held by an operator's shell. Real
daemon subprocesses, real SQLite, real receivers on 127.0.0.1 (docs/operations.md,
"When the machine misbehaves")."""

from __future__ import annotations

import resource
from collections import Counter

import test_daemon
from conftest import Receiver, webhook_toml
from test_daemon_trouble import LATER

start = test_daemon.start
wait_for = test_daemon.wait_for


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
    assert d.stop() == 0
