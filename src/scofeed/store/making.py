"""A new state store made whole, and what is refused as no store of scofeed's.

A new store is made in a private file beside its place (``.NAME.new-PID-RANDOM``; one
left by a process killed meanwhile is removed by the next to make a store), schema and
all, and linked into place only then: the store's path never names a file
that holds less than a whole store of this version. So a file there of 0 bytes is none of
scofeed's making (a copy cut short, a full disk, a slip of ``>``), and neither is a
database at schema version 0 that holds tables (``paths.state`` naming another program's
database): both are refused, left as they are, where SQLite would have taken either for
a new store and written the schema into it (the empty file rebuilt from sources/, its
entries' history gone and every release delivered again as new). So is a -wal file
left where no store is (the store moved aside without it): SQLite would replay that
store's last transactions into the new one.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import logging
import os
import sqlite3
import threading
import time
import zlib
from pathlib import Path

from scofeed.errors import StoreUnusable
from scofeed.store.fresh import FRESH_IMAGE, FRESH_VERSION
from scofeed.store.schema import MIGRATIONS, statements
from scofeed.store.trouble import beside

log = logging.getLogger(__name__)

# what link(2) answers on a file system without hard links: vfat and exFAT (EPERM),
# some SMB and FUSE mounts (EOPNOTSUPP, ENOSYS)
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}
WHAT_TO_DO = (
    "it was left as it is. Restore it from a backup (`scofeed backup`, docs/operations.md), "
    "or move it aside to start a new one from sources/"
)


# a file left by a process that was making a store: removed by the next one to make
# one, when that process is gone, or this old (making one takes milliseconds)
LEFT_SECONDS = 600
_LOOKED_AT: set[tuple[int, int]] = set()  # (device, inode) of each file refuse_not_ours read
_LOOKING = threading.Lock()  # two threads opening their first Store: one reads, one skips


def refuse_not_ours(path: Path, wait: float) -> None:
    """A file of 0 bytes where the store should be; a database not in WAL mode (every
    store scofeed makes is; opening one switches it, a byte of its header) with a -wal
    file beside it (a backup put in place of a store, the old store's -wal left); or
    one at schema version 0 holding tables: refused (``StoreUnusable``) before anything
    is written. Only a database not in WAL mode is opened to be looked at, waiting up
    to ``wait`` seconds (``limits.store_wait``) for another process's lock on it.

    Once a process, for each file: its first bytes are read with open() and close(),
    and closing a file drops every POSIX lock this process holds on it, its SQLite
    connections' too (SQLite's "How To Corrupt", 2.2). A second ``Store`` in a process
    holding one (a build's feeds rendered in-process, the daemon's clock-jump repair)
    looked again: another process's connection closing then took itself for the last,
    checkpointed and removed the -wal the first was writing into, and the transactions
    it committed after were lost."""
    try:
        st = path.stat()
    except OSError:  # none there, or cannot be read: opening it says why
        return
    with _LOOKING:
        if (st.st_dev, st.st_ino) in _LOOKED_AT:
            return
        try:
            with path.open("rb") as f:
                head = f.read(100)
        except OSError:
            return
        _refuse_by_head(path, head, wait)
        _LOOKED_AT.add((st.st_dev, st.st_ino))  # not read again, once ours may hold a lock


def _refuse_by_head(path: Path, head: bytes, wait: float) -> None:
    """``refuse_not_ours`` on the first 100 bytes of the file at ``path``."""
    if not head:
        raise StoreUnusable(f"{path}: the state store is an empty file (0 bytes); {WHAT_TO_DO}")
    if not (head.startswith(b"SQLite format 3\0") and len(head) == 100 and head[18] == 1):
        return
    wal = beside(path, "-wal")
    if wal.is_file() and wal.stat().st_size > 0:  # no WAL store's: a restore left it
        raise StoreUnusable(
            f"{wal} is not this store's: {path} is not in WAL mode (a backup put in place?), "
            "and SQLite would write that -wal's transactions, of the store before, into it. "
            "Remove the -wal and -shm files beside it, then run the command again"
        )
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=wait)) as db:
        if db.execute("PRAGMA user_version").fetchone()[0] == 0:
            refuse_foreign(path, db)


def refuse_foreign(path: Path, db: sqlite3.Connection) -> None:
    """A database at schema version 0 that holds tables: not a store scofeed made."""
    (tables,) = db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    if tables:
        raise StoreUnusable(
            f"{path}: not a scofeed state store (a database at schema version 0 with "
            f"{tables} tables and indexes of its own: does paths.state name another "
            f"program's database?); {WHAT_TO_DO}"
        )


def make_whole(path: Path) -> None:
    """A new store at ``path`` (none there yet), made whole beside it, then linked in:
    a second process making one at the same moment links its own in first, or finds
    this one there, and leaves the other as it is. Only its owner may read it (0600):
    it holds what subscribers gave the hub to sign with (``hub.secret``). Where the
    file beside cannot be made (a folder this user cannot write), nothing is done:
    opening the store then says why. A store there already: nothing is done."""
    if path.exists():
        return
    # a symbolic link to no file yet: the store is made where it points, as SQLite
    # would make it (0644, a link in the way of the one to the file made whole)
    path = Path(os.path.realpath(path))
    wal = beside(path, "-wal")
    if wal.is_file() and wal.stat().st_size > 0:  # replayed into the new store by SQLite
        raise StoreUnusable(
            f"{wal} is there without its store {path} (moved or deleted, its -wal left "
            "behind): it holds that store's last transactions, which SQLite would write "
            "into a new one. Put the store back beside it, or move the -wal and -shm files "
            "aside too to start a new store"
        )
    _remove_left(path)
    # a name of its own: a file left by a process killed while making one is never in
    # the way of this one (a process of the same PID after it: PID 1 in a container)
    new = path.with_name(f".{path.name}.new-{os.getpid()}-{os.urandom(4).hex()}")
    try:
        fd = os.open(new, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return
    try:
        # the schema as SQLite wrote it when `make schema` ran FRESH (``fresh_image``):
        # running FRESH's ~80 statements here was ~8 ms of CPU a store, the image's
        # ~330 kB (mostly empty root pages) ~0.3 ms to unpack
        with os.fdopen(fd, "wb") as f:
            f.write(fresh_image())
        if FRESH_VERSION < len(MIGRATIONS):  # a migration appended since: run here, so
            _migrate(new)  # that the store takes its name whole, at its latest version
        fd = os.open(new, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(new, path)
        except FileExistsError:
            return  # another process made it first: that one is the store
        except OSError as exc:
            if exc.errno not in _NO_LINKS or path.exists():
                raise
            os.rename(new, path)
        log.info("store_created path=%s version=%d", path, len(MIGRATIONS))
    finally:
        for tail in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{new}{tail}")


def _remove_left(path: Path) -> None:
    """The files a process killed while making this store left beside it
    (``.NAME.new-PID-RANDOM``, and its -wal or -shm), removed: those of a process no
    longer running, and any older than ``LEFT_SECONDS`` (its PID may be another's now).
    A process making one at this moment keeps its own."""
    prefix = f".{path.name}.new-"
    try:
        names = [n for n in os.listdir(path.parent) if n.startswith(prefix)]
    except OSError:
        return  # the folder cannot be listed: making the store says why
    for name in names:
        left = path.parent / name
        pid = name[len(prefix) :].split("-", 1)[0]
        try:
            old = time.time() - left.lstat().st_mtime > LEFT_SECONDS
            if not old and (not pid.isdigit() or _running(int(pid))):
                continue
            left.unlink()
        except OSError:  # gone already, or not ours to remove: left as it is
            continue
        log.info("store_leftover_removed path=%s", left)


def _running(pid: int) -> bool:
    """Whether a process of this PID runs (one of another user's counts: it may be)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, as another user
        return True
    return True


def fresh_image() -> bytes:
    """A new store of version ``FRESH_VERSION``, the bytes of its file: what SQLite wrote
    running ``FRESH`` into an empty file, then switching it to WAL mode (``make schema``,
    tests/test_store_schema.py, which checks it against the migrations)."""
    return zlib.decompress(base64.b64decode(FRESH_IMAGE))


def _migrate(path: Path) -> None:
    """The migrations past ``FRESH_VERSION`` run on the new store at ``path`` (made from
    the image), in one transaction."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("BEGIN EXCLUSIVE")
        for script in MIGRATIONS[FRESH_VERSION:]:
            for statement in statements(script):
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        db.execute("COMMIT")
