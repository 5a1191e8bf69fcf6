"""A state store that is no store of scofeed's (a file of 0 bytes, another program's
database), one in a folder scofeed cannot write, one another process keeps locked:
`build`, `show`, `run` and `serve` say so in one line naming the file and what to do,
exit non-zero, and leave the file and feeds/ as they were. Found by fuzzing the state
file (round 2, second pass). Real files, the commands and the daemon as subprocesses."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import forkserver
import test_backup
from conftest import free_port, run_cli
from scofeed.store import Store, unusable
from scofeed.store.making import make_whole
from scofeed.store.schema import MIGRATIONS
from test_daemon_trouble import modes_apply

COMMANDS = ["build", "dry-run", "show", "run", "serve"]


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with a hash of its bytes (a folder: "folder")."""
    out = {}
    for path in sorted(root.rglob("*")):
        out[str(path.relative_to(root))] = (
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "folder"
        )
    return out


def command(site, name: str, entry: str, prefix: list[str] | None = None):
    """``scofeed NAME`` on the site as a subprocess (the daemon's too: one that starts
    is stopped after 20 s, and its exit then says so)."""
    args = {"build": ["build"], "dry-run": ["build", "--dry-run"], "show": ["show", entry]}.get(
        name, [name, "--host", "127.0.0.1", "--port", str(free_port())]
    )
    proc = forkserver.Popen(
        [*(prefix or []), sys.executable, "-m", "scofeed", "--config", str(site.config_path),
         *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=site.root,
    )  # fmt: skip
    try:
        _out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
        return "still running", err
    return proc.returncode, err


def in_a_folder_of_mode_0555(site, name: str, entry: str) -> tuple[int, str]:
    """``command`` with the store's folder read-only (as file modes bind the user)."""
    folder = site.config().paths.state.parent
    folder.chmod(0o555)
    try:
        return command(site, name, entry, modes_apply())
    finally:
        folder.chmod(0o755)


def built(site) -> str:
    assert run_cli(site, "build").returncode == 0
    return run_cli(site, "list").stdout.split("\t")[0]


@pytest.mark.parametrize("name", COMMANDS)
def test_a_store_of_0_bytes_is_refused_and_left_as_it_is(site, name):
    """It was taken for a new store: the schema written into it, the releases in sources/
    ingested again as new (their history gone, every one delivered again), and `show`
    said "no entry"."""
    entry = built(site)
    state = site.config().paths.state
    state.write_bytes(b"")  # a copy cut short, a full disk, `> state.sqlite3`
    feeds = tree(site.feeds)
    code, err = command(site, name, entry)
    assert (code, err) == (
        2,
        f"scofeed: {state}: the state store is an empty file (0 bytes); it was left as it "
        "is. Restore it from a backup (`scofeed backup`, docs/operations.md), or move it "
        "aside to start a new one from sources/\n",
    )
    assert state.stat().st_size == 0
    assert tree(site.feeds) == feeds


@pytest.mark.parametrize("name", ["build", "run"])
def test_another_programs_database_is_not_taken_for_a_new_store(site, name):
    """``paths.state`` naming another program's SQLite database (schema version 0): the
    store's tables were added to it."""
    state = site.config().paths.state
    state.parent.mkdir(parents=True)
    with contextlib.closing(sqlite3.connect(state)) as db:
        db.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
        db.execute("INSERT INTO moz_places (url) VALUES ('https://example.org/')")
        db.commit()
    before = state.read_bytes()
    code, err = command(site, name, "")
    assert code == 2
    assert err == (
        f"scofeed: {state}: not a scofeed state store (a database at schema version 0 with "
        "1 tables and indexes of its own: does paths.state name another program's "
        "database?); it was left as it is. Restore it from a backup (`scofeed backup`, "
        "docs/operations.md), or move it aside to start a new one from sources/\n"
    )
    assert state.read_bytes() == before
    assert not site.feeds.exists()


def test_a_new_store_is_made_whole_and_private_with_nothing_left_beside_it(site):
    """Made in a file beside it (``.NAME.new-PID-RANDOM``), then linked in and that file
    removed: the store's path never names less than a whole store."""
    assert run_cli(site, "build").returncode == 0
    state = site.config().paths.state
    made = sorted(p.name for p in state.parent.iterdir())
    assert made == [state.name, state.name + ".publish.lock"]
    assert oct(state.stat().st_mode & 0o777) == oct(0o600)
    Store(state).close()  # opened again: as it is
    assert sorted(p.name for p in state.parent.iterdir()) == made


def test_a_new_store_is_in_wal_mode_at_its_latest_schema_from_its_first_bytes(tmp_path):
    """Written whole from the image of a new store (``store.fresh``), in WAL mode, and
    synced once before it takes its name: so it is, before any connection opens it."""
    state = tmp_path / "state.sqlite3"
    make_whole(state)
    head = state.read_bytes()[:100]  # header bytes 18 and 19: 2 in WAL mode
    assert head.startswith(b"SQLite format 3\0") and head[18:20] == b"\2\2"
    assert sorted(p.name for p in tmp_path.iterdir()) == [state.name]
    with contextlib.closing(sqlite3.connect(f"{state.as_uri()}?mode=ro", uri=True)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == 0


def test_a_file_left_by_a_process_of_the_same_pid_does_not_stop_a_new_store(tmp_path):
    """A process killed while making the store left its ``.NAME.new-PID``; a process
    of the same PID after it (PID 1 in a container, at each start) found the name taken
    and made no store."""
    state = tmp_path / "state.sqlite3"
    left = tmp_path / f".state.sqlite3.new-{os.getpid()}"
    left.write_bytes(b"half")
    make_whole(state)
    assert state.is_file() and left.read_bytes() == b"half"


def test_files_left_by_a_process_gone_are_removed_when_a_store_is_made(tmp_path):
    """A process killed while making the store left its ``.NAME.new-PID-RANDOM`` (and
    a -wal): they piled up, one for each such kill. The next process to make a store
    removes those of a process no longer running, and those older than LEFT_SECONDS;
    a running process's young one stays (it may be making the store this moment)."""
    state = tmp_path / "state.sqlite3"
    gone = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True, check=True)
    dead = [tmp_path / f".state.sqlite3.new-{gone.stdout.strip()}-0a1b2c3d{tail}"
            for tail in ("", "-wal")]  # fmt: skip
    with subprocess.Popen(["sleep", "30"]) as alive:
        try:
            young = tmp_path / f".state.sqlite3.new-{alive.pid}-00000000"
            old = tmp_path / f".state.sqlite3.new-{alive.pid}-11111111"
            for left in (*dead, young, old):
                left.write_bytes(b"half")
            hour_ago = time.time() - 3600
            os.utime(old, (hour_ago, hour_ago))
            other = tmp_path / ".other.sqlite3.new-1-00000000"  # another store's: not ours
            other.write_bytes(b"half")
            make_whole(state)
        finally:
            alive.kill()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [state.name, young.name, other.name]
    )
    assert young.read_bytes() == b"half"


def test_a_store_in_a_folder_scofeed_cannot_write_names_the_folder_for_serve(site):
    """`serve` needs the -shm file, which goes in the store's folder: it said "the file
    is mode 0600, owned by <the user running it>; the user running scofeed must be able
    to write it", of a file that user could write."""
    entry = built(site)
    state = site.config().paths.state
    feeds = tree(site.feeds)
    code, err = in_a_folder_of_mode_0555(site, "serve", entry)
    assert code == 1, err
    assert err.splitlines()[-1] == (
        f"scofeed: {state}: cannot open the state store (attempt to write a readonly "
        f"database: the folder {state.parent} (where the -wal and -shm files go) is mode "
        f"0555, owned by {state.parent.owner()}; the user running scofeed must be able to "
        "write it)"
    )
    assert "Traceback" not in err
    assert tree(site.feeds) == feeds


def test_a_store_locked_past_the_busy_timeout_says_what_to_do(site):
    """ "cannot use the state store (database is locked)" said neither who nor what to
    do. The same SQLite error a command meets after its 30 s wait, made at once."""
    built(site)
    state = site.config().paths.state
    holder = sqlite3.connect(state, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(state, isolation_level=None, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            waiter.execute("BEGIN IMMEDIATE")
    finally:
        waiter.close()
        holder.execute("ROLLBACK")
        holder.close()
    assert str(unusable(state, caught.value)) == (
        f"{state}: cannot use the state store (another process has held its write lock for "
        "over 30 s: a scofeed build, add or daemon, or a sqlite3 shell; "
        f"`fuser {state}` names it); try again once it is done"
    )


@pytest.mark.parametrize("name", COMMANDS)
def test_a_damaged_or_newer_store_stays_as_it_was(site, name):
    """Regression guard over what the fuzzing found holding: a store cut in half, or
    one from a newer scofeed, is refused (exit 2) and neither it nor feeds/ changes."""
    entry = built(site)
    state = site.config().paths.state
    half = state.read_bytes()[: state.stat().st_size // 2]
    state.write_bytes(half)
    feeds = tree(site.feeds)
    code, err = command(site, name, entry)
    assert code == 2 and len(err.splitlines()) == 1, err
    assert "the state store is damaged" in err and "Restore it from a backup" in err
    assert state.read_bytes() == half and tree(site.feeds) == feeds
    assert not os.path.exists(f"{state}-wal")


def test_a_wal_left_without_its_store_is_not_replayed_into_a_new_one(site, tmp_path):
    """The store moved aside ("to start a new one") while a killed writer's -wal stayed:
    a new store was made at the path and SQLite replayed the old store's last
    transactions into it. Refused now, the -wal kept for the store it belongs to."""
    entry = built(site)
    state = site.config().paths.state
    with contextlib.closing(sqlite3.connect(state, isolation_level=None)) as db:
        db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute("UPDATE entries SET title = 'Edited by the last transaction'")
        kept = {tail: Path(f"{state}{tail}").read_bytes() for tail in ("-wal", "-shm")}
    state.rename(tmp_path / "aside.sqlite3")  # the operator's move; the -wal stays
    for tail, data in kept.items():  # as a writer killed mid-way leaves them
        Path(f"{state}{tail}").write_bytes(data)
    feeds = tree(site.feeds)
    for name in ("build", "run"):  # `show` says there is no store, as it is
        code, err = command(site, name, entry)
        assert (code, err) == (
            2,
            f"scofeed: {state}-wal is there without its store {state} (moved or deleted, "
            "its -wal left behind): it holds that store's last transactions, which SQLite "
            "would write into a new one. Put the store back beside it, or move the -wal "
            "and -shm files aside too to start a new store\n",
        ), name
    assert not state.exists() and Path(f"{state}-wal").read_bytes() == kept["-wal"]
    assert tree(site.feeds) == feeds
    # put back beside it, the store takes its last transaction (SQLite's own recovery)
    (tmp_path / "aside.sqlite3").rename(state)
    assert "Edited by the last transaction" in run_cli(site, "show", entry).stdout


def _backup_put_beside_its_old_wal(site, store_file: Path, tmp_path: Path) -> bytes:
    """A backup of the site's store, then a write after it left in the -wal (and -shm)
    beside ``store_file``, then the backup put in that file's place with the old -wal
    and -shm beside it, as a restore that forgot them leaves it: the backup's bytes."""
    backup = tmp_path / "backup.sqlite3"
    assert run_cli(site, "backup", str(backup)).returncode == 0
    with contextlib.closing(sqlite3.connect(store_file, isolation_level=None)) as db:
        db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute("UPDATE entries SET title = 'Written after the backup'")
        kept = {tail: Path(f"{store_file}{tail}").read_bytes() for tail in ("-wal", "-shm")}
    store_file.unlink()
    store_file.write_bytes(backup.read_bytes())
    for tail, data in kept.items():
        Path(f"{store_file}{tail}").write_bytes(data)
    return store_file.read_bytes()


def test_a_backup_restored_beside_the_old_stores_wal_is_refused(site, tmp_path):
    """A backup (one file, not in WAL mode) put in place of the store while the old
    store's -wal stayed: SQLite wrote the old store's last transactions into the
    restored backup without a word ("restore" got a mix of both)."""
    entry = built(site)
    state = site.config().paths.state
    restored = _backup_put_beside_its_old_wal(site, state, tmp_path)
    for name in COMMANDS:
        code, err = command(site, name, entry)
        assert (code, err) == (
            2,
            f"scofeed: {state}-wal is not this store's: {state} is not in WAL mode (a backup "
            "put in place?), and SQLite would write that -wal's transactions, of the store "
            "before, into it. Remove the -wal and -shm files beside it, then run the "
            "command again\n",
        ), name
    assert state.read_bytes() == restored
    for tail in ("-wal", "-shm"):
        Path(f"{state}{tail}").unlink()
    shown = run_cli(site, "show", entry)
    assert shown.returncode == 0 and "Written after the backup" not in shown.stdout


def test_a_store_linked_onto_another_disk_is_looked_at_where_sqlite_keeps_its_wal(site, tmp_path):
    """``paths.state`` a symbolic link to the store's file elsewhere: SQLite keeps the
    -wal and -shm files beside that file, and scofeed looked for them beside the link.
    A backup restored beside the old store's -wal was taken in, the -wal written into
    it; a link to no file yet made a store of mode 0644, not 0600."""
    state = site.config().paths.state
    disk = tmp_path / "disk"
    disk.mkdir()
    state.parent.mkdir(parents=True)
    state.symlink_to(disk / "store.sqlite3")  # to no file yet
    entry = built(site)
    real = disk / "store.sqlite3"
    assert oct(real.stat().st_mode & 0o777) == oct(0o600) and state.is_symlink()
    restored = _backup_put_beside_its_old_wal(site, real, tmp_path)  # where the link points
    for name in COMMANDS:
        code, err = command(site, name, entry)
        assert code == 2 and f"scofeed: {real}-wal is not this store's: " in err, (name, err)
    assert real.read_bytes() == restored


HOLD = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA locking_mode=EXCLUSIVE")  # readers kept out too, until it closes
db.execute("BEGIN EXCLUSIVE")
db.execute("UPDATE meta SET value = value")
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""


def _while_held(site, state: Path, seconds: float, args: list[str]):
    """``scofeed ARGS`` (a subprocess) while another process holds the store in
    exclusive locking mode for ``seconds`` (``HOLD``), or until the command is done."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(state), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        return forkserver.run(
            [sys.executable, "-m", "scofeed", "--config", str(site.config_path), *args],
            capture_output=True, text=True, cwd=site.root, timeout=150,
        )  # fmt: skip
    finally:
        holder.kill()
        holder.wait()


def test_a_store_held_in_exclusive_locking_mode_stops_a_command_after_the_busy_timeout(site):
    """A sqlite3 shell with ``PRAGMA locking_mode=EXCLUSIVE`` (or a backup tool) holding
    the store: switching to WAL waited the busy timeout (30 s) at each of 300 tries, so
    `scofeed show` (any command) sat silent for 2.5 hours. Now one wait, then one line.
    The wait is the operator's ``limits.store_wait``: 1 s here (at 300 tries, 5 minutes,
    past this test's timeout), where the default made this test wait 30 s."""
    entry = built(site)
    state = site.config().paths.state
    before = state.read_bytes()
    shown = _while_held(site, state, 170, ["--set", "limits.store_wait=1", "show", entry])
    assert (shown.returncode, shown.stderr) == (
        1,
        f"scofeed: {state}: cannot open the state store (another process has held its write "
        "lock for over 1 s: a scofeed build, add or daemon, or a sqlite3 shell; "
        f"`fuser {state}` names it); try again once it is done\n",
    )
    assert state.read_bytes() == before


def test_a_restored_backup_held_by_another_process_is_waited_for_as_the_operator_says(
    site, tmp_path
):
    """A backup (not in WAL mode) put in place of the store, then held by another
    process for 6 s: the look at its schema version before it is switched to WAL mode
    waited SQLite's default 5 s, not ``limits.store_wait``, and the command failed
    saying it had waited 60 s."""
    entry = built(site)
    state = site.config().paths.state
    backup = tmp_path / "backup.sqlite3"
    assert run_cli(site, "backup", str(backup)).returncode == 0
    state.unlink()
    state.write_bytes(backup.read_bytes())
    shown = _while_held(site, state, 6, ["--set", "limits.store_wait=60", "show", entry])
    assert (shown.returncode, shown.stderr) == (0, "")


@pytest.mark.parametrize("command", [["backup"], ["build", "--dry-run"]])
def test_backup_and_a_dry_run_wait_for_a_held_store_as_long_as_the_operator_says(site, command):
    """They copy the store rather than open it, and waited the default 30 s."""
    built(site)
    state = site.config().paths.state
    done = _while_held(site, state, 170, ["--set", "limits.store_wait=1", *command])
    assert done.returncode == 1 and done.stderr.startswith(f"scofeed: {state}: "), done.stderr
    assert "held its write lock for over 1 s" in done.stderr and done.stderr.count("\n") == 1


# a process that had the store open, killed: its -wal and -shm files stay
LEFT_OPEN = """
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("UPDATE entries SET title = title")
os._exit(0)
"""


@pytest.mark.parametrize("tail", ["-wal", "-shm"])
def test_a_wal_or_shm_file_this_user_cannot_read_is_named_with_its_mode(site, tail):
    """A daemon run as another user, killed, leaves its -wal and -shm files, mode 0600:
    a command of this user said only "(unable to open database file)", of a store file
    it can read."""
    entry = built(site)
    state = site.config().paths.state
    subprocess.run([sys.executable, "-c", LEFT_OPEN, str(state)], check=True, timeout=60)
    left = Path(f"{state}{tail}")
    assert left.is_file()
    left.chmod(0)
    try:
        code, err = command(site, "show", entry, modes_apply())
    finally:
        left.chmod(0o600)
    assert code == 1, err
    assert err.splitlines() == [
        f"scofeed: {state}: cannot open the state store (unable to open database file: "
        f"the file {left} is mode 0000, owned by {left.owner()}; the user running scofeed "
        "must be able to read it)"
    ]


read_only_mount = test_backup.read_only_mount  # a bind mount made read-only (a fixture)


def test_a_store_on_a_read_only_mount_is_said_to_be_there_not_of_a_mode(site, read_only_mount):
    """It said "the file is mode 0600, owned by <this user>; the user running scofeed
    must be able to write it", of a file that user owns and may write: the mount is
    what keeps it from being written."""
    entry = built(site)
    (site.sources / "more.txt").write_text(
        "SCO meets again\n\nOn 3 May 2021 the SCO met again in Beijing.\n", encoding="utf-8"
    )
    state = site.config().paths.state
    read_only_mount(state.parent)
    code, err = command(site, "build", entry)
    assert code == 1, err
    assert err.splitlines()[-1] == (
        f"scofeed: {state}: cannot write the state store ({state.parent} is on a read-only "
        "file system)"
    )


def test_serve_of_a_store_on_a_read_only_mount_no_daemon_has_open_says_why(site, read_only_mount):
    """`serve` reads a store only through the -shm file of a `scofeed run` that has it
    open; on a read-only mount with none it said only "(unable to open database file)"."""
    entry = built(site)
    state = site.config().paths.state
    read_only_mount(state.parent)
    code, err = command(site, "serve", entry)
    assert code == 1, err
    assert err.splitlines()[-1] == (
        f"scofeed: {state}: cannot open the state store to serve it ({state.parent} is on a "
        "read-only file system, and no `scofeed run` has it open)"
    )


def test_a_store_that_cannot_be_made_names_the_folder_and_its_mode(site):
    """No store, in a folder the user cannot write: `build` said only "cannot open the
    state store (unable to open database file)", nothing of why or where."""
    state = site.config().paths.state
    state.parent.mkdir(parents=True, exist_ok=True)
    assert not state.exists()
    code, err = in_a_folder_of_mode_0555(site, "build", "")
    assert code == 1, err
    assert err.splitlines()[-1] == (
        f"scofeed: {state}: cannot open the state store (there is none, and none can be "
        f"made there: the folder {state.parent} is mode 0555, owned by "
        f"{state.parent.owner()}; the user running scofeed must be able to write it)"
    )
    assert not state.exists()
