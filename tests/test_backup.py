"""``scofeed backup``: a whole, private copy of the store, safe while the daemon writes."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import sqlite3
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

import test_daemon
import test_daemon_limits
from conftest import Site, run_cli
from scofeed.errors import StoreError, UsageError
from scofeed.store import Store
from scofeed.store import backup as backup_module
from scofeed.store.backup import backup

start = test_daemon.start  # the daemon as a subprocess (a fixture)
wait_for = test_daemon.wait_for
small_disk = test_daemon_limits.small_disk  # a tmpfs to fill (a fixture)


@pytest.fixture
def read_only_mount() -> Iterator[Callable[[Path], None]]:
    """``read_only_mount(folder)`` binds ``folder`` over itself read-only; unmounted at
    the end. Root only, where mounting is allowed: skipped elsewhere."""
    mounted: list[Path] = []

    def mount(folder: Path) -> None:
        if os.geteuid() != 0 or shutil.which("mount") is None:
            pytest.skip("a read-only bind mount needs root and mount(8)")
        for args in (["--bind"], ["-o", "remount,bind,ro"]):
            done = subprocess.run(
                ["mount", *args, str(folder), str(folder)], capture_output=True, text=True
            )
            if done.returncode != 0:
                pytest.skip(f"cannot mount here: {done.stderr.strip()}")
            if not mounted or mounted[-1] != folder:
                mounted.append(folder)

    yield mount
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)


RELEASE = "SCO meeting {n}\n\nOn {day} January 2026, the SCO met in Astana for talks {n}.\n"


def release(site: Site, n: int) -> None:
    text = RELEASE.format(n=n, day=n % 28 + 1)
    (site.sources / f"r{n:03d}.txt").write_text(text, encoding="utf-8")


def checked(path: Path) -> tuple[str, int, int]:
    """(journal mode, entries, schema version) of a backup, after its integrity check."""
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        (mode,) = db.execute("PRAGMA journal_mode").fetchone()
        (entries,) = db.execute("SELECT count(*) FROM entries").fetchone()
        (schema,) = db.execute("PRAGMA user_version").fetchone()
    finally:
        db.close()
    return mode, entries, schema


def test_a_backup_is_one_private_file_that_restores_the_site(site):
    for n in range(3):
        release(site, n)
    assert run_cli(site, "build").returncode == 0
    listed = run_cli(site, "list").stdout
    feeds = {p.relative_to(site.feeds): p.read_bytes() for p in site.feeds.rglob("*.*")}
    done = run_cli(site, "backup")
    assert done.returncode == 0, done.stderr
    folder = site.root / "state" / "backups"
    (made,) = folder.iterdir()
    assert done.stdout.startswith(f"backup {made}: 4 entries, schema ")
    assert made.name.startswith("scofeed-") and made.suffix == ".sqlite3"
    assert stat.S_IMODE(made.stat().st_mode) == 0o600  # it holds secrets and keys
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert checked(made)[:2] == ("delete", 4)  # one file: no -wal to carry beside it
    # restored in place of a lost store and feeds folder: the same entries, the same bytes
    state = site.config().paths.state
    for leftover in state.parent.glob(state.name + "*"):
        leftover.unlink()
    shutil.rmtree(site.feeds)
    shutil.copy(made, state)
    assert run_cli(site, "list").stdout == listed
    rebuilt = run_cli(site, "build")
    assert "new=0 updated=0" in rebuilt.stdout, rebuilt.stdout
    assert {p.relative_to(site.feeds): p.read_bytes() for p in site.feeds.rglob("*.*")} == feeds


def test_a_backup_never_writes_over_a_file_and_leaves_nothing_when_it_cannot(site):
    missing = run_cli(site, "backup", str(site.root / "b.sqlite3"))
    assert missing.returncode != 0 and "no state store here" in missing.stderr
    assert not (site.root / "b.sqlite3").exists()
    assert run_cli(site, "build").returncode == 0
    target = site.root / "keep" / "b.sqlite3"
    target.parent.mkdir()
    target.write_bytes(b"an earlier backup")
    refused = run_cli(site, "backup", str(target))
    assert refused.returncode == 2
    assert refused.stderr == f"scofeed: {target}: exists; a backup never writes over a file\n"
    assert target.read_bytes() == b"an earlier backup"
    assert [p.name for p in target.parent.iterdir()] == ["b.sqlite3"]  # no temporary file
    named = run_cli(site, "backup", str(target.parent / "c.sqlite3"))
    assert named.returncode == 0 and checked(target.parent / "c.sqlite3")[1] == 1
    assert named.stderr == ""
    key = site.root / "state" / "activitypub-key.pem"  # made when the actor is enabled
    key.write_bytes(b"a private key")
    reminded = run_cli(site, "backup", str(target.parent / "d.sqlite3"))
    assert reminded.stderr == f"not in it: the ActivityPub key {key}; back it up too\n"


def test_backups_taken_while_the_daemon_ingests_are_each_whole(start, site):
    """The daemon stores releases as they come while backups are taken: each backup is
    the store as one moment saw it (none torn, each opens), never fewer entries than
    the one before, and the daemon goes on."""
    d = start()
    folder = site.root / "backups"
    counts = []
    for n in range(12):
        release(site, n)
        if n % 3 == 2:
            target = folder / f"b{n}.sqlite3"
            done = run_cli(site, "backup", str(target))
            assert done.returncode == 0, done.stderr
            mode, entries, _ = checked(target)
            assert mode == "delete"
            counts.append(entries)
            Store(target).close()  # opens as a store, as a restore would
    assert counts == sorted(counts) and counts[0] >= 1
    wait_for(lambda: len(d.feed_titles()) == 13, what="the daemon to publish every release")
    run_cli(site, "backup", str(folder / "last.sqlite3"))
    assert checked(folder / "last.sqlite3")[1] == 13
    assert d.stop() == 0


def test_a_backup_says_which_folder_in_its_path_is_a_file(site):
    assert run_cli(site, "build").returncode == 0
    for target in (site.config_path / "b.sqlite3", site.config_path / "folder"):
        refused = run_cli(site, "backup", str(target))
        assert refused.returncode == 1
        assert f"({site.config_path} is a file, not a folder)\n" in refused.stderr  # "File exists"


def test_a_damaged_store_fails_the_check_and_leaves_no_backup(site):
    """Pages of the store damaged: the copy has them too, and its check fails. It said
    "cannot write the backup", then "<target>: the copy failed its check", as if the
    target were at fault: the store is named, damaged, exit 2 as in every command."""
    assert run_cli(site, "build").returncode == 0
    state = site.config().paths.state
    sqlite3.connect(state).close()  # its -wal checkpointed into the file
    with open(state, "r+b") as f:
        f.seek(3 * 4096)
        f.write(b"\xff" * 5 * 4096)
    target = site.root / "b.sqlite3"
    refused = run_cli(site, "backup", str(target))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(f"scofeed: {state}: the state store is damaged ("), (
        refused.stderr
    )
    assert not target.exists() and list(site.root.glob(".b.sqlite3*")) == []


def test_a_store_on_a_read_only_mount_is_backed_up(site, read_only_mount):
    """The store closed cleanly on a read-only disk (no -shm file, none to make): it is
    read as it is, as ``scofeed list`` reads it; the backup failed "(unable to open
    database file)"."""
    assert run_cli(site, "build").returncode == 0
    state = site.config().paths.state
    sqlite3.connect(state).close()  # the last connection: its -wal and -shm go
    assert not state.with_name(state.name + "-wal").exists()
    read_only_mount(state.parent)
    target = site.root / "b.sqlite3"
    done = run_cli(site, "backup", str(target))
    assert done.returncode == 0, done.stderr
    assert checked(target)[1] == 1


def test_a_full_backup_disk_is_named_not_the_store(site, small_disk):
    """No room on the backup's disk: the error names the backup and its disk; it blamed
    the store ("cannot read the state store (database or disk is full)")."""
    assert run_cli(site, "build").returncode == 0
    folder = small_disk(site.root / "backups")
    test_daemon_limits.fill(folder)
    target = folder / "b.sqlite3"
    refused = run_cli(site, "backup", str(target))
    assert (refused.returncode, refused.stderr) == (
        1,
        f"scofeed: {target}: cannot write the copy of the state store (no space left on "
        f"the disk of {folder})\n",
    )
    assert sorted(p.name for p in folder.iterdir()) == ["filler"]


def long_ago(*paths: Path) -> None:
    for path in paths:
        os.utime(path, (time.time() - 3600, time.time() - 3600))


def test_what_an_interrupted_backup_left_is_removed_by_the_next(site, tmp_path):
    """A backup killed before its copy took its name (a timeout, the OOM killer) left its
    temporary file, as big as the store: one to a name given was refused for good after
    it, and one into a folder took the next name and left it there, so a nightly backup
    killed now and then filled the disk. A backup holds a lock on its temporary file;
    one no backup holds is removed by the next backup there (named in one line), one
    held is a backup under way and is left alone."""
    assert run_cli(site, "build").returncode == 0
    target = site.root / "b.sqlite3"
    left = site.root / ".b.sqlite3.tmp"
    left.write_bytes(b"x" * 4096)
    long_ago(left)  # a leftover is a minute old at least: one just made is a backup's
    with open(left, "rb") as held:  # a backup to that name under way
        fcntl.flock(held, fcntl.LOCK_EX)
        refused = run_cli(site, "backup", str(target))
        assert refused.returncode == 1 and not target.exists() and left.exists()
        assert f"({left} exists: a backup to this name is under way, or was" in refused.stderr
    done = run_cli(site, "backup", str(target))  # interrupted: its lock went with it
    assert done.returncode == 0, done.stderr
    assert f"backup_leftover_removed path={left} (an interrupted backup's)" in done.stderr
    assert target.exists() and not left.exists()
    folder = tmp_path / "nightly"
    folder.mkdir()
    old = folder / ".scofeed-20261201T020000Z.sqlite3.tmp"
    old.write_bytes(b"x" * 4096)
    (folder / (old.name + "-journal")).write_bytes(b"j")
    busy = folder / ".scofeed-20261203T020000Z.sqlite3.tmp"
    busy.write_bytes(b"y")
    fresh = folder / ".scofeed-20261203T020500Z.sqlite3.tmp"  # made, not yet locked
    fresh.write_bytes(b"")
    long_ago(old, busy)
    with open(busy, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = run_cli(site, "backup", str(folder))
    assert done.returncode == 0, done.stderr
    names = sorted(p.name for p in folder.iterdir())
    assert busy.name in names and old.name not in names and old.name + "-journal" not in names
    assert fresh.name in names  # a backup between making its file and locking it
    assert len([n for n in names if n.endswith(".sqlite3") and n.startswith("scofeed-")]) == 1


def test_a_target_ending_in_a_slash_is_a_folder_whatever_its_name(site):
    """``/mnt/backup.d/``: a folder, as its "/" says; its dot made it a new file named
    ``backup.d``."""
    assert run_cli(site, "build").returncode == 0
    folder = site.root / "backup.d"
    done = run_cli(site, "backup", f"{folder}/")
    assert done.returncode == 0, done.stderr
    assert folder.is_dir()
    (made,) = folder.iterdir()
    assert made.name.startswith("scofeed-") and checked(made)[1] == 1


def test_backups_in_one_second_to_one_folder_each_get_a_name(site):
    """The name has the time to the second: a second backup in that second failed,
    exit 2 (a usage error to a timer). It takes the next free name, after the first
    in name order; a file named so is written over no more than before."""
    assert run_cli(site, "build").returncode == 0
    store, now = site.config().paths.state, datetime(2026, 12, 3, 10, 49, 39, tzinfo=UTC)
    folder = site.root / "same-second"
    names = [backup(store, folder, now).path.name for _ in range(3)]
    assert names == [
        "scofeed-20261203T104939Z.sqlite3",
        "scofeed-20261203T104939Z_2.sqlite3",
        "scofeed-20261203T104939Z_3.sqlite3",
    ]
    assert sorted(names) == names and all(checked(folder / n)[1] == 1 for n in names)
    with pytest.raises(UsageError, match="exists; a backup never writes over a file"):
        backup(store, folder / names[1], now)


@pytest.mark.parametrize("where", ["feeds", "sources"])
def test_a_backup_is_refused_where_the_feeds_are_served_or_the_sources_read(site, where):
    """The store holds the WebSub subscribers' secrets: in feeds/ a web server serving
    that folder served it; in sources/ every scan rejected it as a release too large.
    Refused as ``paths.state`` there is, nothing written."""
    assert run_cli(site, "build").returncode == 0
    folder = getattr(site, where)
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    for target in (f"{folder}/", str(folder / "old" / "b.sqlite3")):
        refused = run_cli(site, "backup", target)
        assert refused.returncode == 2, refused.stderr
        assert refused.stderr.startswith(f"scofeed: backup: expected a path outside paths.{where}")
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before


@pytest.mark.parametrize("answer", [errno.EPERM, errno.EOPNOTSUPP])
def test_a_file_system_without_hard_links_still_takes_a_backup(site, monkeypatch, answer):
    """vfat and exFAT answer link(2) with EPERM, some SMB and FUSE mounts EOPNOTSUPP:
    every backup to a USB stick failed. (No such file system can be mounted here, so
    link(2) answers as theirs do.) The name is claimed by an empty file made
    exclusively, the copy renamed over it: still never over a file made meanwhile."""
    assert run_cli(site, "build").returncode == 0
    store = site.config().paths.state

    def no_links(src, dst, *args, **kwargs):
        raise OSError(answer, os.strerror(answer))

    monkeypatch.setattr(os, "link", no_links)
    made = backup(store, site.root / "stick" / "b.sqlite3", datetime.now(UTC))
    assert made.entries == 1 and checked(made.path)[:2] == ("delete", 1)
    assert stat.S_IMODE(made.path.stat().st_mode) == 0o600
    assert sorted(p.name for p in made.path.parent.iterdir()) == ["b.sqlite3"]
    with pytest.raises(UsageError, match="exists; a backup never writes over a file"):
        backup(store, made.path, datetime.now(UTC))


def test_a_rename_refused_there_leaves_no_empty_file_in_the_backups_name(site, monkeypatch):
    """Without hard links the name is claimed by an empty file: the rename of the copy
    over it failing (a mount refusing a rename over a file, EACCES), the backup fails in
    one line and that empty file goes too, as the copy does: an interrupted backup
    leaves nothing that looks like one, and the same name can be backed up to again."""
    assert run_cli(site, "build").returncode == 0
    store = site.config().paths.state
    target = site.root / "stick" / "b.sqlite3"

    def no_links(src, dst, *args, **kwargs):
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    def no_rename(src, dst, *args, **kwargs):
        raise OSError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(os, "link", no_links)
    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(StoreError, match="cannot write the backup"):
        backup(store, target, datetime.now(UTC))
    assert list(target.parent.iterdir()) == []
    monkeypatch.undo()
    assert backup(store, target, datetime.now(UTC)).entries == 1


def test_an_empty_or_foreign_store_is_named_not_the_target(site):
    """A 0-byte store (a path opened and never written) and another program's SQLite
    file at paths.state said "<target>: cannot write the backup (no such table:
    entries)", blaming the target: now the store is named and why."""
    state = site.config().paths.state
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_bytes(b"")
    target = site.root / "b.sqlite3"
    empty = run_cli(site, "backup", str(target))
    assert empty.returncode == 1 and "Traceback" not in empty.stderr
    assert empty.stderr == (
        f"scofeed: {state}: the state store is empty (0 bytes): nothing to back up\n"
    )
    state.unlink()
    other = sqlite3.connect(state)
    other.execute("CREATE TABLE notes (body TEXT)")
    other.commit()
    other.close()
    foreign = run_cli(site, "backup", str(target))
    assert foreign.returncode == 1 and "Traceback" not in foreign.stderr
    assert foreign.stderr == (
        f"scofeed: {state}: not a scofeed state store (no entries); no backup made\n"
    )
    assert not target.exists() and list(site.root.glob(".b.sqlite3*")) == []


def test_backup_help_names_every_target_taken_as_a_folder(site):
    """``backup --help`` named only a name ending in / as a folder: `backup state`, an
    existing folder without one, wrote into it, as docs/commands.md says it does."""
    run_cli(site, "build")
    (site.root / "kept").mkdir()
    proc = run_cli(site, "backup", "kept")
    assert proc.returncode == 0 and proc.stdout.startswith(f"backup {Path('kept')}/scofeed-")
    shown = " ".join(run_cli(site, "backup", "--help").stdout.split())
    assert "a folder (one that exists, a name without a suffix, or ending in /)" in shown


def test_a_backup_beaten_to_its_name_in_that_second_takes_the_next(site, monkeypatch):
    """Two backups in one second (two timers, a timer and an operator) could both find
    the first name free, and the second to claim it failed, exit 2 ("a backup to this
    name is under way"). The one beaten takes the next free name. The interleaving is
    made here: the other backup claims the name just after our look."""
    assert run_cli(site, "build").returncode == 0
    store, now = site.config().paths.state, datetime(2026, 12, 3, 10, 49, 39, tzinfo=UTC)
    folder = site.root / "raced"
    looked = backup_module.free_name
    beaten: list[Path] = []

    held: list[object] = []

    def look_then_beaten(where: Path, when: datetime) -> Path:
        name = looked(where, when)
        if not beaten:  # the other backup claims the name we just found free
            where.mkdir(exist_ok=True)
            other = open(where / f".{name.name}.tmp", "wb")  # noqa: SIM115 (held below)
            fcntl.flock(other, fcntl.LOCK_EX)
            held.append(other)
            beaten.append(name)
        return name

    monkeypatch.setattr(backup_module, "free_name", look_then_beaten)
    made = backup(store, folder, now)
    assert beaten == [folder / "scofeed-20261203T104939Z.sqlite3"]
    assert made.path == folder / "scofeed-20261203T104939Z_2.sqlite3"
    assert checked(made.path)[1] == 1
    # a name given by the operator is not changed for another
    with open(folder / ".mine.sqlite3.tmp", "wb") as other:
        fcntl.flock(other, fcntl.LOCK_EX)
        with pytest.raises(StoreError, match="a backup to this name is under way"):
            backup(store, folder / "mine.sqlite3", now)
    for other in held:
        other.close()
