"""``scofeed build`` while the daemon runs on the same store (issue #13, point 7): both
work. The build waits for the daemon's write transactions (SQLite busy timeout) and the
daemon for the build's; each release becomes one entry, each entry one delivery, sent
once with one webhook-id, whoever ingested it. Real daemon and build subprocesses."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections import Counter

import feedparser
from lxml import etree

import forkserver
import test_daemon
from conftest import webhook_toml

start = test_daemon.start
wait_for = test_daemon.wait_for


def release(n: int) -> str:
    return f"Press statement {n}\n\nOn {1 + n % 28} March 2022 the Secretariat said {n}.\n"


def test_build_while_the_daemon_runs(start, site, receivers):
    hook = receivers([200])
    for f in site.sources.iterdir():
        f.unlink()
    d = start(scan_interval=1, extra=webhook_toml("recv", hook.url))
    total = 0
    for wave in range(4):
        for n in range(total, total + 30):
            (site.sources / f"s{n}.txt").write_text(release(n), encoding="utf-8")
        total += 30
        # two builds at once, racing the daemon's watcher-triggered scan of the same files
        builds = [
            forkserver.Popen(
                [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "build"],
                cwd=site.root,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for b in builds:
            out, err = b.communicate(timeout=60)
            assert b.returncode == 0, (wave, out, err)
            assert "Traceback" not in err and "locked" not in err, err
    wait_for(lambda: len(hook.received) >= total, 30, f"{total} webhooks")
    wait_for(lambda: d.get("/healthz").json()["deliveries"]["delivered"] == total, what="all")
    assert d.stop(signal.SIGTERM) == 0
    assert "Traceback" not in d.log() and "database is locked" not in d.log()

    sent = Counter(json.loads(r.body)["data"]["id"] for r in hook.received)
    assert len(sent) == total and set(sent.values()) == {1}  # each entry once, no duplicate
    assert len({r.headers["webhook-id"] for r in hook.received}) == total
    db = sqlite3.connect(site.config().paths.state)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT count(*) FROM entries").fetchone() == (total,)
        assert db.execute("SELECT count(*) FROM deliveries").fetchone() == (total,)
    finally:
        db.close()
    atom = (site.feeds / "atom.xml").read_bytes()
    etree.fromstring(atom)
    ids = [e.id for e in feedparser.parse(atom).entries]
    assert len(ids) == len(set(ids)) == min(total, 50)
