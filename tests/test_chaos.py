"""Chaos (issue #13, point 8): ``scofeed build`` and the daemon (``scofeed run``), real
subprocesses, are killed with SIGKILL at random points while releases are added and
edited and a real webhook receiver on 127.0.0.1 answers. Then everything runs to
completion and the promises are checked:

- after every kill, every feed file is whole: it parses (lxml, feedparser, json), it is
  never a torn write;
- the store passes ``PRAGMA integrity_check``;
- no release got two entry ids, no feed lists an id twice;
- every (entry revision, endpoint) reached the receiver at least once, and every time the
  same (entry, endpoint, revision) came it carried the same ``webhook-id``;
- no process of a killed one is left behind (the build's workers die with it).

``SCOFEED_CHAOS_N`` sets the number of kills (4 by default, so ``make test`` stays
quick; the issue's figures came from hundreds). ``SCOFEED_CHAOS_SEED`` replays a run.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import feedparser
import pytest
from lxml import etree

import forkserver
from conftest import free_port, webhook_toml
from test_daemon import cli, wait_for

N = int(os.environ.get("SCOFEED_CHAOS_N", "4"))
BULK = 410  # past POOL_MIN_FILES: the first build prepares its files in worker processes


def release(n: int, edit: int = 0) -> str:
    day = 1 + n % 28
    body = f"On {day} May 2021 the Secretary-General held meeting number {n}."
    if edit:
        body += f" Revised statement {edit}."
    return f"Secretary-General meeting {n}\n\n{body}\n"


def whole_feeds(feeds: Path) -> None:
    """Every published file parses completely (a torn write would not)."""
    for path in sorted(feeds.glob("*")):
        if path.name.endswith(".json"):
            json.loads(path.read_bytes())
        elif path.suffix == ".xml":
            etree.fromstring(path.read_bytes())
            parsed = feedparser.parse(path.read_bytes())
            assert not parsed.bozo, (path, parsed.get("bozo_exception"))
            ids = [e.id for e in parsed.entries]
            assert len(ids) == len(set(ids)), f"{path.name} lists an entry twice"


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def working_in(root: Path) -> list[int]:
    """Live processes whose working directory is the site: every scofeed process of
    this test and its children (worker processes inherit the directory)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if os.readlink(f"/proc/{entry}/cwd") == str(root) and alive(int(entry)):
                found.append(int(entry))
        except OSError:
            continue
    return found


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


def launch(site, args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as err:
        return forkserver.Popen(
            [sys.executable, "-m", "scofeed", "--config", str(site.config_path), *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=site.root,
        )


@pytest.fixture
def reaped(site):
    """Whatever a failed run leaves behind in the site is killed at the end."""
    yield
    for pid in working_in(site.root):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def test_sigkill_at_random_points_loses_and_corrupts_nothing(site, receivers, reaped):
    seed = int(os.environ.get("SCOFEED_CHAOS_SEED", str(time.time_ns())))
    rng = random.Random(seed)
    hook = receivers([200])
    for f in site.sources.iterdir():
        f.unlink()
    site.write_config(
        '\n[schedule]\nscan_interval = 1\ndeliver_interval = 1\n\n[log]\nlevel = "INFO"\n'
        + webhook_toml("recv", hook.url, timeout=2, retry_schedule=[0, 1, 1, 1, 1, 1, 1, 1])
    )
    log = site.root / "chaos.log"
    written: dict[int, int] = {}  # release number -> edit number

    def write(n: int) -> None:
        tmp = site.sources / f".r{n}.tmp"
        tmp.write_text(release(n, written.get(n, 0)), encoding="utf-8")
        tmp.rename(site.sources / f"r{n}.txt")

    for n in range(BULK):
        write(n)
        written[n] = 0
    # first, a cold build killed while its worker processes are at work: they must die too
    workers_expected = min(os.cpu_count() or 1, 8) >= 2
    proc = launch(site, ["build"], log)
    workers = wait_for(lambda: children(proc.pid) or proc.poll() is not None, 20, "workers")
    time.sleep(rng.uniform(0, 0.05))
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    if workers_expected:
        assert workers is not True, "the cold build finished before its workers were seen"
    wait_for(lambda: not working_in(site.root), 10, "the cold build's workers to go")
    whole_feeds(site.feeds)
    kinds = ["cold build"]
    for round_ in range(N):
        kind = rng.choice(["build", "run"])
        kinds.append(kind)
        args = ["build"] if kind == "build" else ["run", "--port", str(free_port())]
        proc = launch(site, args, log)
        end = time.monotonic() + rng.uniform(0.05, 1.0 if kind == "build" else 2.5)
        while time.monotonic() < end and proc.poll() is None:
            if rng.random() < 0.3:  # the sources change while it works
                n = len(written) if rng.random() < 0.6 else rng.randrange(len(written))
                written[n] = written.get(n, -1) + 1
                write(n)
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        # nothing of it survives: workers and all (they may take a moment to notice)
        wait_for(lambda: not working_in(site.root), 10, f"round {round_}: leftovers")
        whole_feeds(site.feeds)

    # to completion: a clean build, then every due delivery, once the killed senders'
    # leases (2 x timeout + 1 s) have run out
    done = cli(site, "build")
    assert done.returncode == 0, done.stderr
    whole_feeds(site.feeds)

    def delivered_all() -> bool:
        cli(site, "deliver")
        db = sqlite3.connect(site.config().paths.state)
        try:
            return (
                db.execute(
                    "SELECT count(*) FROM deliveries WHERE status != 'delivered'"
                ).fetchone()[0]
                == 0
            )
        finally:
            db.close()

    wait_for(delivered_all, 60, "every delivery to be delivered")
    assert not working_in(site.root)

    db = sqlite3.connect(site.config().paths.state)
    try:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        # one entry per release, never two ids for the same one
        titles = db.execute("SELECT title FROM entries").fetchall()
        assert sorted(t for (t,) in titles) == sorted(
            f"Secretary-General meeting {n}" for n in written
        ), f"seed={seed}"
        origins = db.execute("SELECT origin, entry_id FROM entry_origins").fetchall()
        assert len({e for _, e in origins}) == len(written) == len(origins)
        expected = {(e, rev) for e, rev in db.execute("SELECT entry_id, revision FROM deliveries")}
        revisions = dict(db.execute("SELECT id, revision FROM entries").fetchall())
    finally:
        db.close()
    # every entry's current revision has its delivery
    assert set(revisions.items()) <= expected
    ids: dict[tuple[str, int], set[str]] = defaultdict(set)
    for r in hook.received:
        data = json.loads(r.body)["data"]
        ids[(data["id"], data["revision"])].add(r.headers["webhook-id"])
    assert expected <= set(ids), f"never delivered: {sorted(expected - set(ids))[:5]} seed={seed}"
    twice = {k: v for k, v in ids.items() if len(v) > 1}
    assert not twice, f"one delivery, several webhook-ids: {twice} seed={seed} kills={kinds}"
