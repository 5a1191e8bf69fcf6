"""`scofeed run` as a real subprocess on a free port with a temporary config."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest
import requests
from standardwebhooks import Webhook

import forkserver
from conftest import SECRET, Site, free_port, held_port, modes_apply, run_cli, webhook_toml
from scofeed.daemon import Daemon, clock_behind_store
from scofeed.store import Store, runs
from scofeed.store.lock import lock_path

SEED_TITLE = "SCO Secretary-General meets with Jingdong vice-president"


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    site: Site
    out: Path
    err: Path

    def get(self, path: str, **headers: str) -> requests.Response:
        sent = {k.replace("_", "-"): v for k, v in headers.items()}
        return requests.get(f"http://127.0.0.1:{self.port}{path}", headers=sent, timeout=5)

    def log(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def feed_titles(self) -> list[str]:
        return [e.title for e in feedparser.parse(self.get("/atom.xml").content).entries]


cli = run_cli  # the name the daemon tests have long used for it


@pytest.fixture
def start(site: Site) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def _start(
        scan_interval: int = 1,
        extra: str = "",
        limits: str = "",
        schedule: str = "",
        prefix: Sequence[str] = (),
        preexec: Callable[[], object] | None = None,
        ready: bool = True,
        fresh: bool = False,
    ) -> Running:
        """``prefix``: a command the daemon runs under (``setpriv ...``); ``preexec``:
        called in the child before it starts (a resource limit); ``ready``: wait for its
        first scan (False: return as soon as it is started); ``fresh``: a new interpreter
        that loads the daemon, not one forked from a process that has loaded it
        (``tests/forkserver.py``), for a test of what happens while it loads."""
        site.write_config(
            f"\n[schedule]\nscan_interval = {scan_interval}\n{schedule}"
            f'\n[log]\nlevel = "INFO"\n' + extra,
            limits=limits,
        )
        port = free_port()
        out, err = site.root / f"out-{port}.txt", site.root / f"err-{port}.txt"
        with open(out, "wb") as o, open(err, "wb") as e:
            proc = (subprocess.Popen if fresh else forkserver.Popen)(
                [*prefix, sys.executable, "-m", "scofeed", "--config", str(site.config_path)]
                + ["run", "--port", str(port)],
                preexec_fn=preexec,
                stdout=o,
                stderr=e,
                cwd=site.root,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        running = Running(proc, port, site, out, err)
        started.append(running)

        def answers() -> bool:
            assert proc.poll() is None, running.log()
            try:
                return running.get("/healthz").json()["status"] == "ok"
            except requests.ConnectionError:
                return False

        if ready:
            wait_for(answers, what="the daemon to answer /healthz after its first scan")
        return running

    yield _start
    for running in started:
        if running.proc.poll() is None:
            running.proc.kill()
            running.proc.wait(10)


def test_new_release_is_picked_up_at_once_and_sigterm_exits_0(start, site):
    # scan_interval = 60: only the file watcher can make the pickup below this quick
    d = start(scan_interval=60)
    first = d.get("/atom.xml")
    assert first.status_code == 200 and d.feed_titles() == [SEED_TITLE]
    assert d.get("/atom.xml", If_None_Match=first.headers["ETag"]).status_code == 304
    (site.sources / "new.txt").write_text(
        "Secretary-General receives new ambassador\n\n"
        "On 10 June 2020 the Secretary-General received the new ambassador.\n",
        encoding="utf-8",
    )
    wait_for(
        lambda: "Secretary-General receives new ambassador" in d.feed_titles(),
        timeout=15,
        what="the new release in /atom.xml",
    )
    again = d.get("/atom.xml", If_None_Match=first.headers["ETag"])
    assert again.status_code == 200 and again.headers["ETag"] != first.headers["ETag"]
    assert d.stop(signal.SIGTERM) == 0
    out = d.out.read_text()
    assert f"http://127.0.0.1:{d.port}/atom.xml" in out and "/feed.json" in out
    log = d.log()
    assert "scan found=2 new=1" in log and "stopping signal=SIGTERM" in log and "stopped" in log
    assert "Traceback" not in log


def test_a_second_daemon_on_the_same_store_is_refused(start, site):
    """Named by its lock, also on the first one's port (the server binds before the
    lock is taken: the port in use is not what to tell)."""
    d = start()
    for port in (free_port(), d.port):
        second = cli(site, "run", "--port", str(port))
        assert second.returncode == 1
        assert f"pid {d.proc.pid}" in second.stderr and "already running" in second.stderr
    assert d.proc.poll() is None
    assert d.stop() == 0
    # with the first one gone, the lock is free again and reload finds no daemon
    gone = cli(site, "reload")
    assert gone.returncode == 1 and "no scofeed daemon is running" in gone.stderr


def test_a_lock_file_removed_under_the_daemon_is_made_again(start, site):
    """``rm`` of the lock file while the daemon ran let a second daemon start on the same
    store, and ``status`` and ``reload`` found only that one, or none once it stopped.
    The daemon makes its lock file again within seconds, naming itself, and says so."""
    d = start()
    lock = lock_path(site.config().paths.state)
    lock.unlink()
    wait_for(lock.exists, timeout=15, what="the lock file made again")
    wait_for(lambda: lock.read_text().split()[:1] == [str(d.proc.pid)], what="the lock's pid")
    second = cli(site, "run", "--port", str(free_port()))
    assert second.returncode == 1 and f"pid {d.proc.pid}" in second.stderr
    assert f"pid {d.proc.pid}" in cli(site, "status").stdout
    assert "lock_file_made_again" in d.log()
    assert d.stop() == 0


def test_reload_says_when_the_daemon_kept_its_config_and_status_shows_it(start, site, monkeypatch):
    """The daemon reads the config in its own environment: a secret named by a variable
    only this shell has was refused by it (``reload_failed`` in its log) while ``scofeed
    reload`` said "reload sent", exit 0, and nothing else showed the daemon ran on its
    previous config. The command now waits for the daemon's word, and ``status`` and
    /healthz show a failed reload until one works (or the daemon restarts)."""
    monkeypatch.setenv("FOO_SECRET", SECRET)
    hook = webhook_toml("ok", "http://127.0.0.1:9/h", secret="env:FOO_SECRET")
    d = start(extra=hook)
    site.config_path.write_text(site.config_path.read_text().replace("FOO_SECRET", "BAR_SECRET"))
    monkeypatch.setenv("BAR_SECRET", SECRET)  # here, not where the daemon runs
    refused = cli(site, "reload")
    assert (refused.returncode, refused.stdout) == (1, ""), refused.stderr
    assert refused.stderr == (
        f"scofeed: the daemon (pid {d.proc.pid}) kept its previous config: webhooks[0].secret: "
        "environment variable BAR_SECRET is not set\n"
    )
    status = cli(site, "status").stdout
    assert "failing: job reload, its last run" in status and "BAR_SECRET" in status
    health = d.get("/healthz").json()
    assert health["jobs"]["reload"]["ok"] is False
    site.config_path.write_text(site.config_path.read_text().replace("BAR_SECRET", "FOO_SECRET"))
    taken = cli(site, "reload")
    assert taken.returncode == 0 and taken.stdout == (
        f"reloaded by scofeed daemon pid {d.proc.pid} (config={site.config_path})\n"
    )
    assert "failing:" not in cli(site, "status").stdout
    # a change only a restart applies: said where the command prints (it said only
    # "reloaded", the port kept without a word but the daemon's log's)
    site.config_path.write_text(site.config_path.read_text() + '\n[serve]\nhost = "127.0.0.2"\n')
    kept = cli(site, "reload")
    assert kept.returncode == 0 and kept.stdout == (
        f"reloaded by scofeed daemon pid {d.proc.pid} (config={site.config_path}; not applied "
        "until a restart: serve.host/serve.port)\n"
    )
    # from a shell without the daemon's variable: the daemon read it, and the command
    # says it could not (the note the docs promise had been lost)
    monkeypatch.delenv("FOO_SECRET")
    noted = cli(site, "reload")
    assert noted.returncode == 0 and noted.stdout.splitlines()[1:] == [
        "note: webhooks[0].secret: environment variable FOO_SECRET is not set here; the "
        "daemon reads it where it runs"
    ]
    assert d.stop() == 0


def test_webhook_forget_beside_a_daemon_says_to_reload_it(start, site):
    """`webhook forget` goes by config.toml; a daemon not reloaded since the endpoint
    left it still sends to it, and its deliveries came back: the command says so."""
    start(extra=webhook_toml("gone", "http://127.0.0.1:9/hook"))
    site.write_config('\n[schedule]\nscan_interval = 1\n\n[log]\nlevel = "INFO"\n')
    forgot = cli(site, "webhook", "forget", "gone")
    assert forgot.returncode == 0, forgot.stderr
    assert "a daemon runs on this store" in forgot.stderr and "scofeed reload" in forgot.stderr


def test_reload_says_where_to_look_when_the_daemon_never_answers(start, site):
    """A daemon that did not take the signal in time (stopped here) left the command's
    line cut short: "...which has not said whether it took the config; its log says"."""
    d = start()
    os.kill(d.proc.pid, signal.SIGSTOP)
    try:
        silent = cli(site, "--set", "limits.store_wait=1", "reload")
    finally:
        os.kill(d.proc.pid, signal.SIGCONT)
    assert (silent.returncode, silent.stdout) == (1, "")
    assert silent.stderr == (
        f"scofeed: reload sent to scofeed daemon pid {d.proc.pid}, which has not said within "
        "6 s whether it took the config (busy, or stopped); its log will say: a `reloaded` "
        "line, or `reload_failed` with the reason\n"
    )
    assert d.stop() == 0


def test_reload_applies_a_good_config_and_keeps_the_old_one_when_broken(start, site):
    d = start()
    good = site.config_path.read_text().replace("[site]\n", '[site]\ntitle = "Renamed feed"\n', 1)
    site.config_path.write_text(good)
    sent = cli(site, "reload")
    assert sent.returncode == 0 and f"pid {d.proc.pid}" in sent.stdout
    assert "note:" not in sent.stderr
    wait_for(
        lambda: feedparser.parse(d.get("/atom.xml").content).feed.get("title") == "Renamed feed",
        what="the reloaded title in /atom.xml",
    )
    # a --set is this shell's only: it said "reloaded", and the daemon never saw it
    told = cli(site, "--set", "site.title=Other", "reload")
    assert told.returncode == 0 and "note: --set is read here only" in told.stderr
    site.config_path.write_text(good.replace('title = "Renamed feed"', "title = 5"))
    refused = cli(site, "reload")  # the command checks the file before signalling
    assert refused.returncode == 2 and "site.title" in refused.stderr
    os.kill(d.proc.pid, signal.SIGHUP)  # the daemon itself must cope too
    wait_for(lambda: "reload_failed" in d.log(), what="the reload failure in the log")
    assert "site.title" in d.log()
    assert d.proc.poll() is None and d.get("/healthz").status_code == 200
    (site.sources / "after.txt").write_text(
        "Release after a broken reload\n\nOn 11 June 2020 work went on.\n", encoding="utf-8"
    )
    wait_for(
        lambda: "Release after a broken reload" in d.feed_titles(),
        what="scans to go on with the old config",
    )
    assert feedparser.parse(d.get("/atom.xml").content).feed.title == "Renamed feed"
    assert d.stop(signal.SIGINT) == 0  # Ctrl-C


def test_a_build_says_when_the_daemon_has_not_read_the_config_it_used(start, site):
    """A [tags] rule added, then `scofeed build` in place of `reload`: the build
    published the tag's feed, and the daemon's next scan, on its old config, deleted
    it. The build now says so."""
    d = start()
    time.sleep(1.1)  # the lock file says the daemon's start in whole seconds
    site.config_path.write_text(
        site.config_path.read_text().replace("[site]\n", '[site]\ntitle = "Renamed"\n', 1)
    )
    built = cli(site, "build")
    assert built.returncode == 0, built.stderr
    assert f"changed since the daemon (pid {d.proc.pid}) last read it" in built.stderr
    assert cli(site, "reload").returncode == 0  # it has read this one
    built = cli(site, "build")
    assert built.returncode == 0 and "changed since the daemon" not in built.stderr
    assert d.stop() == 0


def test_healthz_reflects_a_failing_scan(start, site):
    d = start()
    site.sources.rename(site.root / "sources-away")

    def failing() -> bool:
        r = d.get("/healthz")
        return r.status_code == 503 and r.json()["status"] == "failing"

    wait_for(failing, what="/healthz to answer 503")
    doc = d.get("/healthz").json()
    assert "sources folder does not exist" in doc["last_scan"]["error"]
    assert doc["entries"] == 1 and doc["last_scan"]["last_ok"] is not None
    assert d.get("/atom.xml").status_code == 200  # the last good feeds stay served
    # `scofeed status` says so too: its sources' table shows the last scan that worked
    said = cli(site, "status").stdout
    line = r"^failing: job scan, .*last at .*\(last ok .*\): .*sources folder does not exist"
    assert re.search(line, said, re.M), said
    (site.root / "sources-away").rename(site.sources)
    wait_for(lambda: d.get("/healthz").status_code == 200, what="/healthz to recover")
    assert "failing:" not in cli(site, "status").stdout
    assert d.proc.poll() is None and d.stop() == 0


def test_a_reload_that_fails_unexpectedly_keeps_the_running_config(site, caplog):
    """Not only a ConfigError: whatever a reload raises, the daemon keeps running."""
    import logging

    from scofeed.daemon import Daemon

    cfg = site.config()

    def broken():
        raise UnicodeDecodeError("utf-8", b"\\xff", 0, 1, "invalid start byte")

    daemon = Daemon(cfg, broken, schedule=False)
    with caplog.at_level(logging.ERROR):
        daemon.reload()
    assert daemon.cfg is cfg
    assert "reload_failed error=UnicodeDecodeError keeping=previous_config" in caplog.text


def test_idle_ticks_log_nothing_at_info(start):
    """Issue #9: an idle daemon at INFO stays quiet; its scans are still recorded
    (/healthz last_scan moves on), only at DEBUG in the log."""
    d = start(scan_interval=1)

    def last_scan() -> str:
        return str(d.get("/healthz").json()["last_scan"]["at"])

    first = last_scan()
    wait_for(lambda: last_scan() != first, what="a scan after the first one")
    quiet_from = d.log().count(" INFO ")
    seen = {last_scan()}
    wait_for(lambda: seen.add(last_scan()) or len(seen) >= 3, what="two more idle scans")
    assert d.get("/healthz").json()["last_scan"]["result"].startswith("found=1 new=0")
    assert d.log().count(" INFO ") == quiet_from, d.log()
    assert d.stop() == 0


def test_a_file_rejected_before_keeps_idle_ticks_quiet(start, site):
    """A rejected file stays rejected (and in every scan's summary) until it changes;
    a scan that only finds it so again is idle, not a line at INFO every tick."""
    (site.sources / "bad.txt").write_bytes(b"\x00\x01\x02 not text")
    d = start(scan_interval=1)
    wait_for(lambda: "rejected origin=bad.txt" in d.log(), what="the rejection in the log")

    def last_scan() -> str:
        return str(d.get("/healthz").json()["last_scan"]["at"])

    first = last_scan()
    wait_for(lambda: last_scan() != first, what="a scan after the one that rejected it")
    seen = {last_scan()}
    quiet_from = d.log().count(" INFO ")
    wait_for(lambda: seen.add(last_scan()) or len(seen) >= 3, what="two more scans")
    assert d.get("/healthz").json()["last_scan"]["result"].startswith("found=2 new=0")
    assert d.log().count(" INFO ") == quiet_from, d.log()
    assert d.stop() == 0


def test_withdraw_while_the_daemon_runs_reaches_its_feeds_pages_and_webhooks(
    start, site, receivers
):
    r = receivers([200])
    d = start(extra=webhook_toml("hub", r.url))
    wait_for(lambda: r.received, what="the seed's release.published")
    feed = feedparser.parse(d.get("/atom.xml").content)
    (entry,) = feed.entries
    slug = entry.id.rsplit("/", 1)[-1]
    assert d.get("/entries/" + slug).status_code == 200
    done = cli(site, "withdraw", slug, "--reason", "Published by mistake")
    assert done.returncode == 0 and f"withdrawn {entry.id}" in done.stdout, done.stderr
    wait_for(lambda: len(r.received) == 2, what="release.withdrawn at the receiver")
    got = r.received[1]
    doc = Webhook(SECRET).verify(got.body, got.headers)
    assert doc["type"] == "release.withdrawn" and doc["data"]["id"] == entry.id
    gone = d.get("/entries/" + slug)
    assert gone.status_code == 410 and "Published by mistake" in gone.text
    assert d.feed_titles() == []
    assert b"at:deleted-entry" in d.get("/atom.xml").content
    assert cli(site, "list").stdout == ""  # list shows published entries only
    assert d.stop() == 0
    assert "Traceback" not in d.log()


def webhook_block(site: Site) -> str:
    out = cli(site, "status").stdout
    return next(b for b in out.split("\n\n") if b.startswith("WEBHOOK"))


def test_a_receiver_down_for_a_while_gets_everything_in_order_once_back(start, site, receivers):
    # the daemon keeps retrying the oldest delivery while the others wait behind it,
    # `scofeed status` says so (not "active"), and once the receiver is back every
    # entry arrives, in order, each once
    port, held = held_port()  # nothing listens there yet: connection refused
    d = start(
        schedule="deliver_interval = 1\n",
        extra=webhook_toml("hub", f"http://127.0.0.1:{port}/hook", retry_schedule=[0] + [1] * 30),
    )
    for n, name in enumerate(("b", "c"), start=2):
        (site.sources / f"{name}.txt").write_text(
            f"Release {name}\n\nOn {n} May 2021 news {name}.\n", encoding="utf-8"
        )
        wait_for(lambda n=n: f"hub      {n} " in webhook_block(site), what=f"{n} pending")
    state = webhook_block(site)
    assert "retrying since" in state and ": connection refused, " in state, state
    r = receivers([200], port=port)
    held.close()
    wait_for(lambda: len(r.received) >= 3, what="the three deliveries")
    wait_for(lambda: webhook_block(site).rstrip().endswith("active"), what="hub active again")
    titles = [json.loads(g.body)["data"]["title"] for g in r.received]
    assert titles == [SEED_TITLE, "Release b", "Release c"]
    assert len({g.headers["webhook-id"] for g in r.received}) == 3
    assert d.stop() == 0
    assert "Traceback" not in d.log()


def test_ticks_while_an_endpoint_waits_for_a_retry_log_nothing_at_info(start, site, receivers):
    """An endpoint answering 500 waits for its retry with more deliveries queued behind
    it: the ticks in between hand nothing over and log at DEBUG only, so the INFO lines
    are the attempts themselves (and one ``deliver sending`` per attempt at most), not
    one line every ``deliver_interval`` while nothing is sent."""
    r = receivers([500])
    d = start(
        schedule="deliver_interval = 1\n",
        extra=webhook_toml("hub", r.url, retry_schedule=[0] + [3] * 30),
    )
    wait_for(lambda: r.received, what="the seed's first attempt")
    (site.sources / "b.txt").write_text(
        "Release b\n\nOn 2 May 2021 news b.\n", encoding="utf-8"
    )  # queued behind the seed's delivery, which is in back-off
    wait_for(lambda: "hub      2 " in webhook_block(site), what="2 pending")
    wait_for(lambda: len(r.received) >= 3, timeout=40, what="two retries of the seed")
    assert d.stop() == 0
    log = d.log()
    attempts = log.count(" delivery endpoint=hub ")
    sending = [line for line in log.splitlines() if " deliver sending " in line]
    assert attempts >= 3 and len(sending) <= attempts, log
    assert {json.loads(g.body)["data"]["title"] for g in r.received} == {SEED_TITLE}


def test_a_reload_keeps_the_sections_only_a_restart_applies(site, caplog):
    """serve and [activitypub] are set up at start (the socket; the key, routes and
    inbox): a reload keeps them and says so, rather than queue posts for an actor it
    does not serve (activitypub turned on) or stop posting while it still answers
    (turned off) with nothing in the log."""
    import logging

    from scofeed.daemon import Daemon

    cfg = site.config()
    daemon = Daemon(cfg, lambda: site.config(), schedule=False)
    site.write_config(
        '\n[serve]\nport = 9999\ntrusted_proxies = ["10.0.0.0/8"]\n'
        "\n[activitypub]\nenabled = true\n"
    )
    moved = site.config_path.read_text().replace("state/test.sqlite3", "state/moved.sqlite3")
    site.config_path.write_text(moved.replace("[tags]\n", "[tags]\nyouth = ['youth']\n"))
    with caplog.at_level(logging.WARNING):
        daemon.reload()
    # the other keys of the same edit are applied (a new paths.state refused them all)
    assert daemon.cfg.paths.state == cfg.paths.state and "youth" in daemon.cfg.tags
    assert "reload state_unchanged reason='restart to move the store'" in caplog.text
    # the address stays (the socket is bound); the rest of [serve] is read per request
    assert (daemon.cfg.serve.host, daemon.cfg.serve.port) == (cfg.serve.host, cfg.serve.port)
    assert daemon.cfg.serve.trusted_proxies == ("10.0.0.0/8",)
    assert daemon.cfg.activitypub == cfg.activitypub and not daemon.cfg.activitypub.enabled
    assert "reload serve_address_unchanged" in caplog.text
    assert "reload activitypub_unchanged reason='restart to apply [activitypub]'" in caplog.text
    # with ActivityPub served, a new site.base_url moves the feeds at once, the actor
    # only at a restart: it said nothing of that
    daemon.activitypub = object()  # type: ignore[assignment]  # as a daemon serving it
    caplog.clear()
    site.write_config()
    site.config_path.write_text(
        site.config_path.read_text().replace("http://127.0.0.1:8080/", "https://x.example/")
    )
    with caplog.at_level(logging.WARNING):
        daemon.reload()
    assert daemon.cfg.site.base_url == "https://x.example/"
    assert "the actor keeps its address until a restart" in caplog.text


def test_the_daemon_prunes_old_delivered_deliveries_at_start(start, site, receivers):
    """The `prune` job runs at start (then hourly): a delivery delivered over
    ``limits.delivered_days`` ago gives up its body; its record stays."""
    r = receivers([200])
    site.write_config(webhook_toml("hub", r.url))
    assert cli(site, "build").returncode == 0 and cli(site, "deliver").returncode == 0
    store = site.store()
    store.db.execute("UPDATE deliveries SET settled_at = settled_at - 100 * 86400")
    d = start(extra=webhook_toml("hub", r.url))
    wait_for(
        lambda: "prune pruned webhook_bodies=1 activitypub_deliveries=0 days=90" in d.log(),
        what="the prune job's line",
    )
    (body, status) = store.db.execute("SELECT body, status FROM deliveries").fetchone()
    assert (body, status) == (b"", "delivered")
    assert d.stop() == 0
    assert "Traceback" not in d.log() and len(r.received) == 1
    store.close()


def test_a_daemon_on_files_read_by_another_version_suggests_a_reread(start, site):
    assert cli(site, "build").returncode == 0
    with site.store().transaction() as db:  # as an older scofeed left it
        db.execute("UPDATE meta SET value = 'older' WHERE key = 'reading'")
    d = start()
    assert d.stop() == 0
    assert "reread_suggested reason='files read by another version; `scofeed build" in d.log()
    assert cli(site, "build", "--reread").returncode == 0
    d = start()
    assert d.stop() == 0
    assert "reread_suggested" not in d.log()


def test_the_serve_banner_names_how_to_reload_it(site):
    """``scofeed serve`` said "SIGHUP re-reads it", and `scofeed reload`, which the run
    banner names, answers "no scofeed daemon is running" for a serve (it holds no lock)."""
    site.write_config()
    port = free_port()
    out = site.root / "serve.out"
    with open(out, "wb") as o:
        proc = forkserver.Popen(
            [sys.executable, "-m", "scofeed", "--config", str(site.config_path)]
            + ["serve", "--port", str(port)],
            stdout=o,
            stderr=subprocess.DEVNULL,
            cwd=site.root,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        wait_for(lambda: "stop with" in out.read_text(), what="the serve banner")
        last = out.read_text().splitlines()[-1]
        assert last == (
            f"stop with Ctrl-C or SIGTERM; `kill -HUP {proc.pid}` re-reads the config "
            "(`scofeed reload` is for run)"
        )
    finally:
        proc.terminate()
        proc.wait(20)


def test_redeliver_names_the_daemon_that_sends_what_it_queued(start, site, receivers):
    """`redeliver` said "`scofeed deliver` sends them" while a daemon ran on the store,
    which sends them at its next round: it names who sends them, either way."""
    r = receivers([200] * 4)
    extra = webhook_toml("hub", r.url)
    site.write_config(extra)
    assert cli(site, "build").returncode == 0
    alone = cli(site, "redeliver", "--since", "2020-01-01")  # the seed is queued already
    assert alone.stdout == (
        "queued 0 deliveries; `scofeed deliver` sends them (no daemon runs on this store)\n"
    )
    d = start(schedule="deliver_interval = 2\n", extra=extra)
    wait_for(lambda: len(r.received) >= 1, what="the queued delivery")
    delivery = cli(site, "deliveries").stdout.split("\t")[0]
    again = cli(site, "redeliver", delivery)
    assert again.stdout == (
        f"queued 1 delivery again (same webhook-id); the daemon (pid {d.proc.pid}) sends "
        "them within schedule.deliver_interval (2 s)\n"
    )
    wait_for(lambda: len(r.received) >= 2, what="the delivery sent again by the daemon")
    assert d.stop() == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="root reloading another user's daemon")
def test_root_reloads_another_users_daemon_and_is_told_its_outcome(start, site):
    """operations.md: run as root on a site another user owns, `reload` still works.
    It signalled the daemon, which reloaded, then refused to read the outcome (the
    store is another user's) and said so, exit 2: every reload looked refused."""
    d = start()
    state = site.config().paths.state
    for path in state.parent.iterdir():  # the store as another user's, as root sees it
        os.chown(path, 65534, 65534)
    os.chown(state.parent, 65534, 65534)
    sent = cli(site, "reload")
    assert sent.returncode == 0 and f"reloaded by scofeed daemon pid {d.proc.pid}" in sent.stdout
    assert sent.stderr == "", sent.stderr


@pytest.mark.parametrize("way", ["a file in the way", "a folder it cannot enter"])
def test_a_reload_to_a_feeds_folder_it_cannot_write_keeps_the_previous_config(
    start, site, tmp_path, way
):
    """`run` refuses a feeds folder it cannot write at the start; a reload took one (a
    typo, a file in the way), said "reloaded", and every feed answered 404 from then;
    one under a folder it may not enter (Path.exists raises) stopped the daemon."""
    d = start(prefix=modes_apply())
    closed = tmp_path / "closed"
    if way == "a file in the way":
        (site.root / "blocker").write_text("a file, not a folder\n", encoding="utf-8")
        feeds = "blocker/feeds"
    else:
        (closed / "x").mkdir(parents=True)
        closed.chmod(0)
        feeds = f"{closed}/x/feeds"
    try:
        text = site.config_path.read_text()
        site.config_path.write_text(text.replace('feeds = "feeds"', f'feeds = "{feeds}"', 1))
        told = cli(site, "reload")
        assert told.returncode == 1, told.stdout + told.stderr
        assert "kept its previous config" in told.stderr
        assert d.proc.poll() is None and d.get("/atom.xml").status_code == 200
    finally:
        if closed.exists():
            closed.chmod(0o755)


def test_sigusr1_is_told_and_ignored_not_a_silent_death(start, site):
    """An operator's logrotate habit (``postrotate kill -USR1``, as for nginx) killed
    the daemon without a log line (exit 138); it is told and ignored."""
    d = start()
    os.kill(d.proc.pid, signal.SIGUSR1)
    wait_for(lambda: "signal_ignored signal=SIGUSR1" in d.log(), what="the ignored signal")
    assert d.proc.poll() is None and d.get("/healthz").status_code == 200


def test_a_clock_put_back_while_stopped_moves_the_stored_due_times(tmp_path):
    """A daemon run a day fast, stopped, its clock put right, started again: every due
    time it stored waited out the day (a failed delivery held every newer one to its
    endpoint). The store's last recorded run, a day ahead, tells the jump."""
    store = Store(tmp_path / "s.sqlite3")
    now = time.time()
    with store.transaction() as db:
        db.execute(
            "INSERT INTO sources (name, kind, next_poll) VALUES ('fast', 'feed', ?), "
            "('soon', 'feed', ?)",
            (now + 86_400 + 60, now + 30),
        )
        runs.record(db, runs.Run("scan", now + 86_400, now + 86_400, True, "entries=1"))
        # a job that has not run since: its record from the fast clock is the next ahead
        runs.record(db, runs.Run("prune", now + 85_800, now + 85_800, True, "pruned"))
    assert clock_behind_store(store) == 2
    due = dict(store.db.execute("SELECT name, next_poll FROM sources").fetchall())
    assert now + 50 < due["fast"] < now + 120
    assert now <= due["soon"] <= now + 30  # moved too, never before the clock
    # told once: no run stays ahead of the clock, so a later start (the scan run again,
    # the prune not) moves nothing a second time
    with store.transaction() as db:
        later = time.time()
        runs.record(db, runs.Run("scan", later, later, True, "entries=1"))
        db.execute("UPDATE sources SET next_poll = ? WHERE name = 'fast'", (later + 3600,))
    assert clock_behind_store(store) == 0
    assert store.db.execute("SELECT next_poll FROM sources WHERE name = 'fast'").fetchone()[
        0
    ] == pytest.approx(later + 3600)
    prune = runs.get(store.db, "prune")  # dated when the jump was made good, not a day on
    assert prune is not None and prune.finished < now + 3600
    with store.transaction() as db:  # a store whose runs are all in the past: untouched
        runs.record(db, runs.Run("scan", now - 10, now - 10, True, "entries=1"))
    assert clock_behind_store(store) == 0
    store.close()


def test_a_clock_put_back_while_running_is_not_told_again_at_the_next_start(site):
    """The jump seen while the daemon runs moved the due times back, but left the runs
    recorded ahead of the clock (a job not run since: prune): the next start told the
    jump again and moved every due time, right ones included, back to now."""
    cfg = site.config()
    store = Store(cfg.paths.state)
    now = time.time()
    with store.transaction() as db:
        db.execute("INSERT INTO sources (name, kind, next_poll) VALUES ('daily', 'feed', ?)",
                   (now + 86_400 + 3600,))  # fmt: skip
        runs.record(db, runs.Run("prune", now + 85_800, now + 85_800, True, "pruned"))
    stub = types.SimpleNamespace(cfg=cfg, scheduler=types.SimpleNamespace(load=lambda _t: None))
    # the clock went back a day since the last look (5 s ago by the monotonic clock)
    Daemon._check_clock(stub, (time.time() + 86_400, time.monotonic()))
    with store.transaction() as db:  # a Retry-After holds the source 20 h, on the right clock
        db.execute("UPDATE sources SET next_poll = ?", (time.time() + 72_000,))
    assert clock_behind_store(store) == 0
    left = store.db.execute("SELECT next_poll FROM sources").fetchone()[0] - time.time()
    assert left > 71_000
    store.close()
