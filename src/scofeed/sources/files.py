"""Scanning the sources/ folder cheaply: size and mtime first, a hash only on change.

A new or changed file is read only once it has settled: its mtime is at least
``settle`` seconds old, so it has kept its size and mtime that long (a write moves the
mtime). A younger file is deferred to a later scan, unread and not indexed, so a file
written in parts (a slow copy, an editor saving in steps) is read once, whole. A file
renamed into place keeps the mtime it was written with: it counts as settled at once.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import stat
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from scofeed.digest import sha256
from scofeed.filekinds import special_kind
from scofeed.frozen import frozen
from scofeed.store.files import FileState, Index

log = logging.getLogger(__name__)

# editors', tools' and downloads' temporary and backup files: a file saved by Emacs
# (#x.txt#, x.txt~), vim (.swp, .swo), patch (.orig, .rej), an editor's or a
# download's (.bak, .tmp, .part, .crdownload) was quarantined as an "unknown file type",
# and a build exited 1 while an editor held unsaved changes
SKIP_SUFFIXES = (
    ".tmp", ".part", ".crdownload", ".swp", ".swo", ".bak", ".orig", ".rej", "~",
)  # fmt: skip
DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
Real = tuple[int, int]  # a directory's device and inode


def temporary(name: str) -> bool:
    """A file left alone while it is written: an editor's or a download's, named in any
    case (a Windows tool's X.TMP was quarantined as "unknown file type '.TMP'")."""
    return name.lower().endswith(SKIP_SUFFIXES) or (
        len(name) > 2 and name.startswith("#") and name.endswith("#")
    )


@frozen(many=True)
class Changed:
    """A file whose bytes differ from what the index holds (or that is new)."""

    rel: str
    path: str  # a str, not a Path: cheaper to make and to send to a worker process
    data: bytes | None  # None when it could not be read
    sha256: str
    error: str | None
    size: int  # -1 (and mtime_ns -1) for a new file not read yet
    mtime_ns: int

    @property
    def mtime(self) -> datetime:
        return datetime.fromtimestamp(self.mtime_ns / 1e9, tz=UTC)


@dataclass
class ScanResult:
    """What a scan of sources/ found against the files index."""

    changed: list[Changed]
    touched: list[FileState]  # same bytes, new mtime: refresh the index only
    unchanged: int  # how many files the index holds as they are
    gone: list[str]
    # (relative path, seconds until it settles) of each file written too recently
    deferred: list[tuple[str, float]] = field(default_factory=list)
    # (folder, reason) of each folder that could not be read ("" for sources/ itself):
    # the files the index holds under it are kept as they were, not taken for gone
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    @property
    def settles_in(self) -> float | None:
        """Seconds until every deferred file has settled (None: none is deferred)."""
        return max((left for _rel, left in self.deferred), default=None)


FUTURE_SLACK = 60.0  # an mtime further ahead than this is no write in progress: settled


def settle_left(mtime_ns: int, now: float, settle: float) -> float:
    """Seconds until a file with this mtime has been still for ``settle`` (0: it has).
    An mtime far in the future (a copied timestamp, not a write) counts as settled."""
    age = now - mtime_ns / 1e9
    if settle <= 0 or age >= settle or age < -FUTURE_SLACK:
        return 0.0
    return settle - age


def walk(
    root: Path, unreadable: list[tuple[str, str]] | None = None
) -> Iterator[tuple[str, os.DirEntry[str], OSError | None]]:
    """(relative path, directory entry, error) of every candidate file under root,
    hidden and temporary files left out; within a folder in the order the file system
    lists them (``walk_order`` sorts what a scan found). Regular files are known by
    their directory entry, without a stat; a link is followed, and one that leads
    nowhere comes with its OSError, as does anything else (a FIFO, a socket). Each
    real directory is walked once (known by device and inode, its subfolders taken in
    name order), whatever links lead to it again: a symlink loop is not followed round.

    Each folder is listed through an open descriptor of it, so an entry's ``stat`` asks
    for a name relative to that folder (``fstatat``), not for a whole path the kernel
    walks again, and ``entry.path`` is the bare name: ``os.path.join(root, rel)`` is
    the file's path. The entries are good while the walk is on that folder.

    A folder that cannot be opened (no permission) is added to ``unreadable`` as
    (its relative path with a trailing slash, or "" for root; the reason).

    A link (to a file or a folder) that leads out of root comes with an OSError saying
    so, and is not followed: a link in a folder others write to (a repository of
    releases) would otherwise publish any file this process can read, the ActivityPub
    key or /etc/passwd."""
    stack = [""]
    try:
        st = os.stat(root)
        walked = {(st.st_dev, st.st_ino)}
    except OSError:
        walked = set()
    real_root = os.path.realpath(root)
    while stack:
        prefix = stack.pop()
        try:
            fd = os.open(root / prefix if prefix else root, DIRECTORY_FLAGS)
        except OSError as exc:
            if unreadable is not None and exc.errno != errno.ENOENT:  # gone: nothing to keep
                unreadable.append((prefix, exc.strerror or str(exc)))
            continue
        try:
            subdirs = yield from _listed(fd, prefix, real_root)
        finally:
            os.close(fd)
        fresh = []
        for rel, real in sorted(subdirs):
            if real in walked:
                # said once a process: the daemon's idle scans found it every minute
                said = rel in _LINKS_SAID or len(_LINKS_SAID) >= LINKS_SAID_MAX
                if not said:  # the cap bounds the set too, not only the lines
                    _LINKS_SAID.add(rel)
                (log.debug if said else log.info)(
                    "directory_seen origin=%r (a link back to a walked one)", rel
                )
            else:
                walked.add(real)
                fresh.append(rel + "/")
        stack.extend(reversed(fresh))


LINK_OUT = "a link that leads out of sources/, not followed"
LINK_TO_NOTHING = "a link to nothing (its target is not there)"


def _link_trouble(path: str) -> OSError | None:
    """What keeps the link ``path`` from leading to a file (nothing there: said so, it
    was "No such file or directory"; a loop of links: as the system says it), None when
    it leads to one."""
    try:
        os.stat(path)
    except OSError as exc:
        return OSError(errno.ENOENT, LINK_TO_NOTHING) if exc.errno == errno.ENOENT else exc
    return None


_LINKS_SAID: set[str] = set()  # links back to a walked folder, said at INFO once
LINKS_SAID_MAX = 1000


def _leads_out(real_root: str, prefix: str, name: str) -> bool:
    """Whether the link ``prefix + name`` under ``real_root`` resolves outside it."""
    target = os.path.realpath(os.path.join(real_root, prefix, name))
    return target != real_root and not _inside(target, real_root)


def _inside(real_path: str, real_root: str) -> bool:
    """Whether a resolved path is under a resolved folder (not the folder itself)."""
    return real_path.startswith(real_root.rstrip(os.sep) + os.sep)


def _listed(
    fd: int, prefix: str, real_root: str
) -> Generator[tuple[str, os.DirEntry[str], OSError | None], None, list[tuple[str, Real]]]:
    """One folder of ``walk``: yields its candidate files, returns its subfolders
    (relative path, device and inode)."""
    subdirs: list[tuple[str, Real]] = []
    try:
        with os.scandir(fd) as it:
            for item in it:
                name = item.name
                if name.startswith("."):
                    continue
                if item.is_file(follow_symlinks=False):  # most are: known by the entry alone
                    if not temporary(name):
                        yield prefix + name, item, None
                    continue
                rel = prefix + name
                if item.is_symlink() and _leads_out(real_root, prefix, name):
                    if not temporary(name):  # one to nothing says so, wherever it points
                        trouble = _link_trouble(os.path.join(real_root, prefix, name))
                        yield rel, item, trouble or OSError(errno.EPERM, LINK_OUT)
                    continue
                try:
                    if item.is_dir():
                        st = item.stat()
                        subdirs.append((rel, (st.st_dev, st.st_ino)))
                        continue
                    if temporary(name):
                        continue
                    trouble = (
                        _link_trouble(os.path.join(real_root, rel)) if item.is_symlink() else None
                    )
                    if trouble is not None:
                        yield rel, item, trouble
                        continue
                    if not item.is_file():  # a FIFO, a socket: refused by name, never read
                        kind = special_kind(item.stat().st_mode)
                        yield rel, item, OSError(errno.EINVAL, f"{kind}, not a regular file")
                        continue
                except OSError as exc:
                    yield rel, item, exc
                    continue
                yield rel, item, None
    except OSError:
        pass
    return subdirs


def walk_order(rel: str) -> tuple[tuple[int, str], ...]:
    """Sort key giving the order of a walk that took each folder's names sorted: a
    folder's files before its subfolders', subfolders in name order."""
    *folders, name = rel.split("/")
    return (*((1, f) for f in folders), (0, name))


READ_STEP = 1 << 16
GONE = "gone since the scan listed it"  # a Read's error: the file is not there any more


class Read(NamedTuple):
    data: bytes | None
    sha256: str
    error: str | None
    size: int  # as fstat saw it on the open file (stat on the path, or 0, when it won't open)
    mtime_ns: int


def read_bytes(path: str, max_bytes: int, rel: str | None = None) -> Read:
    """One file's bytes, digest, size and mtime, refusing it unread when it is over the
    cap. The size and mtime are those of the file opened, so they go with the bytes
    read. Reads the size fstat gave, then on (a file can grow) up to one byte over the
    cap, without ever asking for a cap-sized buffer: that allocation cost more than the
    read itself. Plain os calls: a Python file object costs more syscalls than these.

    With ``rel`` (the file's path under sources/, at the end of ``path``), a file
    opened through a link (the file itself, or a folder above it) must be inside
    sources/ as opened: the scan refused links out, but one could be put in place
    between the scan and this read."""
    try:
        fd, linked = _open(path, rel)
        try:
            # a file in a folder may be under a folder link put in place since the scan
            checked = rel is not None and (linked or "/" in rel)
            if checked and not _opened_inside(fd, path, rel or ""):
                return Read(None, "", f"unreadable ({LINK_OUT})", 0, 0)
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                reason = f"{special_kind(st.st_mode)}, not a regular file"
                return Read(None, "", reason, st.st_size, st.st_mtime_ns)
            if st.st_size > max_bytes:
                reason = f"too large ({st.st_size} bytes, limit {max_bytes})"
                return Read(None, "", reason, st.st_size, st.st_mtime_ns)
            data = os.read(fd, st.st_size + 1)
            while len(data) <= max_bytes:
                more = os.read(fd, min(READ_STEP, max_bytes + 1 - len(data)))
                if not more:
                    break
                data += more
        finally:
            os.close(fd)
    except FileNotFoundError:  # deleted (or moved) since the scan: as if never listed
        return Read(None, "", GONE, 0, 0)
    except OSError as exc:
        size, mtime_ns = _stamp(path)  # kept in the index, so the same error is not redone
        return Read(None, "", f"unreadable ({exc.strerror or exc})", size, mtime_ns)
    return Read(data, sha256(data).hexdigest(), None, st.st_size, st.st_mtime_ns)


def _open(path: str, rel: str | None = None) -> tuple[int, bool]:
    """The file open for reading, and whether it was opened through a link (known only
    with ``rel``: O_NOFOLLOW first, so a plain file, the usual case, is known not to be
    one without another system call). O_NONBLOCK: had a FIFO taken the file's place
    since the scan, opening it must not wait for a writer. A regular file refuses such
    an open only while another program (Samba, an NFS server) holds a lease on it: then
    it is opened the usual way, which waits for the lease to be given up."""
    flags = os.O_RDONLY | os.O_CLOEXEC
    if rel is not None:
        try:
            return _open_flags(path, flags | os.O_NOFOLLOW), False
        except OSError as exc:
            if exc.errno != errno.ELOOP:  # ELOOP: a link, opened below (and checked)
                raise
    return _open_flags(path, flags), rel is not None


def _open_flags(path: str, flags: int) -> int:
    try:
        return os.open(path, flags | os.O_NONBLOCK)
    except BlockingIOError:
        return os.open(path, flags)


@functools.lru_cache(maxsize=8)
def _real_root(root: str) -> str:
    return os.path.realpath(root)


def _opened_inside(fd: int, path: str, rel: str) -> bool:
    """Whether the file open as ``fd`` is inside sources/ (``path`` without ``rel``),
    as the kernel opened it (/proc/self/fd); where /proc is not there, the scan's
    check stands."""
    try:
        opened = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return True
    return _inside(opened, _real_root(path[: len(path) - len(rel)].rstrip(os.sep) or os.sep))


def _stamp(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError:
        return 0, 0
    return st.st_size, st.st_mtime_ns


def scan(
    root: Path,
    index: Index,
    max_bytes: int,
    now: float = 0.0,
    settle: float = 0.0,
    settled: frozenset[str] = frozenset(),
    reread: bool = False,
) -> ScanResult:
    """Compare sources/ with the index. Known files whose size or mtime moved are read
    here (same bytes: only the index is refreshed); new files are left to the reader
    (``Changed.data`` None, no error, size and mtime -1 until read), so a cold build
    can stat and read them in parallel. With ``settle`` (seconds), a new or changed file
    whose mtime is younger than that at ``now`` is deferred (``ScanResult.deferred``),
    except the paths in ``settled`` (a file ``scofeed add`` has just written whole).
    With ``reread``, every file is changed, as a new one is (``scofeed build --reread``:
    read again by this version), but for those still being written (deferred); so is
    every file in ``index.refused_before`` (rejected by other reading code)."""
    result = ScanResult([], [], 0, [])
    unseen = dict(index.stamps)  # known files not met yet: what is left at the end is gone
    base = str(root)
    for rel, entry, error in walk(root, result.unreadable):
        stamp = unseen.pop(rel, None)
        # the common case first: known, unchanged
        if stamp is not None and error is None and not reread:
            try:
                st = entry.stat()  # kept by the entry for the checks below
            except OSError:
                pass
            else:
                if (
                    stamp[1] == st.st_size
                    and stamp[2] == st.st_mtime_ns
                    and not (rel in index.unreadable and _opens(os.path.join(base, rel)))
                    # refused for its size, and limits.max_file_bytes raised since: it
                    # was "still rejected ... too large (..., limit 1000)" at every build
                    and not (rel in index.too_large and st.st_size <= max_bytes)
                    and rel not in index.refused_before
                ):
                    result.unchanged += 1
                    continue
        path = os.path.join(base, rel)
        if error is not None:  # a link that leads nowhere: known by the link itself
            size, mtime_ns = _link_stamp(entry)
            if stamp is not None and stamp[1:] == (size, mtime_ns) and rel in index.unreadable:
                result.unchanged += 1  # rejected as it is, not again at every scan
                continue
            reason = f"unreadable ({error.strerror or error})"
            result.changed.append(Changed(rel, path, None, "", reason, size, mtime_ns))
            continue
        if stamp is None and (settle <= 0 or rel in settled):
            result.changed.append(Changed(rel, path, None, "", None, -1, -1))
            continue
        try:
            st = entry.stat()
        except FileNotFoundError:  # deleted or moved since it was listed: as if never
            if stamp is not None:  # listed, so a file known is gone (a rename's old name)
                unseen[rel] = stamp
            continue
        except OSError as exc:
            reason = f"unreadable ({exc.strerror or exc})"
            result.changed.append(Changed(rel, path, None, "", reason, 0, 0))
            continue
        left = 0.0 if rel in settled else settle_left(st.st_mtime_ns, now, settle)
        if left > 0:
            result.deferred.append((rel, left))
            if stamp is not None:
                result.unchanged += 1  # its last version stays as the index holds it
            continue
        if stamp is None or reread or rel in index.refused_before:
            result.changed.append(Changed(rel, path, None, "", None, -1, -1))
            continue
        got = read_bytes(path, max_bytes, rel)
        old = index.row(rel)
        if got.sha256 and old is not None and old.sha256 == got.sha256:
            result.touched.append(
                FileState(rel, got.size, got.mtime_ns, got.sha256, old.status, old.reason)
            )
            continue
        result.changed.append(Changed(rel, path, *got))
    # the walk lists each folder as it comes; what it found is put in name order here
    result.changed.sort(key=lambda c: walk_order(c.rel))
    result.touched.sort(key=lambda t: walk_order(t.path))
    result.deferred.sort(key=lambda d: walk_order(d[0]))
    for folder, _reason in result.unreadable:  # what it holds is not known to be gone
        kept = [rel for rel in unseen if rel.startswith(folder)]
        result.unchanged += len(kept)
        for rel in kept:
            del unseen[rel]
    result.gone = sorted(unseen)
    return result


def _link_stamp(entry: os.DirEntry[str]) -> tuple[int, int]:
    """Size and mtime of a link itself (a new target is a new link: they move)."""
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return 0, 0
    return st.st_size, st.st_mtime_ns


def _opens(path: str) -> bool:
    """Whether a file the index holds as unreadable can be opened now (its mode was
    fixed: a chmod moves neither its size nor its mtime)."""
    try:
        os.close(_open(path)[0])
    except OSError:
        return False
    return True


def loaded(item: Changed, max_bytes: int) -> Changed:
    """The item with its bytes (and their size and mtime) read, if the scan left that
    for later."""
    if item.data is not None or item.error is not None:
        return item
    return Changed(item.rel, item.path, *read_bytes(item.path, max_bytes, item.rel))
