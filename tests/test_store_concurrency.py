"""Several processes on one fresh state store at once (finding 8): the migrations run
under an exclusive lock, so every process opens the store and none creates a table
twice or gives up on a lock. Real processes, real SQLite files."""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

import forkserver
from conftest import free_port, rewind, run_cli
from scofeed.activitypub.keys import load_or_create
from scofeed.config import load
from scofeed.config.load import open_here, sqlite_in_use
from scofeed.errors import ConfigError, StoreError
from scofeed.store import Store
from scofeed.store.lock import PidLock, lock_path, lock_text, running
from scofeed.store.making import make_whole
from scofeed.store.schema import MIGRATIONS
from test_daemon_trouble import LATER, modes_apply

OPEN = "import sys; from scofeed.store import Store; Store(sys.argv[1]).close()"


def test_processes_opening_a_fresh_store_at_once_all_succeed(tmp_path):
    for round_ in range(6):
        path = tmp_path / f"s{round_}.sqlite3"
        procs = [
            subprocess.Popen([sys.executable, "-c", OPEN, str(path)], stderr=subprocess.PIPE)
            for _ in range(4)
        ]
        errors = [p.communicate()[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, errors
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()


def test_commands_that_read_do_not_wait_for_a_write_transaction(site):
    """Every open of the store took an exclusive lock to check the schema version, so
    `scofeed list`, `show` and `status` waited for any write transaction another
    process held (a long build, the daemon) and failed after the busy timeout (30 s)
    with "database is locked", though WAL lets a reader read meanwhile."""
    assert run_cli(site, "build").returncode == 0
    entry_id = run_cli(site, "list").stdout.split("\t")[0]
    writer = sqlite3.connect(site.config().paths.state, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        for args in (["list"], ["show", entry_id], ["status"], ["list", "--withdrawn"]):
            proc = forkserver.run(
                [sys.executable, "-m", "scofeed", "--config", str(site.config_path), *args],
                capture_output=True,
                text=True,
                cwd=site.root,
                timeout=20,  # under the busy timeout: the old code waited 30 s, then failed
            )
            assert proc.returncode == 0, (args, proc.stderr)
            assert proc.stderr == "", args
        assert "SCO Secretary-General" in run_cli(site, "list").stdout
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_store_from_a_newer_scofeed_is_still_refused(site):
    assert run_cli(site, "build").returncode == 0
    db = sqlite3.connect(site.config().paths.state)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.commit()
    db.close()
    for args in (["list"], ["build", "--dry-run"], ["build", "--reread", "--dry-run"]):
        proc = run_cli(site, *args)
        assert proc.returncode == 2
        # the store by its name (a dry run's named the copy it reads, in /tmp)
        assert proc.stderr == (
            f"scofeed: {site.config().paths.state}: schema version {len(MIGRATIONS) + 1} is "
            f"newer than this scofeed ({len(MIGRATIONS)}); upgrade scofeed, or restore the "
            "backup taken before the upgrade\n"
        ), args


def test_a_store_this_user_cannot_write_is_read(site):
    """A store in a folder its reader cannot write (a read-only host, another user's
    store, a replica): every command failed at the open, "attempt to write a readonly
    database", `list` and `serve` too. The ones that read work; one that writes says
    what it cannot write."""
    as_other = modes_apply()  # root: without the capabilities that pass file modes by
    assert run_cli(site, "build").returncode == 0
    state = site.config().paths.state
    assert not state.with_name(state.name + "-wal").exists()  # closed cleanly
    for path in (site.root, *site.root.rglob("*")):
        path.chmod(0o755 if path.is_dir() else 0o644)
    state.parent.chmod(0o555)
    try:

        def scofeed(*args: str) -> subprocess.CompletedProcess[str]:
            return forkserver.run(
                [*as_other, sys.executable, "-m", "scofeed", "--config", str(site.config_path),
                 *args],
                capture_output=True, text=True, cwd=site.root, timeout=60,
            )  # fmt: skip

        listed = scofeed("list")
        assert listed.returncode == 0 and "Jingdong" in listed.stdout, listed.stderr
        assert scofeed("status").returncode == 0
        built = scofeed("build")
        assert built.returncode == 1 and built.stderr.count("\n") == 1, built.stderr
        assert (  # the folder named, where the -wal and -shm files cannot be made
            f"{state}: cannot write the state store (attempt to write a readonly database: "
            f"the folder {state.parent} (where the -wal and -shm files go) is mode 0555"
        ) in built.stderr
        withdrawn = scofeed("withdraw", "8062")  # a command that writes: says so plainly
        assert withdrawn.returncode == 1 and "cannot write the state store" in withdrawn.stderr
    finally:
        state.parent.chmod(0o755)


def test_a_store_file_this_user_cannot_write_is_read_and_nothing_is_left_beside_it(site):
    """A store file its reader cannot write (chmod 444, another user's 0644) in a folder
    it can: SQLite opened it read-only without a word, and the reads of `list`, `show`,
    `status`, `backup` and `build --dry-run` made its -wal and -shm files, of its mode
    (0444), which a read-only connection cannot take away: left beside it, once the
    store was writable again they kept every writer out ("attempt to write a readonly
    database"). Now the store is read as it is and nothing is made; `build` names the
    file it cannot write; `serve`, which may read it for days while it is written, says
    in one line why it cannot, instead of making them."""
    as_other = modes_apply()  # root: without the capabilities that pass file modes by
    assert run_cli(site, "build").returncode == 0
    entry = run_cli(site, "list").stdout.split("\t")[0]
    state = site.config().paths.state
    state.chmod(0o444)
    beside = sorted(os.listdir(state.parent))
    assert f"{state.name}-wal" not in beside  # closed cleanly

    def scofeed(*args: str) -> subprocess.CompletedProcess[str]:
        return forkserver.run(
            [*as_other, sys.executable, "-m", "scofeed", "--config", str(site.config_path),
             *args],
            capture_output=True, text=True, cwd=site.root, timeout=60,
        )  # fmt: skip

    for args in (
        ["list"], ["show", entry], ["status"], ["backup", str(site.root / "backups")],
        ["build", "--dry-run"],
    ):  # fmt: skip
        done = scofeed(*args)
        assert done.returncode == 0, (args, done.stderr)
        assert sorted(os.listdir(state.parent)) == beside, args
    assert "Jingdong" in scofeed("list").stdout
    whose = f"the file is mode 0444, owned by {state.owner()}; the user running scofeed must "
    built = scofeed("build")
    assert (built.returncode, built.stderr) == (
        1, f"scofeed: {state}: cannot write the state store ({whose}be able to write it)\n"
    )  # fmt: skip
    served = scofeed("serve", "--host", "127.0.0.1", "--port", str(free_port()))
    assert (served.returncode, served.stderr) == (
        1,
        f"scofeed: {state}: cannot open the state store to serve it ({whose}be able to "
        "write it, or a `scofeed run` must have it open: read-only, SQLite would leave -wal "
        "and -shm files beside it, read-only as it is, that keep it from being written "
        "later)\n",
    )
    assert sorted(os.listdir(state.parent)) == beside
    state.chmod(0o600)
    assert run_cli(site, "build").returncode == 0  # writable again: as ever


def test_a_store_is_not_upgraded_under_a_daemon_of_an_older_version(tmp_path, caplog):
    """Any one-shot command of a new version (`scofeed status` between `git pull` and
    the daemon's restart) upgraded the store under the older daemon, which went on
    writing by its own rules into the new schema. While a daemon holds the store's lock,
    only the daemon upgrades it; a store up to date opens as ever."""
    path = tmp_path / "s.sqlite3"
    store = Store(path)  # a new store is made, not upgraded: no warning
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    rewind(store.db, len(MIGRATIONS) - 1)
    store.close()
    daemon = PidLock(lock_path(path))
    daemon.acquire()
    try:
        # as `scofeed run` of an older version holds it: its lock names no schema
        lock_path(path).write_text(f"{os.getpid()}\n{int(time.time())}\n")
        with pytest.raises(StoreError, match=rf"daemon \(pid {os.getpid()}\) is running on it"):
            Store(path)
        # a command that only reads says the same: restarting the daemon is the cure (a
        # backup then a build, its own advice, would meet this very refusal)
        with pytest.raises(StoreError, match=rf"daemon \(pid {os.getpid()}\) is running on it"):
            Store(path, upgrade=False)
        assert version(path) == len(MIGRATIONS) - 1  # left as it was
        Store(path, daemon=True).close()  # the daemon itself, holding the lock, upgrades
        assert version(path) == len(MIGRATIONS)
        Store(path).close()  # up to date: a command beside the daemon opens it
        # a daemon of this version (`scofeed run` and `serve` restarted together after
        # an upgrade): a command beside it upgrades, or waits for the daemon to
        rewind(sqlite3.connect(path, isolation_level=None), len(MIGRATIONS) - 1)
        lock_path(path).write_bytes(lock_text(len(MIGRATIONS)))
        Store(path).close()
        assert version(path) == len(MIGRATIONS)
    finally:
        daemon.release()
    rewind(sqlite3.connect(path, isolation_level=None), len(MIGRATIONS) - 1)
    caplog.clear()
    Store(path).close()  # no daemon: the command upgrades it, and says so (a warning)
    assert version(path) == len(MIGRATIONS)
    (record,) = [r for r in caplog.records if r.getMessage().startswith("store_migrated")]
    assert record.levelname == "WARNING"
    assert record.getMessage().endswith(f"from={len(MIGRATIONS) - 1} to={len(MIGRATIONS)}")


def version(path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


def test_a_daemon_starting_while_a_command_looks_at_its_lock_starts(tmp_path):
    """`scofeed status` (any command asking whether a daemon runs) holds a shared lock
    on the lock file for an instant: a daemon starting just then was refused as "another
    daemon (pid unknown) is already running". It tries again while no pid is named."""
    path = tmp_path / "s.sqlite3"
    lock = lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")
    looker = os.open(lock, os.O_RDONLY)
    fcntl.flock(looker, fcntl.LOCK_SH)  # as running() holds it, here a little longer
    release = threading.Timer(0.2, lambda: os.close(looker))
    release.start()
    daemon = PidLock(lock)
    try:
        daemon.acquire()
        assert running(path) is None or running(path).pid == os.getpid()
    finally:
        release.join()
        daemon.release()


def test_a_new_store_and_its_wal_files_are_readable_by_their_owner_alone(tmp_path):
    """The store holds the keys subscribers gave the hub (``hub.secret``): made 0644
    under the usual umask, any local user could read them and sign pushes as us."""
    old = os.umask(0o022)
    try:
        path = tmp_path / "state" / "scofeed.sqlite3"
        store = Store(path)
        with store.transaction() as db:
            db.execute("INSERT INTO meta (key, value) VALUES ('probe', '1')")
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: f.stat().st_mode & 0o777 for f in files} == {f.name: 0o600 for f in files}
        store.close()
    finally:
        os.umask(old)


def test_a_command_waiting_for_the_write_lock_says_who_holds_it(site, tmp_path):
    """An operator's ``sqlite3`` shell holding BEGIN EXCLUSIVE: ``scofeed add`` sat
    silent for up to 30 s (then failed with "database is locked"). It says at once
    what it waits for and how long it will; once the lock is let go, it goes on."""
    assert run_cli(site, "build").returncode == 0
    holder = sqlite3.connect(site.config().paths.state, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    release = tmp_path / "release.txt"
    release.write_text(LATER, encoding="utf-8")
    add = forkserver.Popen(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "add", str(release)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=site.root,
    )  # fmt: skip
    try:
        assert add.stderr is not None
        said = add.stderr.readline()  # blocks until the line comes (or the command ends)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    out, err = add.communicate(timeout=60)
    assert f"store_busy path={site.config().paths.state} " in said, said + err
    assert (
        "holder='another process (scofeed build or add, a sqlite3 shell)' waiting=28s more" in said
    )
    assert add.returncode == 0, err
    assert "Statement written later" in run_cli(site, "list").stdout


def test_the_daemon_waiting_on_its_own_jobs_says_so_at_info_not_as_a_warning(site, caplog):
    """The deliver job waiting for the same daemon's big scan warned (``store_busy`` at
    WARNING) in the course of things; in the daemon it is an INFO line. (A one-shot
    command still warns: above.)"""
    assert run_cli(site, "build").returncode == 0
    path = site.config().paths.state
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(3.0, lambda: holder.execute("ROLLBACK")).start()
    store = Store(path, daemon=True, wait=30.0)
    caplog.set_level(logging.DEBUG, logger="scofeed.store")
    try:
        with store.transaction() as db:
            db.execute("INSERT INTO meta VALUES ('waited', 'x')")
    finally:
        store.close()
        holder.close()
    said = [r for r in caplog.records if r.getMessage().startswith("store_busy")]
    assert [r.levelno for r in said] == [logging.INFO]


WRITE_ONE = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO meta VALUES ('other process', 'x')")
db.commit()
db.close()
"""


def test_a_second_store_in_a_process_keeps_the_firsts_locks_and_its_transactions(tmp_path):
    """A process holding the store (the daemon; a build) that opened it again (a build's
    feeds rendered in-process, on one core or in the daemon's threads) looked at the
    file's first bytes with open() and close(): closing a file drops every POSIX lock
    the process holds on it, its SQLite connections' too. Another process's connection
    closing then took itself for the last one, checkpointed and removed the -wal the
    first was writing into: transactions committed after that were lost (a `make bench`
    store came out "database disk image is malformed")."""
    path = tmp_path / "state.sqlite3"
    holder = Store(path)
    with holder.db:
        holder.db.execute("INSERT INTO meta VALUES ('before', 'x')")
    Store(path).close()  # a second Store in this process, as render_batch opens one
    _kept_locks(holder, path, None)


def _locks_held(path) -> list[str]:
    """The POSIX locks this process holds on the store at ``path`` and its -shm (Linux:
    /proc/locks), each as its kind, file and byte range: an SQLite connection holds one
    on the store and some on its -shm. Not those on other files: a connection of an
    earlier test, closed when the garbage collector gets to it, lets go of its own."""
    me = str(os.getpid())
    ours = {f":{os.stat(f'{path}{tail}').st_ino}" for tail in ("", "-shm")}
    held = []
    with open("/proc/locks") as f:
        lines = f.read().splitlines()
    for line in lines:
        fields = line.split()
        at = fields.index("->") if "->" in fields else 0  # "N: -> POSIX ...": a waiter
        if fields[at + 4] == me and fields[at + 5].endswith(tuple(ours)):
            held.append(" ".join(fields[at + 1 : at + 4] + fields[at + 5 :]))
    return sorted(held)


def _kept_locks(holder: Store, path, before: list[str] | None) -> None:
    """After something this process did while holding ``holder``: it holds the same
    locks (``before``, where /proc/locks tells), another process's connection closing
    leaves the -wal alone, and what ``holder`` commits after is in the store."""
    if before is not None:
        assert _locks_held(path) == before
    subprocess.run([sys.executable, "-c", WRITE_ONE, str(path)], check=True, timeout=60)
    assert path.with_name(path.name + "-wal").exists()  # still this process's
    with holder.db:
        for n in range(100):
            holder.db.execute("INSERT INTO meta VALUES (?, 'x')", (f"after {n}",))
    holder.close()
    db = sqlite3.connect(path)
    keys = {k for (k,) in db.execute("SELECT key FROM meta")}
    assert {"before", "other process", "after 0", "after 99"} <= keys
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="Linux /proc/locks")
@pytest.mark.parametrize("tail", ["", "-shm"])
def test_a_secret_file_naming_the_store_is_refused_unopened_where_the_store_is_held(tmp_path, tail):
    """The daemon reads its secret files again at each reload (SIGHUP), holding the
    store. ``file:`` naming the store or its -shm (a slip for state/hook.secret) was
    opened and closed: closing a file drops every POSIX lock the process holds on it,
    its connections' too, and the daemon ran on (the reload failed, "not UTF-8 text"):
    the next process to close its connection removed the -wal under it (the store),
    or took the -shm's locks for no one's and started the shared index over."""
    path = tmp_path / "state" / "scofeed.sqlite3"
    holder = Store(path)
    with holder.db:
        holder.db.execute("INSERT INTO meta VALUES ('before', 'x')")
    before = _locks_held(path)
    config = tmp_path / "config.toml"
    config.write_text(
        '[paths]\nstate = "state/scofeed.sqlite3"\n[[webhooks]]\nname = "a"\n'
        f'url = "https://x.example/h"\nsecret = "file:state/scofeed.sqlite3{tail}"\n'
    )
    with pytest.raises(ConfigError, match="SQLite database"):
        load(config)
    _kept_locks(holder, path, before)


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="Linux /proc/locks")
@pytest.mark.parametrize("tail", ["", "-shm"])
def test_a_secret_file_that_is_a_hard_link_to_the_held_store_is_refused_unopened(tmp_path, tail):
    """Another name for the store or its -shm (a hard link, ``ln``): no -wal beside it
    and no tail on it, it was opened and closed all the same."""
    path = tmp_path / "state" / "scofeed.sqlite3"
    holder = Store(path)
    with holder.db:
        holder.db.execute("INSERT INTO meta VALUES ('before', 'x')")
    os.link(f"{path}{tail}", tmp_path / "hook.secret")
    before = _locks_held(path)
    config = tmp_path / "config.toml"
    config.write_text(
        '[paths]\nstate = "state/scofeed.sqlite3"\n[[webhooks]]\nname = "a"\n'
        'url = "https://x.example/h"\nsecret = "file:hook.secret"\n'
    )
    with pytest.raises(ConfigError, match=f"another name \\(a hard link\\) for {path}{tail}, "):
        load(config)
    _kept_locks(holder, path, before)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc/self/fd")
def test_a_hard_link_to_the_store_is_told_while_it_is_open_under_its_own_name_too(tmp_path):
    """Open under its own name too, on a lower descriptor than the store's connection
    (read in another thread at that moment): the first name found was its own, and the
    store behind it went untold."""
    path = tmp_path / "scofeed.sqlite3"
    make_whole(path)
    link = tmp_path / "hook.secret"
    os.link(path, link)
    fd = os.open(link, os.O_RDONLY)  # before the connection: the lower descriptor
    holder = Store(path)
    try:
        assert open_here(str(link))[0] == str(link)
        assert sqlite_in_use(link) == (
            f"another name (a hard link) for {path}, a SQLite database in use (a -wal or "
            "-shm file beside it: the state store?)"
        )
    finally:
        holder.close()
        os.close(fd)


def test_a_file_this_process_has_open_under_another_name_is_told_and_others_are_not(tmp_path):
    first = tmp_path / "a"
    first.write_text("x")
    os.link(first, tmp_path / "b")
    (tmp_path / "c").write_text("x")
    linux = sys.platform.startswith("linux")
    with open(first):
        assert open_here(str(tmp_path / "b")) == ([str(first)] if linux else [])
        assert open_here(str(tmp_path / "c")) == []
        with open(tmp_path / "b"):  # open under both names: both told
            assert sorted(open_here(str(first))) == (
                [str(first), str(tmp_path / "b")] if linux else []
            )
    assert open_here(str(tmp_path / "b")) == []  # closed now
    assert open_here(str(tmp_path / "none")) == []


def test_a_config_or_secret_this_process_has_open_that_is_no_store_is_read(tmp_path):
    """``--config /dev/stdin < config.toml``: the process has the file open (its stdin),
    and that is no reason to refuse it; only another name for a SQLite file in use is."""
    config = tmp_path / "config.toml"
    config.write_text("[serve]\nport = 9123\n")
    (tmp_path / "sources").mkdir()
    with open(config, "rb") as stdin:
        done = forkserver.run(
            [sys.executable, "-m", "scofeed", "--config", "/dev/stdin", "config", "check"],
            stdin=stdin, capture_output=True, text=True, cwd=tmp_path, timeout=60,
        )  # fmt: skip
    assert done.returncode == 0 and done.stderr == "", done.stderr


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="Linux /proc/locks")
@pytest.mark.parametrize("tail", ["", "-shm"])
def test_an_activitypub_key_naming_the_store_is_refused_unopened(tmp_path, tail):
    """The daemon loads its ActivityPub key after opening the store: ``activitypub.key``
    naming the store (or its -shm) read it with open() and close(), dropping the
    daemon's locks on it."""
    path = tmp_path / "scofeed.sqlite3"
    holder = Store(path)
    with holder.db:
        holder.db.execute("INSERT INTO meta VALUES ('before', 'x')")
    before = _locks_held(path)
    with pytest.raises(ConfigError, match="SQLite database"):
        load_or_create(tmp_path / f"scofeed.sqlite3{tail}")
    _kept_locks(holder, path, before)


def test_a_lock_file_that_cannot_be_made_again_is_one_line_not_the_daemons_end(
    tmp_path, monkeypatch, caplog
):
    """``PidLock.ensure`` runs in the daemon's main loop: a full disk when it wrote the
    lock file again raised out of the loop, past the daemon's ordered stop. It is one
    line, and the next look makes the file."""
    lock = PidLock(tmp_path / "state.sqlite3.lock")
    lock.acquire()
    lock.started = time.time() - 3600  # started an hour ago
    try:
        lock.path.unlink()

        def full(fd: int, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "write", full)
        caplog.set_level(logging.DEBUG, logger="scofeed.daemon")
        lock.ensure()  # no exception
        assert "lock_file_lost" in caplog.text and "No space left on device" in caplog.text
        monkeypatch.undo()
        lock.path.unlink(missing_ok=True)
        lock.ensure()
        pid, started, _schema = lock.path.read_text().split()
        assert pid == str(os.getpid())
        assert "lock_file_made_again" in caplog.text
        # the file made again says when the daemon started (`status`: "up ..."), not now
        assert int(started) == int(lock.started)
    finally:
        lock.release()


def test_commands_that_only_read_leave_an_older_store_for_the_operator_to_back_up(site):
    """`scofeed list`, `show` and `status` upgraded a store of an older scofeed (a
    warning, and no way back but a backup the operator had not taken yet: the upgrade
    steps say to back up first). They refuse it now, saying what to do; `backup` keeps
    the old schema, and a command that writes (`build`) upgrades it."""
    assert run_cli(site, "build").returncode == 0
    path = site.config().paths.state
    old = len(MIGRATIONS) - 1
    db = sqlite3.connect(path, isolation_level=None)
    rewind(db, old)
    db.close()
    for command in (["list"], ["show", "anything"], ["status"]):
        proc = run_cli(site, *command)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert proc.stderr.strip().endswith(
            f"of an older scofeed (schema {old}; this one makes {len(MIGRATIONS)}) and this "
            "command only reads: back it up first (`scofeed backup`), then `scofeed build` "
            "or the daemon upgrades it (an upgrade cannot be undone but by that backup)"
        ), proc.stderr
        assert version(path) == old
    backup = run_cli(site, "backup", str(site.root / "before.sqlite3"))
    assert backup.returncode == 0, backup.stderr
    assert version(site.root / "before.sqlite3") == old
    built = run_cli(site, "build")
    assert built.returncode == 0 and "store_migrated" in built.stderr
    assert version(path) == len(MIGRATIONS)
    assert run_cli(site, "list").returncode == 0


def test_a_reloaded_store_wait_applies_to_the_next_transaction(tmp_path):
    """The daemon's store kept the store_wait it started with: a reload raising it said
    "reloaded", and its scans beside a long `scofeed build` still failed at the old wait."""
    path = tmp_path / "s.sqlite3"
    store = Store(path, wait=0.2)
    store.db.execute("SELECT 1")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError), store.transaction():
            pass  # 0.2 s: the holder outlasts it
        threading.Timer(1.0, lambda: holder.execute("ROLLBACK")).start()
        store.set_wait(20.0)
        with store.transaction() as db:  # waits for the holder now
            db.execute("INSERT INTO meta VALUES ('waited', 'x')")
    finally:
        store.close()
        holder.close()
