"""Scanning the sources/ folder cheaply: size and mtime first, a hash only on change."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scofeed.store.files import FileState

log = logging.getLogger(__name__)

_SKIP_SUFFIXES = (".tmp", ".part", ".swp", "~")


@dataclass(frozen=True)
class Changed:
    """A file whose bytes differ from what the index holds (or that is new)."""

    rel: str
    path: Path
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
    unchanged: list[FileState]
    gone: list[str]


def walk(root: Path) -> Iterator[tuple[str, os.stat_result | OSError]]:
    """Every candidate file under root, sorted, hidden and temporary files left out.
    A file that cannot be stat'ed (a dangling link, say) comes with its OSError."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or name.endswith(_SKIP_SUFFIXES):
                continue
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            try:
                st = os.stat(full)
            except OSError as exc:
                yield rel, exc
                continue
            if not os.path.isfile(full):
                continue
            yield rel, st


def scan(root: Path, known: dict[str, FileState], max_bytes: int) -> ScanResult:
    result = ScanResult([], [], [], [])
    seen: set[str] = set()
    for rel, st in walk(root):
        seen.add(rel)
        old = known.get(rel)
        if isinstance(st, OSError):
            reason = f"unreadable ({st.strerror or st})"
            result.changed.append(Changed(rel, root / rel, None, reason, 0, 0, ""))
            continue
        if old is not None and old.size == st.st_size and old.mtime_ns == st.st_mtime_ns:
            result.unchanged.append(old)
            continue
        path = root / rel
        data: bytes | None = None
        error = None
        digest = ""
        if st.st_size > max_bytes:
            error = f"too large ({st.st_size} bytes, limit {max_bytes})"
        else:
            try:
                with open(path, "rb") as fh:
                    data = fh.read(max_bytes + 1)
                digest = hashlib.sha256(data).hexdigest()
            except OSError as exc:
                error = f"unreadable ({exc.strerror or exc})"
        if old is not None and digest and old.sha256 == digest:
            result.touched.append(
                FileState(rel, st.st_size, st.st_mtime_ns, digest, old.status, old.reason)
            )
            continue
        result.changed.append(Changed(rel, path, data, error, st.st_size, st.st_mtime_ns, digest))
    result.gone = sorted(set(known) - seen)
    return result
