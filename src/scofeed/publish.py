"""Publishing feeds/: render the newest entries in every configured format and write
each file atomically (a temporary file in the same folder, fsync, then rename).

A reader never sees half a file, and a file whose bytes would not change is not
touched at all (its mtime, and so HTTP Last-Modified, stays put). ``publish_feeds``
renders nothing when neither the entries nor the settings changed since last time.
Withdrawn entries are in no feed; those withdrawn within ``feeds.tombstone_days`` of
``now`` leave an RFC 6721 tombstone in the Atom feed (part of the render key, so a
tombstone's expiry re-renders the feeds at the next build).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scofeed import __version__, render
from scofeed.config import FEED_FILES, Config
from scofeed.errors import PublishError
from scofeed.model import Entry
from scofeed.store import Store
from scofeed.store import entries as entry_rows

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


def tombstones(cfg: Config, store: Store, now: datetime) -> list[Entry]:
    """The withdrawn entries whose tombstones the Atom feed still carries at ``now``."""
    if cfg.feeds.tombstone_days == 0:
        return []
    return entry_rows.withdrawn(store.db, now - timedelta(days=cfg.feeds.tombstone_days))


def publish_feeds(cfg: Config, store: Store, now: datetime | None = None) -> list[str]:
    """Render the newest entries in every configured format; write only what differs.
    When neither those entries, the tombstones of withdrawn ones, nor the settings
    rendered from changed since the last time, and the files are all there, nothing
    is rendered at all. ``now`` (default: the clock) decides which tombstones remain."""
    latest = entry_rows.latest(store.db, cfg.feeds.entries)
    withdrawn = tombstones(cfg, store, now or datetime.now(UTC))
    key = _render_key(cfg, latest, withdrawn)
    names = [FEED_FILES[fmt] for fmt in cfg.feeds.formats]
    if store.get_meta("render_key") == key and all(
        (cfg.paths.feeds / name).is_file() for name in names
    ):
        return []
    written = []
    for fmt, name in zip(cfg.feeds.formats, names, strict=True):
        data = render.render(fmt, latest, cfg, withdrawn)
        if write_if_changed(cfg.paths.feeds / name, data):
            written.append(name)
    store.set_meta("render_key", key)
    return written


def _render_key(cfg: Config, latest: Sequence[Entry], withdrawn: Sequence[Entry] = ()) -> str:
    """Everything the feed bytes depend on: scofeed's version, the site and feed
    settings, each rendered entry's content hash, revision, dates (the event date
    too) and link, and each tombstone's id, time and reason."""
    parts = [__version__, repr(cfg.site), repr(cfg.feeds), str(cfg.paths.feeds)]
    parts.append(repr(cfg.hub_urls()))  # WebSub discovery links are in the feeds
    parts += [
        f"{e.id} {e.content_hash} {e.revision} {e.updated.isoformat()} {e.link} {e.author}"
        f" {e.event_date}"
        for e in latest
    ]
    parts += [
        f"withdrawn {e.id} {e.withdrawal.at.isoformat()} {e.withdrawal.reason!r}"
        for e in withdrawn
        if e.withdrawal is not None
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()
