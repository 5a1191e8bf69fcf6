"""Scanning the sources/ folder cheaply: size and mtime first, a hash only on change."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scofeed.store.files import FileState, Index

log = logging.getLogger(__name__)

SKIP_SUFFIXES = (".tmp", ".part", ".swp", "~")  # editors' and downloads' temporary files


@dataclass(frozen=True)
class Changed:
    """A file whose bytes differ from what the index holds (or that is new)."""

    rel: str
    path: str  # a str, not a Path: cheaper to make and to send to a worker process
    data: bytes | None  # None when it could not be read
    error: str | None
    size: int
    mtime_ns: int
    sha256: str

    @property
    def mtime(self) -> datetime:
        return datetime.fromtimestamp(self.mtime_ns / 1e9, tz=UTC)


@dataclass
class ScanResult:
    changed: list[Changed]
    touched: list[FileState]  # same bytes, new mtime: refresh the index only
    unchanged: int  # how many files the index holds as they are
    gone: list[str]


def walk(root: Path) -> Iterator[tuple[str, str, os.stat_result | OSError]]:
    """(relative path, full path, stat) of every candidate file under root, sorted,
    hidden and temporary files left out. A file that cannot be stat'ed (a dangling link,
    say) comes with its OSError."""
    stack = [""]
    while stack:
        prefix = stack.pop()
        try:
            with os.scandir(root / prefix if prefix else root) as it:
                items = sorted(it, key=lambda d: d.name)
        except OSError:
            continue
        subdirs = []
        for item in items:
            name = item.name
            if name.startswith("."):
                continue
            rel = prefix + name
            try:
                if item.is_dir():
                    subdirs.append(rel + "/")
                    continue
                if name.endswith(SKIP_SUFFIXES):
                    continue
                st = item.stat()
            except OSError as exc:
                yield rel, item.path, exc
                continue
            if item.is_file():
                yield rel, item.path, st
        stack.extend(reversed(subdirs))


READ_STEP = 1 << 16


def read_bytes(path: str, size: int, max_bytes: int) -> tuple[bytes | None, str, str | None]:
    """(data, sha256, error) of one file, refusing it unread when it is over the cap.
    Reads the size the scan saw, then on (a file can grow) up to one byte over the cap,
    without ever asking for a cap-sized buffer: that allocation cost more than the read."""
    if size > max_bytes:
        return None, "", f"too large ({size} bytes, limit {max_bytes})"
    try:
        with open(path, "rb", buffering=0) as fh:
            data = fh.read(size + 1)
            while len(data) <= max_bytes:
                more = fh.read(min(READ_STEP, max_bytes + 1 - len(data)))
                if not more:
                    break
                data += more
    except OSError as exc:
        return None, "", f"unreadable ({exc.strerror or exc})"
    return data, hashlib.sha256(data).hexdigest(), None


def scan(root: Path, index: Index, max_bytes: int) -> ScanResult:
    """Compare sources/ with the index. Known files whose size or mtime moved are read
    here (same bytes: only the index is refreshed); new files are left to the reader
    (``Changed.data`` None, no error), so a cold build can read them in parallel."""
    result = ScanResult([], [], 0, [])
    stamps = index.stamps
    seen: set[str] = set()
    for rel, path, st in walk(root):
        seen.add(rel)
        stamp = stamps.get(rel)
        if isinstance(st, OSError):
            reason = f"unreadable ({st.strerror or st})"
            result.changed.append(Changed(rel, path, None, reason, 0, 0, ""))
            continue
        if stamp is None:
            new = Changed(rel, path, None, None, st.st_size, st.st_mtime_ns, "")
            result.changed.append(new)
            continue
        if stamp[1] == st.st_size and stamp[2] == st.st_mtime_ns:
            result.unchanged += 1
            continue
        data, digest, error = read_bytes(path, st.st_size, max_bytes)
        old = index.row(rel)
        if digest and old is not None and old.sha256 == digest:
            result.touched.append(
                FileState(rel, st.st_size, st.st_mtime_ns, digest, old.status, old.reason)
            )
            continue
        result.changed.append(Changed(rel, path, data, error, st.st_size, st.st_mtime_ns, digest))
    result.gone = sorted(set(stamps) - seen)
    return result


def loaded(item: Changed, max_bytes: int) -> Changed:
    """The item with its bytes read, if the scan left that for later."""
    if item.data is not None or item.error is not None:
        return item
    data, digest, error = read_bytes(item.path, item.size, max_bytes)
    return Changed(item.rel, item.path, data, error, item.size, item.mtime_ns, digest)
