"""The daemon's lock beside the store, ``<state>.lock``: an exclusive flock held by the
running ``scofeed run``, the file holding its pid and start time. Read here by whoever
needs to know whether a daemon runs (``scofeed status``, ``reload``, and a one-shot
command about to upgrade the store); taken by ``daemon.PidLock``."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from scofeed.errors import StoreError


def lock_path(state: Path) -> Path:
    return state.with_name(state.name + ".lock")


def read_lock(fd: int) -> tuple[int | None, float | None]:
    """(pid, start time) as the lock file records them; None for what it does not say."""
    os.lseek(fd, 0, os.SEEK_SET)
    words = os.read(fd, 64).decode("ascii", "replace").split()
    pid = int(words[0]) if words and words[0].isdigit() else None
    started = float(words[1]) if len(words) > 1 and words[1].isdigit() else None
    return pid, started


def running(state: Path) -> tuple[int | None, float | None] | None:
    """(pid, start time) of the daemon holding this store's lock; None when none runs.
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
