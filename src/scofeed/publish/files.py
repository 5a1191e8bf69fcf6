"""Published files written atomically (a temporary file in the same folder, fsync, then
rename), and only when their bytes change; what a publisher killed mid-write left swept;
a file no longer published removed."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from scofeed.errors import PublishError
from scofeed.store import feedfiles

log = logging.getLogger("scofeed.publish")  # its lines are the publisher's


SECOND = 1_000_000_000  # ns


class _Changes:
    """When this process last replaced or removed a published file (time.monotonic):
    the server's answers held in memory from a look at a file before then are not
    trusted (``serve.App.ready``), so the daemon's own publishing is served at once."""

    last = 0.0


_changes = _Changes()


def last_change() -> float:
    return _changes.last


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically unless it already holds exactly that. The
    new file's mtime (HTTP Last-Modified, here and in any static server) is later than
    the one it replaces even when the clock went back since: a client asking
    If-Modified-Since the old one would otherwise be told 304 until the clock caught up."""
    before = None
    try:
        with open(path, "rb") as fh:
            if fh.read() == data:
                return False
            before = os.fstat(fh.fileno()).st_mtime_ns
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise PublishError(f"{path}: cannot read ({exc.strerror})") from None
    write_atomic(path, data, after_ns=before)
    log.info("published path=%s bytes=%d", path, len(data))
    return True


def write_atomic(path: Path, data: bytes, after_ns: int | None = None) -> None:
    """``after_ns``: an mtime the new file's must be later than, in whole seconds."""
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
        if after_ns is not None and os.stat(tmp).st_mtime_ns // SECOND <= after_ns // SECOND:
            later = (after_ns // SECOND + 1) * SECOND  # the clock went back since
            os.utime(tmp, ns=(later, later))
        os.replace(tmp, path)
        _changes.last = time.monotonic()
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PublishError(f"{path}: cannot write ({exc.strerror})") from None


# what ``write_atomic`` writes before its rename: ".atom.xml.k3j_9x2a.tmp"
_TEMPORARY = re.compile(r"\.(?:atom\.xml|rss\.xml|feed\.json|feeds\.opml)\.\w{8}\.tmp")


def sweep(root: Path, folders: Iterable[str]) -> None:
    """The temporary files a publisher killed mid-write left (a build or daemon killed
    with -9), in ``root`` and the ``folders`` about to be written in: under the publish
    lock, no write of ours is under way. They were never removed, a full copy of a feed
    each, one more at every such crash."""
    for folder in {".", *folders}:
        sweep_left(root / folder, _TEMPORARY, "a publisher")


def sweep_left(folder: Path, names: re.Pattern[str], writer: str) -> None:
    """Remove the files in ``folder`` whose names ``names`` matches: the temporary files
    ``write_atomic`` made for ``writer`` (a publisher, ``scofeed add``), which was killed
    before its rename; the caller holds the lock that keeps such a writer out."""
    try:
        found = [e.name for e in os.scandir(folder) if names.fullmatch(e.name)]
    except OSError:  # not there yet, or not readable: the writes will say
        return
    for name in found:
        with contextlib.suppress(OSError):
            os.unlink(folder / name)
            log.info("swept path=%s (left by %s that was killed)", folder / name, writer)


def current(recorded: tuple[str, str | None] | None, key: str, path: Path) -> bool:
    """Whether the file at ``path`` is the one last published from ``key``: its key
    recorded, and the file there as it was left (its stamp). A store restored from a
    backup holds the keys of older files: the newer ones on disk were trusted by key,
    and a release withdrawn since the backup stayed out of the feeds for good."""
    if recorded is None or recorded[0] != key:
        return False
    on_disk = feedfiles.stamp(path)
    return on_disk is not None and recorded[1] in (None, on_disk)


def contained(path: str) -> bool:
    """Whether a planned path stays inside feeds/: relative, no empty, '.' or '..' part.
    Names come from config and checked entry fields; this is the last guard."""
    return not path.startswith("/") and all(
        part not in ("", ".", "..") and "\\" not in part for part in path.split("/")
    )


def remove(root: Path, path: str) -> None:
    """Remove a file no longer published, and its folder when that is left empty."""
    if not contained(path):
        return
    target = root / path
    try:
        target.unlink(missing_ok=True)
        _changes.last = time.monotonic()
        parent = target.parent
        # a folder already gone (removed by hand; a dry run's scratch folder never had
        # it) is no failure: the file is not published either way
        while parent != root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    except OSError as exc:
        log.warning("unpublish_failed path=%s error=%s", target, exc.strerror)
    else:
        log.info("unpublished path=%s", target)
