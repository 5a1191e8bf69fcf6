"""Atomic writes into feeds/: a temporary file in the same folder, fsync, then rename.

A reader never sees half a file, and a file whose bytes would not change is not
touched at all (its mtime, and so HTTP Last-Modified, stays put).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from scofeed.errors import PublishError

log = logging.getLogger(__name__)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically unless it already holds exactly that."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise PublishError(f"{path}: cannot read ({exc.strerror})") from None
    write_atomic(path, data)
    log.info("published path=%s bytes=%d", path, len(data))
    return True


def write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise PublishError(f"{path.parent}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PublishError(f"{path}: cannot write ({exc.strerror})") from None
