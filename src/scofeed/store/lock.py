"""The daemon's lock beside the store, ``<state>.lock``: an exclusive flock held by the
running ``scofeed run``, the file holding its pid and start time. Read here by whoever
needs to know whether a daemon runs (``scofeed status``, ``reload``, which signals it
from here without loading the daemon, and a one-shot command about to upgrade the
store); taken by the daemon (``PidLock``). ``exclusively``: the
locks that make two processes take turns at one step (publishing, ``scofeed add``)."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from scofeed.errors import AlreadyRunning, ScofeedError, StoreError
from scofeed.store.schema import MIGRATIONS
from scofeed.store.trouble import beside, unusable

log = logging.getLogger(__name__)


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


LOCK_TRIES = 20  # a second's worth of tries at a lock held for an instant by a command


def already_running(pid: int | None, lock: Path) -> str:
    return (
        f"another scofeed daemon (pid {pid or 'unknown'}) is already running on this state "
        f"store (lock {lock})"
    )


def _name_self(fd: int, started: float) -> None:
    """Write this process into the lock file open at ``fd``: its pid, start time and
    schema (commands beside it upgrade by it). OSError (a full disk) is the caller's."""
    os.ftruncate(fd, 0)
    os.write(fd, lock_text(len(MIGRATIONS), started))


class PidLock:
    """An exclusive flock on a file beside the store, holding the owner's pid."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self.started = time.time()  # said in the lock file made again too (status: "up")

    def acquire(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # the state folder not writable (under systemd: ReadWritePaths)
            if isinstance(exc, (FileExistsError, NotADirectoryError)):
                raise unusable(self.path, exc, "open") from None  # a file where a folder goes
            raise StoreError(
                f"{self.path}: cannot open the daemon's lock file ({exc.strerror}); the "
                f"daemon's user must be able to write in {self.path.parent}"
            ) from None
        # a command asking whether a daemon runs (``store.lock.running``) holds a shared
        # lock for an instant: a daemon starting then was told another one ran. No
        # daemon writes an empty lock file: while it names no pid, try again, for a second
        for _ in range(LOCK_TRIES):
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                pid = read_lock(fd).pid
                if pid is None:
                    time.sleep(1 / LOCK_TRIES)
                    continue
                os.close(fd)
                raise AlreadyRunning(already_running(pid, self.path)) from None
        else:
            os.close(fd)
            raise AlreadyRunning(already_running(None, self.path))
        try:
            _name_self(fd, self.started)
        except OSError as exc:  # a full disk: it was a traceback, and a start again each time
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            raise StoreError(
                f"{self.path}: cannot write the daemon's lock file ({exc.strerror})"
            ) from None
        self._fd = fd

    def ensure(self) -> None:
        """Make the lock file again when it was removed or replaced while held (``rm``
        of the state folder's files, a restore copying a folder over it): a second
        daemon then started on the same store, and commands (``status``, ``reload``)
        found only that one, or none. Called every few seconds from the main loop."""
        if self._fd is None or still_names(self.path, self._fd):
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            log.error("lock_file_lost path=%s error=%r", self.path, exc.strerror)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = read_lock(fd).pid
            os.close(fd)
            if pid is None:  # a command's look (a shared lock for an instant): next time
                log.debug("lock_file_busy path=%s", self.path)
                return
            log.error(
                "lock_file_taken path=%s by_pid=%s: another scofeed daemon runs on this "
                "store; stop one of them", self.path, pid,
            )  # fmt: skip
            return
        try:
            _name_self(fd, self.started)
        except OSError as exc:  # a full disk: tried again at the next look, never fatal
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
            log.error("lock_file_lost path=%s error=%r", self.path, exc.strerror)
            return
        os.close(self._fd)  # the lock on the file no name leads to any more goes with it
        self._fd = fd
        log.warning("lock_file_made_again path=%s (it was removed or replaced)", self.path)

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
