"""Which reading of releases the files in the store went through.

A file in sources/ is read (parsed, dated, cleaned up: ``scofeed.sources``,
``scofeed.normalise``, ``scofeed.dates``) when it is new or its bytes change, so a new
version that reads releases otherwise reaches the files stored before it only through
``scofeed build --reread``. The store keeps a hash of the code that last read every file
in sources/ (a first build, a reread: ``meta`` row ``reading``), and ``scofeed status``
and the daemon's start say when this scofeed's code is another: its reading may differ
(a reread then tells: what it reads the same is left as it is). The hash covers
scofeed's own code only, not the libraries it reads with (nh3, lxml, markdown-it).
"""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path

from scofeed.digest import code_hash
from scofeed.store import files as file_rows
from scofeed.store import get_meta, put_meta

READING_META = "reading"
REFUSALS_META = "refusals_read"  # the reading code that last read the rejected files
# what decides what a release becomes: the readers, normalise, dates and what they use
# (tests/test_reread.py checks that what these import of scofeed is here, or no reading)
PARTS = (
    "sources", "normalise", "dates", "markup.py", "typography.py", "selectors.py",
    "graphemes.py", "languages.py", "render/links.py", "filekinds.py", "digest.py",
    "patterns.py",
)  # fmt: skip
HINT = "`scofeed build --reread` reads them again with this one"


@functools.cache
def version() -> str:
    """A hash of the reading code's source ("" where it cannot be read: a zip)."""
    root = Path(__file__).parent
    parts = []
    for part in PARTS:
        path = root / part
        for file in sorted(path.glob("*.py")) if path.is_dir() else [path]:
            try:
                parts.append(f"{part}/{file.name}".encode() + b"\0" + file.read_bytes())
            except OSError:
                continue
    return code_hash(b"\0".join(parts)) if parts else ""


def read_whole(db: sqlite3.Connection) -> None:
    """In the caller's transaction: every file in sources/ was just read by this code."""
    put_meta(db, (READING_META, version()))


def older(db: sqlite3.Connection) -> bool:
    """Whether releases read from files are stored, the last whole read of them by
    other code than this scofeed's (or before the store kept which)."""
    current = version()
    if not current or get_meta(db, READING_META) == current:
        return False
    return file_rows.any_read(db)


def refusals_stale(db: sqlite3.Connection) -> bool:
    """Whether the files rejected for what they hold were last read by other code than
    this scofeed's: a build reads them again (``Index.read_refused_again``), once."""
    current = version()
    return bool(current) and get_meta(db, REFUSALS_META) != current


def refusals_read(db: sqlite3.Connection) -> None:
    """In the caller's transaction: the rejected files were read by this code."""
    put_meta(db, (REFUSALS_META, version()))
