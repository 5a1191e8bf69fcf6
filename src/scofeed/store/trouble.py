"""What is said when the machine keeps the state store from being used: the one line
naming the store and why (damaged, busy past the wait, read-only, a full disk...),
from SQLite's result code and the file's mode and owner."""

from __future__ import annotations

import fcntl
import os
import pwd
import sqlite3
import stat
import struct
from pathlib import Path

from scofeed.errors import StoreError, StoreUnusable

DAMAGED = {11, 26}  # SQLite's SQLITE_CORRUPT and SQLITE_NOTADB

# seconds a statement waits for a lock another process holds, where no config says
# (``limits.store_wait``)
WAIT = 30.0

# SQLite's primary result codes for a store that cannot be used now: busy or locked
# (another process past the busy timeout), no memory, read-only, I/O error (a full disk,
# a file-size limit), damaged, cannot open, not a database
STORE_TROUBLE = {5, 6, 7, 8, 10, 11, 13, 14, 26}

# what SQLite answers when it finds no room on the disk (an I/O error, full): a read-only
# command then reads the store as it is, and the error says why
NO_ROOM = (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL)


def disk_full(path: Path) -> bool:
    """Whether the filesystem that holds ``path`` has no room left for this user."""
    try:
        st = os.statvfs(path.parent)
    except OSError:
        return False
    return st.f_bavail == 0


def busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite saying another connection holds the write lock past the
    wait (``SQLITE_BUSY``)."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    return isinstance(exc, sqlite3.OperationalError) and code == sqlite3.SQLITE_BUSY


def store_trouble(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite saying the machine keeps the store from being used,
    rather than a mistake in a query (a bug, logged with its traceback)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF in STORE_TROUBLE


def unusable(path: Path, exc: BaseException, doing: str = "use", wait: float = WAIT) -> StoreError:
    """The one-line error for a store SQLite cannot ``doing`` (open, use): damaged
    (``StoreUnusable``, exit 2: trying again cannot help, the operator must act), or
    kept from use for now (busy past ``wait`` seconds, a full disk, read-only...)."""
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
    if code in NO_ROOM and disk_full(path):  # "disk I/O error" said nothing of why
        return StoreError(
            f"{path}: cannot {doing} the state store (no space left on the disk of {path.parent})"
        )
    if code == sqlite3.SQLITE_READONLY and path.is_file():  # whose it is, and its mode
        owned = cannot_write(path) or whose_folder(path)
        return StoreError(f"{path}: cannot {doing} the state store ({exc}: {owned})")
    if code == sqlite3.SQLITE_CANTOPEN and path.is_file() and (why := cannot_read(path)):
        # "unable to open database file" of a store it can read: its -wal or -shm file,
        # left by a daemon run as another user
        return StoreError(f"{path}: cannot {doing} the state store ({exc}: {why})")
    if code == sqlite3.SQLITE_CANTOPEN and not path.exists() and path.parent.is_dir():
        if not writable(path.parent):  # none there to open, and none can be made: why
            made = whose(path.parent, f"folder {path.parent}")
            return StoreError(
                f"{path}: cannot {doing} the state store (there is none, and none can be "
                f"made there: {made})"
            )
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):  # was "(database is locked)"
        held = f"{wait:g} s: a scofeed build, add or daemon, or a sqlite3 shell"
        return StoreError(f"{path}: cannot {doing} the state store (another process has held "
                          f"its write lock for over {held}; `fuser {path}` names it); try "
                          "again once it is done")  # fmt: skip
    if code in DAMAGED:
        return StoreUnusable(
            f"{path}: the state store is damaged ({exc}); it was left as it "
            "is. Restore it from a backup, or move it aside to start a new one "
            "from sources/ (docs/operations.md, backups)"
        )
    if isinstance(exc, (FileExistsError, NotADirectoryError)) and not path.parent.is_dir():
        # mkdir of its folder, or a path through a file: "(File exists: /x/state)" said
        # nothing of what is wrong
        return StoreError(f"{path}: cannot {doing} the state store ({not_a_folder(path)})")
    if isinstance(exc, OSError) and exc.strerror:  # not "[Errno 2] No such file...: '/x'"
        where = f": {exc.filename}" if exc.filename and str(exc.filename) != str(path) else ""
        return StoreError(f"{path}: cannot {doing} the state store ({exc.strerror}{where})")
    if path.is_dir():  # SQLite says only "unable to open database file"
        return StoreError(f"{path}: cannot {doing} the state store (a folder, not a file)")
    return StoreError(f"{path}: cannot {doing} the state store ({exc})")


def writable(path: Path) -> bool:
    """Whether this process may write ``path`` (its mode, a read-only mount), as the
    system tells (``access``), not by opening it: closing any descriptor of the store
    drops every lock SQLite holds on it in this process (see "How To Corrupt An SQLite
    Database File")."""
    return allowed(path, os.W_OK)


def allowed(path: Path, mode: int) -> bool:
    """Whether this process (its effective user) may ``access`` ``path`` in ``mode``."""
    return os.access(path, mode, effective_ids=os.access in os.supports_effective_ids)


def cannot_write(path: Path) -> str | None:
    """Why this process cannot write the store at ``path``, or the -wal or -shm file
    beside it (one left read-only by a reader of a read-only store: every write then
    failed, "attempt to write a readonly database"); None when it can write each one
    that is there."""
    for each, named in (
        (path, "file"),
        *((beside(path, t), f"file {beside(path, t)}") for t in TAILS),
    ):
        if each.exists() and not writable(each):
            return whose(each, named)
    return None


def refuse_unwritable(path: Path) -> None:
    """Refuse a store this process must write and cannot (``cannot_write``), before
    anything is opened or made beside it. One this user cannot write, in a folder it
    can (made by a `scofeed build` run as root, or a -shm file a reader of a read-only
    store left), is opened read-only by SQLite without a word: the daemon started, and
    every job failed at every tick with "attempt to write a readonly database". Found
    only once SQLite had it open, the refused start had made -wal and -shm files (and
    the daemon's lock file) of its own user beside it, which then kept the store's
    owner from writing it."""
    why = cannot_write(path)
    if why is not None:
        raise StoreError(f"{path}: cannot open the state store for writing ({why})")


def cannot_read(path: Path) -> str | None:
    """Why this process cannot read the store at ``path``, or the -wal or -shm file
    beside it; None when it can read each one that is there."""
    for each, named in (
        (path, "file"),
        *((beside(path, t), f"file {beside(path, t)}") for t in TAILS),
    ):
        if each.exists() and not allowed(each, os.R_OK):
            return whose(each, named, "read")
    return None


TAILS = ("-wal", "-shm")  # the files SQLite keeps beside a store in WAL mode


def _with_tails(path: Path) -> list[tuple[Path, str]]:
    """The store's file and the -wal and -shm files beside it, each as messages name it."""
    return [(path, "file"), *((beside(path, t), f"file {beside(path, t)}") for t in TAILS)]


def beside(path: Path, tail: str) -> Path:
    """The file SQLite keeps beside the store at ``path`` (``tail``: "-wal", "-shm"):
    beside the file a symbolic link names, where SQLite puts it. A store linked onto
    another disk was looked at beside the link: a restored backup's old -wal was not
    seen, and SQLite wrote it into the backup."""
    return Path(f"{os.path.realpath(path)}{tail}")


def whose_folder(path: Path) -> str:
    """The mode and owner of the store's folder, where the -wal and -shm files go."""
    return whose(path.parent, f"folder {path.parent} (where the -wal and -shm files go)")


def whose(path: Path, named: str, need: str = "write") -> str:
    """The mode and owner of ``path`` (``named`` so), which this user cannot ``need``
    (write, read); or, to write, the read-only file system it is on (its mode is not
    what keeps it from being written)."""
    if need == "write" and on_read_only_mount(path):
        return f"{path if path.is_dir() else path.parent} is on a read-only file system"
    if need == "write" and path.is_dir() and immutable(path):  # mode and owner say nothing
        return f"the {named} is immutable or append-only (chattr +i or +a; lsattr -d shows it)"
    st = path.stat()
    try:
        owner = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        owner = str(st.st_uid)
    return (
        f"the {named} is mode {stat.S_IMODE(st.st_mode):04o}, owned by {owner}; the user "
        f"running scofeed must be able to {need} it"
    )


# Linux's FS_IOC_GETFLAGS (an unsigned long read), and its immutable and append-only
# flags; elsewhere the ioctl fails and nothing is said of them
_GETFLAGS = 0x80086601 if struct.calcsize("l") == 8 else 0x80046601
_IMMUTABLE_OR_APPEND = 0x10 | 0x20


def immutable(path: Path) -> bool:
    """Whether the folder ``path`` is flagged immutable or append-only (``chattr +i``,
    ``+a``), which keeps even root from writing in it, whatever its mode. Folders only:
    asking opens what it asks of, and closing a descriptor of the store (or its -wal)
    drops every lock SQLite holds on it in this process (``refuse_not_ours``)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_DIRECTORY)
    except OSError:
        return False
    try:  # the flags in a bytes buffer, answered in a copy (no `array` module to load)
        (flags,) = struct.unpack("l", fcntl.ioctl(fd, _GETFLAGS, struct.pack("l", 0)))
    except OSError:  # not Linux, or a file system without such flags
        return False
    finally:
        os.close(fd)
    return bool(flags & _IMMUTABLE_OR_APPEND)


def on_read_only_mount(path: Path) -> bool:
    """Whether ``path`` is on a file system mounted read-only (a bind mount, a replica)."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def not_a_folder(path: Path) -> str:
    """Which of ``path``'s parents is a file, not a folder, said so."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return f"{parent} is a file, not a folder"
    return f"{path.parent} is not a folder"
