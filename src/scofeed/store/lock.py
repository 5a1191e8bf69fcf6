"""The daemon's lock beside the store, ``<state>.lock``: an exclusive flock held by the
running ``scofeed run``, the file holding its pid and start time. Read here by whoever
needs to know whether a daemon runs (``scofeed status``, ``reload``, which signals it
from here without loading the daemon, and a one-shot command about to upgrade the
store); taken by ``daemon.PidLock``. ``exclusively``: the
locks that make two processes take turns at one step (publishing, ``scofeed add``)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from scofeed.errors import ScofeedError, StoreError
from scofeed.store.trouble import beside


@contextlib.contextmanager
def exclusively(path: Path, what: str, error: type[ScofeedError] = StoreError) -> Iterator[None]:
    """The block run holding an exclusive flock on ``path`` (made if missing), waited
    for as long as another process holds it; ``error`` naming ``what`` (the publish
    lock) when the file cannot be opened."""
    try:
        fh = open(path, "a")  # noqa: SIM115 (closed below: that releases the lock)
    except OSError as exc:
        raise error(f"{path}: cannot open the {what} ({exc.strerror})") from None
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def lock_path(state: Path) -> Path:
    return state.with_name(state.name + ".lock")


class Holder(NamedTuple):
    """The daemon holding the lock, as its lock file says; None for what it does not."""

    pid: int | None
    started: float | None
    schema: int | None  # the store schema its code makes (none from before it said)


def still_names(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open at ``fd`` (a lock taken on a file
    holds nothing once the name leads elsewhere: removed, or made again)."""
    try:
        return os.path.samestat(os.stat(path), os.fstat(fd))
    except OSError:
        return False


class StateFiles:
    """The store's file and its -wal and -shm files as the daemon found them once it
    had the store open: ``changed`` names one removed or replaced since (an operator's
    ``rm state/*``, a restore renamed over a running daemon; one copied onto the same
    file keeps its identity and cannot be told). SQLite goes on writing the file it has
    open, which no other process sees any more: every job then failed ("disk I/O
    error") until a restart, and a build beside it damaged the store."""

    def __init__(self, state: Path) -> None:
        paths = [state, beside(state, "-wal"), beside(state, "-shm")]
        self.seen = {p: _identity(p) for p in paths}

    def changed(self) -> Path | None:
        for path, was in self.seen.items():
            if was is not None and _identity(path) != was:
                return path
        return None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def lock_text(schema: int, started: float | None = None) -> bytes:
    """What a daemon writes in its lock file: its pid, start time (``started``, else
    now) and schema version."""
    when = time.time() if started is None else started
    return f"{os.getpid()}\n{int(when)}\n{schema}\n".encode()


def read_lock(fd: int) -> Holder:
    """The holder as the lock file records it."""
    os.lseek(fd, 0, os.SEEK_SET)
    words = os.read(fd, 64).decode("ascii", "replace").split()
    pid = int(words[0]) if words and words[0].isdigit() else None
    started = float(words[1]) if len(words) > 1 and words[1].isdigit() else None
    schema = int(words[2]) if len(words) > 2 and words[2].isdigit() else None
    return Holder(pid, started, schema)


def running(state: Path) -> Holder | None:
    """The daemon holding this store's lock; None when none runs.
    A lock file this user cannot read (the daemon's own, mode 0600) is a ``StoreError``
    saying so: whether a daemon runs cannot be told (it was a traceback)."""
    path = lock_path(state)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(
            f"{path}: cannot read the daemon's lock file ({exc.strerror or exc})"
        ) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return read_lock(fd)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def running_pid(state: Path) -> int | None:
    """The pid of the daemon holding this store's lock, or None when none is running."""
    found = running(state)
    return found[0] if found else None


def signal_reload(state: Path) -> int:
    """Send SIGHUP to the daemon running on ``state``; returns its pid."""
    pid = running_pid(state)
    if pid is None:
        raise StoreError(f"no scofeed daemon is running on {state} (lock {lock_path(state)})")
    try:
        os.kill(pid, signal.SIGHUP)
    except PermissionError:
        raise StoreError(
            f"not allowed to signal the daemon (pid {pid}); run this as its user, "
            "or `systemctl reload scofeed`"
        ) from None
    except ProcessLookupError:
        raise StoreError(f"the daemon (pid {pid}) is gone; its lock is stale") from None
    return pid
