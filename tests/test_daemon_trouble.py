"""The machine misbehaving under a running ``scofeed run`` (docs/operations.md, "When the
machine misbehaves"): a full disk, a store locked or damaged, folders that cannot be
read. Each failure is one log line naming the path and the reason, shows in /healthz,
never stops the daemon, and leaves what was published as it was. Real daemon
subprocesses, real files, real SQLite.

Permissions: root reads and writes whatever the modes say, so as root the daemon runs
under ``setpriv`` without the capabilities that let it (``CAP_DAC_OVERRIDE``,
``CAP_DAC_READ_SEARCH``); as any other user the modes apply as they are."""

from __future__ import annotations

import itertools
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import feedparser
import pytest
from werkzeug import Request, Response

import forkserver
import test_daemon
from conftest import free_port, modes_apply
from scofeed.store import Store, runs

start = test_daemon.start
wait_for = test_daemon.wait_for

RELEASE = "Statement number {n}\n\nOn {day} May 2021 the Secretary-General spoke. {body}\n"


def failing(d: test_daemon.Running) -> dict | None:
    r = d.get("/healthz")
    doc = r.json()
    return doc if r.status_code == 503 and doc["status"] == "failing" else None


def test_a_full_disk_fails_the_scan_in_one_line_naming_the_store(start, site):
    """A file-size limit makes every write past it fail (EFBIG; Python ignores
    SIGXFSZ), as a full disk does. The scan's transaction cannot commit: /healthz says
    so even though the store cannot record it, the log says which file, the feeds
    already published stay, and the daemon stops cleanly."""
    limit = 1_500_000

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    d = start(preexec=small_disk)
    before = d.get("/atom.xml").content
    body = "The Secretariat spoke about cooperation and trade. " * 2000  # ~100 KB each
    for n in range(30):
        text = RELEASE.format(n=n, day=1 + n % 28, body=body)
        (site.sources / f"big{n}.txt").write_text(text, encoding="utf-8")
    doc = wait_for(lambda: failing(d), timeout=30, what="/healthz to say the scan failed")
    state = str(site.config().paths.state)
    assert doc["last_scan"]["error"].startswith(state + ": "), doc["last_scan"]
    log = d.log()
    assert f"scan_failed error='{state}: " in log
    assert "Traceback" not in log and "OperationalError" not in log
    assert d.get("/atom.xml").content == before  # the published feed is untouched
    assert d.proc.poll() is None and d.stop() == 0


def test_a_run_the_store_cannot_take_is_held_for_health(tmp_path):
    """Another process holding the store's write lock past the busy timeout: the run
    is not lost, get() and all_runs() give it until a record lands."""
    store = Store(tmp_path / "state.sqlite3")
    ok = runs.record(store.db, runs.Run("scan", 1.0, 2.0, True, "found=1"))
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    impatient = sqlite3.connect(store.path, timeout=0, isolation_level=None)
    failed = runs.Run("scan", 3.0, 4.0, False, "", "database is locked")
    with pytest.raises(sqlite3.OperationalError):
        runs.record(impatient, failed)
    held = runs.get(store.db, "scan")
    assert held is not None and not held.ok and held.error == "database is locked"
    assert held.last_ok == ok.finished and held.failures == 1
    assert [r.name for r in runs.all_runs(store.db) if not r.ok] == ["scan"]
    holder.execute("ROLLBACK")
    again = runs.record(impatient, runs.Run("scan", 5.0, 6.0, True, "found=1"))
    assert runs.get(store.db, "scan") == again and runs.all_runs(store.db) == [again]
    for conn in (holder, impatient):
        conn.close()
    store.close()


def damage(path: Path, how: str) -> None:
    if how == "overwritten":  # its header no longer says SQLite
        with open(path, "r+b") as fh:
            fh.write(b"this is not a database any more, sorry")
    else:  # cut short, as a copy that ran out of room
        os.truncate(path, path.stat().st_size // 2)


@pytest.mark.parametrize("how", ["overwritten", "truncated"])
def test_a_damaged_store_stops_the_start_with_exit_2_and_is_left_alone(site, how):
    """exit 2: the systemd unit does not restart on it (a restart cannot repair a
    file); the message names the file and what to do, and nothing is written to it."""
    assert test_daemon.cli(site, "build").returncode == 0
    state = site.config().paths.state
    damage(state, how)
    before = state.read_bytes()
    run = test_daemon.cli(site, "run", "--port", str(free_port()))
    assert run.returncode == 2, run.stderr
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"scofeed: {state}: the state store is damaged (")
    assert "Restore it from a backup" in line
    assert state.read_bytes() == before
    assert test_daemon.cli(site, "status").returncode == 2


def damage_root_page(state: Path, table: str, overwrite: Callable[[bytes], bytes]) -> None:
    """The root page of ``table`` in the store at ``state`` (checkpointed into the file
    first) overwritten from its start with what ``overwrite`` makes of it."""
    db = sqlite3.connect(state)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    (size,) = db.execute("PRAGMA page_size").fetchone()
    db.close()
    with open(state, "r+b") as fh:
        fh.seek((root - 1) * size)
        page = fh.read(size)
        fh.seek((root - 1) * size)
        fh.write(overwrite(page))


def test_damage_found_in_the_middle_of_a_command_is_one_line_and_exit_2(site):
    """A store whose header and schema read well, but a table's page is damaged (a bad
    disk sector): the damage shows only when a command reads that page. `scofeed build`
    and `scofeed list` printed SQLite's traceback; they now say what the daemon's start
    says, naming the store, and exit 2."""
    assert test_daemon.cli(site, "build").returncode == 0
    state = site.config().paths.state
    damage_root_page(state, "entries", lambda page: b"\xff" * len(page))  # garbage
    (site.sources / "new.txt").write_text("New release\n\nOn 3 June 2020, news.\n", "utf-8")
    for command in ("build", "list"):
        run = test_daemon.cli(site, command)
        assert run.returncode == 2, run.stderr
        (line,) = run.stderr.splitlines()
        assert line.startswith(f"scofeed: {state}: the state store is damaged ("), line
        assert "Traceback" not in run.stderr


def test_damage_the_daemon_meets_as_it_starts_is_one_line_and_exit_2(site):
    """A damaged page of the meta table (read at start: the clock check, the job
    runs) made `scofeed run` print SQLite's traceback and exit 1, which systemd
    restarts: it says what every command says, exit 2."""
    assert test_daemon.cli(site, "build").returncode == 0
    state = site.config().paths.state
    # the page's type byte flipped: no b-tree page
    damage_root_page(state, "meta", lambda page: bytes([page[0] ^ 0xFF]))
    run = test_daemon.cli(site, "run", "--port", str(free_port()))
    assert run.returncode == 2, run.stderr
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"scofeed: {state}: the state store is damaged ("), line


def test_a_store_from_a_newer_scofeed_stops_the_start_with_exit_2(site):
    assert test_daemon.cli(site, "build").returncode == 0
    state = site.config().paths.state
    db = sqlite3.connect(state)
    db.execute("PRAGMA user_version = 999")
    db.close()
    run = test_daemon.cli(site, "run", "--port", str(free_port()))
    assert run.returncode == 2
    assert f"{state}: schema version 999 is newer than this scofeed" in run.stderr


SUB = "Statement from the folder\n\nOn 3 May 2021 the Secretariat met in the folder.\n"
LATER = "Statement written later\n\nOn 4 May 2021 the Secretariat met again.\n"


def test_an_unreadable_file_is_read_once_its_mode_is_fixed(start, site):
    """A chmod moves neither size nor mtime: the scan index alone kept the file
    rejected until it was edited."""
    d = start(prefix=modes_apply())
    tmp = site.sources / ".late.txt"
    tmp.write_text(LATER, encoding="utf-8")
    tmp.chmod(0)
    tmp.rename(site.sources / "late.txt")  # into place, already unreadable

    def rejected() -> bool:
        return any(
            e.get("origin") == "late.txt" and e["reason"] == "unreadable (Permission denied)"
            for e in d.get("/healthz").json()["last_errors"]
        )

    wait_for(rejected, what="the unreadable file among /healthz's last errors")
    (site.sources / "late.txt").chmod(0o644)
    wait_for(
        lambda: "Statement written later" in d.feed_titles(),
        timeout=30,
        what="the file in the feed once readable",
    )
    assert d.get("/healthz").json()["last_errors"] == []
    assert d.stop() == 0


def test_an_unreadable_folder_fails_the_scan_and_keeps_its_releases(start, site):
    (site.sources / "sub").mkdir()
    (site.sources / "sub" / "c.txt").write_text(SUB, encoding="utf-8")
    d = start(prefix=modes_apply())
    wait_for(lambda: "Statement from the folder" in d.feed_titles(), what="the folder's release")
    (site.sources / "sub").chmod(0)
    try:
        doc = wait_for(lambda: failing(d), timeout=30, what="/healthz to say the scan failed")
        folder = site.sources / "sub"
        assert doc["last_scan"]["error"] == (
            f"{folder}/: cannot read this folder (Permission denied); "
            "the releases in it stay as they were"
        )
        assert f"scan_failed error='{folder}/: cannot read this folder" in d.log()
        # the rest of sources/ is still scanned, and the folder's release stays published
        (site.sources / "later.txt").write_text(LATER, encoding="utf-8")
        wait_for(lambda: "Statement written later" in d.feed_titles(), what="a release beside")
        assert "Statement from the folder" in d.feed_titles()
    finally:
        (site.sources / "sub").chmod(0o755)
    wait_for(lambda: d.get("/healthz").status_code == 200, what="/healthz to recover")
    assert d.get("/healthz").json()["last_scan"]["result"].startswith("found=3 new=0 ")
    assert d.stop() == 0
    assert "rejected origin=" not in d.log() and "Traceback" not in d.log()


def test_an_unreadable_sources_folder_fails_the_scan_and_forgets_nothing(start, site):
    d = start(prefix=modes_apply())
    site.sources.chmod(0)
    try:
        doc = wait_for(lambda: failing(d), timeout=30, what="/healthz to say the scan failed")
        assert doc["last_scan"]["error"].startswith(
            f"{site.sources}/: cannot read this folder (Permission denied)"
        )
        assert doc["entries"] == 1 and d.get("/atom.xml").status_code == 200
    finally:
        site.sources.chmod(0o755)
    wait_for(lambda: d.get("/healthz").status_code == 200, what="/healthz to recover")
    # nothing was taken for gone, so nothing is read again
    assert d.get("/healthz").json()["last_scan"]["result"].startswith("found=1 new=0 ")
    assert d.stop() == 0


def test_cli_build_names_an_unreadable_folder_and_exits_1(site):
    (site.sources / "sub").mkdir()
    (site.sources / "sub" / "c.txt").write_text(SUB, encoding="utf-8")
    assert test_daemon.cli(site, "build").returncode == 0
    (site.sources / "sub").chmod(0)
    try:
        prefix = modes_apply()
        done = forkserver.run(
            [*prefix, sys.executable, "-m", "scofeed", "--config", str(site.config_path), "build"],
            capture_output=True, text=True, cwd=site.root, timeout=60,
        )  # fmt: skip
    finally:
        (site.sources / "sub").chmod(0o755)
    assert done.returncode == 1
    assert f"scofeed: {site.sources / 'sub'}/: cannot read this folder" in done.stderr
    assert "entries=2 " in done.stdout


TAGGED = "Statement on e-commerce\n\nOn 5 May 2021 the Secretariat discussed e-commerce.\n"


def titles(d: test_daemon.Running, path: str) -> list[str]:
    return [e.title for e in feedparser.parse(d.get(path).content).entries]


def test_a_feed_folder_that_cannot_be_written_holds_up_no_other_feed(start, site):
    d = start(prefix=modes_apply())
    (site.feeds / "en").chmod(0o555)
    try:
        (site.sources / "tagged.txt").write_text(TAGGED, encoding="utf-8")
        doc = wait_for(lambda: failing(d), timeout=30, what="/healthz to say the scan failed")
        # the feeds after it in the plan (tags, OPML) are written all the same
        assert "Statement on e-commerce" in titles(d, "/tags/economy/atom.xml")
        assert "Statement on e-commerce" in titles(d, "/atom.xml")
        assert "Statement on e-commerce" not in titles(d, "/en/atom.xml")
        assert doc["last_scan"]["error"].startswith(
            f"{site.feeds / 'en'}: cannot write (Permission denied); and "
        )
        assert doc["last_scan"]["error"].endswith(
            "(the releases are stored: entries=2 new=1 updated=0)"
        )
    finally:
        (site.feeds / "en").chmod(0o755)
    wait_for(lambda: d.get("/healthz").status_code == 200, what="/healthz to recover")
    assert "Statement on e-commerce" in titles(d, "/en/atom.xml")
    assert d.stop() == 0


def test_a_feed_folder_still_unwritable_as_releases_come_is_one_error_line(start, site):
    """The scan's error ends with the counts of what was stored ("entries=26 new=1"),
    which moved with each release that came: each was a new error, and an ERROR line,
    for one problem. The same failure with other counts is said once while it lasts."""
    d = start(prefix=modes_apply())
    (site.feeds / "en").chmod(0o555)
    try:
        for n in range(3):
            (site.sources / f"r{n}.txt").write_text(
                f"Statement number {n} on trade\n\nOn {n + 5} May 2021 the Secretariat "
                f"discussed trade, item {n}.\n",
                encoding="utf-8",
            )
            wait_for(
                lambda n=n: (
                    (doc := failing(d)) and f"entries={n + 2} " in doc["last_scan"]["error"]
                ),
                timeout=30,
                what=f"the scan to fail with release {n} stored",
            )
        log = d.log()
        assert log.count("ERROR scofeed.schedule: scan_failed") == 1, log
    finally:
        (site.feeds / "en").chmod(0o755)
    wait_for(lambda: d.get("/healthz").status_code == 200, what="/healthz to recover")
    assert d.stop() == 0


FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def test_the_wall_clock_going_back_does_not_stall_the_jobs(start, site, tmp_path, monkeypatch):
    """The scheduler's next run times are wall-clock times: an hour back, every job
    not woken by a file change (interval scans, polls, deliveries) waited an hour.
    libfaketime moves the daemon's wall clock (not its monotonic one) while it runs."""
    if not os.path.exists(FAKETIME):
        pytest.skip("libfaketime is not installed (apt-get install libfaketime)")
    offset = tmp_path / "faketime"
    offset.write_text("+0\n")
    monkeypatch.setenv("LD_PRELOAD", FAKETIME)
    monkeypatch.setenv("FAKETIME_TIMESTAMP_FILE", str(offset))
    # the offset file read again at most once a second: read at every clock call
    # (FAKETIME_NO_CACHE) made the daemon take 5-20 s to start, past the fixture's wait
    monkeypatch.setenv("FAKETIME_CACHE_DURATION", "1")
    monkeypatch.setenv("DONT_FAKE_MONOTONIC", "1")
    d = start(scan_interval=1)
    monkeypatch.delenv("LD_PRELOAD")  # the test's own commands keep the real clock

    def last_scan() -> str:
        return str(d.get("/healthz").json()["last_scan"]["at"])

    before = last_scan()
    offset.write_text("-1h\n")
    # the daemon looks at the clock every 5 s; a scan under way at the jump is dated
    # after it already, so the scans that count are those after the daemon saw it
    wait_for(lambda: "clock_went_back seconds=" in d.log(), timeout=30, what="the jump seen")
    assert "due_moved=" in d.log()
    seen = last_scan()
    wait_for(
        lambda: seen != last_scan() < before, timeout=30, what="a scan after the clock went back"
    )
    assert d.stop() == 0


def test_a_scan_held_up_writes_no_line_per_tick(start, site):
    """A store locked by another process for a few seconds (within the busy timeout):
    the scan waits and then goes on; the ticks that found it still running are no
    WARNING lines each."""
    d = start(scan_interval=1)
    holder = sqlite3.connect(site.config().paths.state, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        (site.sources / "late.txt").write_text(LATER, encoding="utf-8")
        time.sleep(5)  # five ticks of the scan find it waiting for the lock
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    wait_for(lambda: "Statement written later" in d.feed_titles(), what="the scan to go on")
    assert "maximum number of running instances" not in d.log()
    assert d.stop() == 0


def test_a_state_folder_the_daemon_cannot_write_is_one_line_not_a_traceback(site):
    assert test_daemon.cli(site, "build").returncode == 0
    state = site.config().paths.state
    state.parent.chmod(0o555)
    try:
        prefix = modes_apply()
        run = forkserver.run(
            [*prefix, sys.executable, "-m", "scofeed", "--config", str(site.config_path),
             "run", "--port", str(free_port())],
            capture_output=True, text=True, cwd=site.root, timeout=60,
        )  # fmt: skip
    finally:
        state.parent.chmod(0o755)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"scofeed: {state}.lock: cannot open the daemon's lock file (Permission denied); "
        f"the daemon's user must be able to write in {state.parent}"
    ]


@pytest.mark.parametrize("made", [True, False], ids=["feeds", "feeds-to-make"])
def test_a_feeds_folder_the_daemon_cannot_write_stops_the_start_in_one_line(site, made):
    """`scofeed run` said "serving" and "started", printed the URLs to subscribe to,
    then failed every scan that changed a feed ("scan_failed ... cannot write
    (Permission denied)"). It does not start now: the one line names the folder and
    why, and nothing is bound, made or claimed. Not made yet (a new site): the folder
    it would be made in."""
    state = site.config().paths.state
    if made:
        folder = site.feeds
    else:  # paths.feeds in a folder of its own, which the daemon's user cannot write
        folder = site.root / "www"
        config = site.config_path.read_text(encoding="utf-8")
        site.config_path.write_text(config.replace('feeds = "feeds"', 'feeds = "www/feeds"'))
    folder.mkdir(exist_ok=True)
    folder.chmod(0o555)
    try:
        run = forkserver.run(
            [*modes_apply(), sys.executable, "-m", "scofeed", "--config", str(site.config_path),
             "run", "--port", str(free_port())],
            capture_output=True, text=True, cwd=site.root, timeout=60,
        )  # fmt: skip
    finally:
        folder.chmod(0o755)
    feeds = site.config().paths.feeds
    assert (run.returncode, run.stdout) == (1, ""), run.stderr
    assert run.stderr.splitlines() == [
        f"scofeed: {feeds}: cannot write the feeds folder (the folder {folder} is mode "
        f"0555, owned by {folder.owner()}; the user running scofeed must be able to write it)"
    ]
    assert not state.exists() and list(folder.iterdir()) == []  # nothing made


def test_an_immutable_feeds_folder_is_named_so_not_by_its_mode(site):
    """``chattr +i``: even root cannot write it, and the line blamed its mode and owner
    (0755, root's) to a daemon run as root, which could write any mode."""
    folder = site.feeds
    folder.mkdir(exist_ok=True)
    flagged = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
    if flagged.returncode != 0:
        pytest.skip(f"chattr +i is not available here: {flagged.stderr!r}")
    try:
        run = forkserver.run(
            [sys.executable, "-m", "scofeed", "--config", str(site.config_path),
             "run", "--port", str(free_port())],
            capture_output=True, text=True, cwd=site.root, timeout=60,
        )  # fmt: skip
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    assert (run.returncode, run.stdout) == (1, ""), run.stderr
    assert run.stderr.splitlines() == [
        f"scofeed: {folder}: cannot write the feeds folder (the folder {folder} is immutable "
        "or append-only (chattr +i or +a; lsattr -d shows it))"
    ]


def test_only_a_folder_is_opened_to_ask_whether_it_is_immutable(tmp_path):
    """Asking opens what it asks of, and closing a descriptor of the store drops every
    lock SQLite holds on it in this process: a file, the store among them, is never
    asked (its flag is not looked at), a folder is."""
    from scofeed.store.trouble import immutable

    flagged = tmp_path / "state.sqlite3"
    flagged.write_bytes(b"SQLite format 3\0")
    if subprocess.run(["chattr", "+i", str(flagged)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        assert immutable(flagged) is False and immutable(tmp_path) is False
    finally:
        subprocess.run(["chattr", "-i", str(flagged)], check=True)


def test_a_store_file_the_daemon_cannot_write_stops_the_start_in_one_line(site):
    """The store made by a `scofeed build` run as root (its file root's, 0644) in a
    folder the daemon's user can write: SQLite opened it, read-only without a word, and
    the daemon started, then failed every job at every tick with "attempt to write a
    readonly database". It does not start now, and says why."""
    assert test_daemon.cli(site, "build").returncode == 0
    state = site.config().paths.state
    state.chmod(0o444)  # as a file of another user's would be to the daemon's
    try:
        run = forkserver.run(
            [*modes_apply(), sys.executable, "-m", "scofeed", "--config", str(site.config_path),
             "run", "--port", str(free_port())],
            capture_output=True, text=True, cwd=site.root, timeout=60,
        )  # fmt: skip
    finally:
        state.chmod(0o644)
    assert run.returncode == 1, run.stderr
    assert run.stderr.splitlines() == [
        f"scofeed: {state}: cannot open the state store for writing (the file is mode "
        f"0444, owned by {state.owner()}; the user running scofeed must be able to write it)"
    ]
    # nothing made beside it: -wal and -shm files (and a lock file) of the refused
    # daemon's user kept the store's owner from writing it afterwards
    beside = sorted(p.name for p in state.parent.iterdir() if p.name.startswith(state.name))
    assert beside == [state.name, f"{state.name}.publish.lock"]


LOOK = """
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
db.execute("SELECT count(*) FROM entries").fetchone()
db.close()
"""


def test_a_read_only_shm_file_beside_the_store_stops_the_start_in_one_line(site):
    """A reader of the store while its file was read-only (`scofeed list` before this
    version, a sqlite3 shell) left -wal and -shm files of its mode, 0444, which SQLite
    could not take away. With the store writable again, the daemon started, said
    "serving", and every job failed at every tick with "attempt to write a readonly
    database". It does not start now, and names the file."""
    assert test_daemon.cli(site, "build").returncode == 0
    state = site.config().paths.state
    state.chmod(0o444)
    looked = subprocess.run([*modes_apply(), sys.executable, "-c", LOOK, str(state)], timeout=60)
    assert looked.returncode == 0
    wal, shm = Path(f"{state}-wal"), Path(f"{state}-shm")
    assert oct(shm.stat().st_mode & 0o777) == oct(0o444)  # as SQLite makes them
    assert oct(wal.stat().st_mode & 0o777) == oct(0o444)
    state.chmod(0o644)
    run = forkserver.run(
        [*modes_apply(), sys.executable, "-m", "scofeed", "--config", str(site.config_path),
         "run", "--port", str(free_port())],
        capture_output=True, text=True, cwd=site.root, timeout=60,
    )  # fmt: skip
    assert (run.returncode, run.stdout) == (1, ""), run.stderr
    assert run.stderr.splitlines() == [
        f"scofeed: {state}: cannot open the state store for writing (the file {wal} is mode "
        f"0444, owned by {wal.owner()}; the user running scofeed must be able to write it)"
    ]


INTERVAL = 3  # seconds between two polls of the feed below


def _polled_onto_a_full_disk(start, site, web, fetched: list[float]) -> test_daemon.Running:
    """A daemon whose store a file-size limit keeps full (as above), polling every
    ``INTERVAL`` seconds a feed of 20 large items (~1.2 MB) it cannot store;
    ``fetched``: when each poll came (monotonic seconds).

    The source is enabled by a reload once the first scan is done: started with it, the
    daemon polled it beside that scan, and on a loaded machine the poll could take the
    store's last room first, so the scan (which /healthz waits for) never came out ok."""
    limit = 1_500_000

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    body = "The Secretariat spoke about cooperation and trade. " * 1200  # ~60 KB each
    items = "".join(
        f"<item><title>Statement number {n}</title>"
        f"<link>http://agency.example/sco/{n}.html</link>"
        f"<pubDate>Mon, {1 + n:02d} May 2023 09:00:00 +0000</pubDate>"
        f"<description>{body}</description></item>"
        for n in range(20)
    )
    rss = f'<rss version="2.0"><channel><title>x</title>{items}</channel></rss>'

    def feed(request: Request) -> Response:
        fetched.append(time.monotonic())
        return Response(rss, content_type="application/rss+xml")

    web.expect_request("/feed.rss").respond_with_handler(feed)

    def source(enabled: str) -> str:
        return (
            f'\n[[sources]]\nname = "agency"\nkind = "feed"\nurl = "{web.url_for("/feed.rss")}"\n'
            f"enabled = {enabled}\ninterval = {INTERVAL}\ndelay = 0\n"
        )

    d = start(extra=source("false"), preexec=small_disk)
    text = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(text.replace(source("false"), source("true")), encoding="utf-8")
    d.proc.send_signal(signal.SIGHUP)
    return d


def test_a_poll_meeting_a_full_disk_is_one_line_and_waits_its_interval(start, site, web):
    """The store failing under a poll was logged with its traceback (``poll_failed``)
    at every poll, beside the job's own line, which changed at each poll (its next
    time) and so was never held back: now it is the job's one line, naming the store,
    said at ERROR once while it lasts, as for every other job.

    And a poll whose outcome the store could not record (its next time, its failures)
    left the source due: it was fetched again at every tick of its job (each second
    here, each minute for an hourly source) while the disk stayed full. The daemon now
    holds it back for its interval itself. (Only a lower bound on the waits, which a
    slow machine can only lengthen.)"""
    fetched: list[float] = []
    d = _polled_onto_a_full_disk(start, site, web, fetched)
    # four polls at least: each met the full store
    wait_for(lambda: len(fetched) >= 4, timeout=60, what="four polls of the feed")
    gaps = [b - a for a, b in itertools.pairwise(fetched)]
    assert min(gaps) > INTERVAL - 1, gaps  # the job ticks each second
    state = str(site.config().paths.state)
    log = d.log()
    assert f"poll:agency_failed error='{state}: " in log
    assert "Traceback" not in log and "OperationalError" not in log
    assert log.count("poll:agency_failed") == 1  # the same error again: DEBUG, not ERROR
    # the ticks between two polls (not due, after a failure) are no recovery: each
    # failed poll was followed by `poll:agency_recovered` a second later
    assert "poll:agency_recovered" not in log
    assert d.proc.poll() is None and d.stop() == 0


@pytest.mark.parametrize("tail", ["-wal", "-shm"])
def test_a_state_file_removed_under_the_daemon_stops_it_cleanly(start, site, tail):
    """`rm state/*-wal` (or -shm) while the daemon ran went unnoticed: SQLite went on
    writing the file it had open, which no other process could see, every job failed
    ("disk I/O error") until a restart, and a build beside it damaged the store. The
    daemon now stops within seconds, exit 1 (systemd starts it again), having written
    what it held to the store."""
    d = start()
    (site.sources / "late.txt").write_text(
        RELEASE.format(n=1, day=3, body="The Secretariat spoke."), encoding="utf-8"
    )
    wait_for(lambda: "Statement number 1" in d.feed_titles(), timeout=15, what="the release")
    state = site.config().paths.state
    Path(f"{state}{tail}").unlink()
    assert d.proc.wait(30) == 1
    log = d.log()
    assert f"state_file_gone path={state}{tail}: removed or replaced" in log
    assert "Traceback" not in log
    listed = test_daemon.cli(site, "list")
    assert listed.returncode == 0 and "Statement number 1" in listed.stdout
