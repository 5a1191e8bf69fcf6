"""``scofeed add``: one release from bytes (a file, standard input, or a page fetched
by ``scofeed.added``) into sources/, then a build.

The release is read and normalised first, so nothing invalid is ever written; a bad
input is quarantined (rejects table, source ``add``) and refused. A release the store
already knows (same id material, canonical URL or fingerprint, or the same release
with its title or first paragraph corrected) is refused unless ``update`` is set; then
it replaces that release's file and the build bumps the entry's revision. ``update``
of a release the store does not know is refused. New files get a canonical, collision-free name
``YYYY-MM-DD-slug.ext`` and are written atomically.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from scofeed import publish, sources
from scofeed.build import BuildReport, build
from scofeed.config import Config
from scofeed.config.redact import logged
from scofeed.digest import sha256
from scofeed.errors import (
    KnownRelease,
    NormaliseError,
    PublishError,
    RejectedInput,
    memory_ran_out,
    unexpected,
)
from scofeed.ingest import official_article
from scofeed.model import Entry, Release
from scofeed.normalise import id_slug, identity_of, normalise, script_of, settings_from
from scofeed.pool import within_budget
from scofeed.refold import refold, rekey
from scofeed.renames import corrected_of
from scofeed.store import Store
from scofeed.store import entries as entry_rows
from scofeed.store import files as file_rows
from scofeed.store import matching as match_rows
from scofeed.store import origins as origin_rows
from scofeed.store.lock import exclusively

log = logging.getLogger(__name__)

# what ``publish.write_atomic`` writes for ``add`` before its rename, and leaves when
# ``scofeed add`` is killed in between: ".2023-04-21-sco-meets.txt.k3j_9x2a.tmp"
_LEFT = re.compile(r"\..+\.(?:txt|md|html?|json)\.\w{8}\.tmp")

SLUG_MAX = 60
ADD_SOURCE = "add"  # the source name of pages given to `scofeed add URL` (page_checks)
STDIN = "<stdin>"


@dataclass(frozen=True)
class AddResult:
    entry_id: str
    path: Path  # the file written in sources/
    kind: str  # new | updated | unchanged
    report: BuildReport


def slug(title: str, entry_id: str) -> str:
    """An ASCII slug of the title; the id's slug when the title is not in Latin script."""
    if script_of(title) != "latin":
        return id_slug(entry_id)
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")
    if len(words) > SLUG_MAX:
        words = words[:SLUG_MAX].rsplit("-", 1)[0]
    return words or id_slug(entry_id)


def canonical_name(entry: Entry, suffix: str, tz: str, taken: Path) -> Path:
    """``taken/YYYY-MM-DD-slug.ext``, with -2, -3 ... when that name is in use."""
    day = entry.published.astimezone(ZoneInfo(tz)).date().isoformat()
    stem = f"{day}-{slug(entry.title, entry.id)}"
    path = taken / f"{stem}{suffix}"
    n = 2
    while path.exists():
        path = taken / f"{stem}-{n}{suffix}"
        n += 1
    return path


def _read(
    cfg: Config, data: bytes, suffix: str, origin: str, now: datetime
) -> tuple[Release, Entry]:
    releases = sources.read(origin, suffix, data, now, cfg.limits.max_file_bytes)
    if len(releases) != 1:
        raise RejectedInput(
            origin,
            f"holds {len(releases)} releases; add takes one (drop the file into sources/ instead)",
        )
    if releases[0].origin != origin:  # "FILE#1": a JSON list of one, stored under that name
        raise RejectedInput(
            origin, "a JSON list; add takes one release object (drop the file into sources/)"
        )
    return releases[0], normalise(releases[0], settings_from(cfg), now)


def _read_or_reject(
    cfg: Config, data: bytes, suffix: str, origin: str, now: datetime
) -> tuple[Release, Entry]:
    """``_read``, a failure no reader foresaw (a parser's ValueError, RecursionError) a
    rejection naming it, as a build gives the same file in sources/ (``pool.prepare``)."""
    try:
        # within the per-file time budget, as the same file in sources/ is built
        return within_budget(cfg.limits.file_seconds, origin, _read, cfg, data, suffix, origin, now)
    except (RejectedInput, NormaliseError):
        raise
    except Exception as exc:  # noqa: BLE001 - one line, as for a file in sources/
        if memory_ran_out(exc) is not None:
            raise
        raise RejectedInput(origin, unexpected(exc)) from None


def quarantine(
    store: Store, origin: str, exc: RejectedInput | NormaliseError, now: datetime
) -> None:
    """Record a refused input in the rejects table (source ``add``) and log it."""
    reason = getattr(exc, "reason", None) or str(exc).removeprefix(origin + ": ")
    with store.transaction() as db:
        file_rows.reject(db, origin, "add", reason, now.timestamp(), None)
    log.info("add_rejected origin=%s reason=%r", logged(origin), reason)


def _quarantined_as(origin_label: str, data: bytes) -> str:
    """The name a refused input is kept under: standard input's with a hash of what it
    read (each refused ``add -`` was kept as "<stdin>", and `scofeed status` showed the
    last alone)."""
    if origin_label != STDIN:
        return origin_label
    return f"<stdin {sha256(data).hexdigest()[:12]}>"


def _local_file(db: sqlite3.Connection, root: Path, entry_id: str) -> Path | None:
    """The file in sources/ that holds this entry on its own (not an item of a list)."""
    for origin in origin_rows.origins_of(db, entry_id):
        if "://" in origin or "#" in origin or origin.startswith("<"):
            continue
        path = root / origin
        if path.is_file():
            return path
    return None


def _corrected(db: sqlite3.Connection, entry: Entry, update: bool) -> match_rows.Match | None:
    """A stored entry this release is with its title or first paragraph corrected
    (``renames.corrected_of``): the same day and first paragraph; with ``update`` (the
    operator says it replaces a known release), or the same day and title."""
    day = entry.published.isoformat()[:10]
    found = corrected_of(match_rows.near(db, day), entry, by_title=update)
    return None if found is None else match_rows.match_of(db, found.entry_id, "fingerprint")


def add_release(
    cfg: Config,
    store: Store,
    data: bytes,
    suffix: str,
    origin_label: str,
    now: datetime,
    update: bool = False,
) -> AddResult:
    """Store one release given as bytes in sources/ and build. ``suffix`` names its
    format (".txt", ".md", ".json"); ``origin_label`` names it in messages and in the
    quarantine (a path, ``<stdin>`` or a URL)."""
    suffix = suffix.lower() if suffix.startswith(".") else "." + suffix.lower()
    try:
        if suffix not in sources.READERS:
            known = ", ".join(sorted(sources.READERS))
            raise RejectedInput(origin_label, f"unknown format {suffix!r} (one of {known})")
        release, entry = _read_or_reject(cfg, data, suffix, origin_label, now)
    except (RejectedInput, NormaliseError) as exc:
        quarantine(store, _quarantined_as(origin_label, data), exc, now)
        raise
    with one_at_a_time(cfg):
        return _stored(cfg, store, data, suffix, origin_label, now, update, release, entry)


@contextlib.contextmanager
def one_at_a_time(cfg: Config) -> Iterator[None]:
    """One add (or a recheck's rewrite of an added file) at a time, from the match to
    the build: two adds of one new release at once each found no match and each wrote
    a file (the entry was one, the files two)."""
    with exclusively(Path(f"{cfg.paths.state}.add.lock"), "add lock"):
        yield


def _stored(
    cfg: Config, store: Store, data: bytes, suffix: str, origin_label: str, now: datetime,
    update: bool, release: Release, entry: Entry,
) -> AddResult:  # fmt: skip
    """``add_release``'s part under its lock: matched, written, built."""
    root = cfg.paths.sources
    with store.transaction() as db:  # it reads now: fixed, whether known or not
        file_rows.clear_rejects(db, [origin_label])
        refold(db)  # entries stored before copies were compared folded
        rekey(db)  # and URL keys made before the trackers they leave out grew
    identity, url_key = identity_of(release, entry.fingerprint)
    match = match_rows.find_match(
        store.db, "", identity, url_key, entry.fingerprint, entry_id=entry.id,
        folded=entry.folded, day=match_rows.stated_day(entry), authority="local",
        article=official_article(url_key, cfg.site.official_hosts),
    ) or _corrected(store.db, entry, update)  # fmt: skip
    if match is None and update:
        raise RejectedInput(
            origin_label,
            "--update: no release already known is this one (by its id, URL, title or "
            "first paragraph); add it without --update",
        )
    old: Path | None = None
    if match is not None:
        known_entry = entry_rows.get(store.db, match.entry_id)
        if not update:
            raise KnownRelease(
                origin_label,
                match.entry_id,
                f"{origin_label}: already known as {match.entry_id} "
                f"({known_entry.title!r}, from {known_entry.origin}); "
                "use --update to replace it",
            )
        old = _local_file(store.db, root, match.entry_id)
    if old is not None and old.suffix.lower() == suffix:
        target = old
    else:
        target = canonical_name(entry, suffix, cfg.site.timezone, root)
    rel = target.relative_to(root).as_posix()
    if match is not None and target != old:
        # the new file continues the entry: the build sees an edit of it, not a copy
        with store.transaction() as db:
            origin_rows.link_origin(db, rel, match.entry_id, match.content_hash)
    publish.sweep_left(target.parent, _LEFT, "a scofeed add")  # under the add lock
    publish.write_atomic(target, data)
    if old is not None and target != old:
        old.unlink(missing_ok=True)
    log.info("add_written origin=%s path=%s update=%s", logged(origin_label), target, update)
    try:
        report = build(cfg, store, now, settled=frozenset({rel}))  # written whole, renamed in
    except PublishError as exc:  # stored, and its file written: the one line says where
        held = origin_rows.entry_of_origin(store.db, rel)
        raise PublishError(f"{exc}; the release is stored as {held} in {target}") from None
    entry_id = origin_rows.entry_of_origin(store.db, rel)
    if entry_id is None:  # pragma: no cover - normalised above, so the build cannot refuse it
        raise RejectedInput(origin_label, "the build did not take the release; see scofeed status")
    stored = entry_rows.get(store.db, entry_id)
    if match is None:
        kind = "new"
    else:
        kind = "updated" if stored.revision > match.revision else "unchanged"
    return AddResult(stored.id, target, kind, report)


def dump(doc: dict[str, object]) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
