"""Publishing feeds/: every set of feeds of ``render.catalog`` (main, per language, per
tag) in every configured format, the main set's RFC 5005 archive pages (one per month,
Atom and RSS) and ``feeds.opml``; each file written atomically (a temporary file in the
same folder, fsync, then rename).

A reader never sees half a file, and a file whose bytes would not change is not touched
at all (its mtime, and so HTTP Last-Modified, stays put). Each file has a key: a hash of
everything it shows (scofeed's version, the site settings, its set, its archive links,
and each entry's id, dates, revision, content hash, link and author). The keys live in
the store (``store.feedfiles``); a file is rendered only when its key changed or the
file is missing, so a new release at 30,000 entries renders the subscription feeds it
appears in and the one archive page of its month (and that page's neighbour, whose
``next-archive`` link it changes), reading only those pages' entries. A file the
publisher wrote before and no longer plans (a month left empty, a tag dropped) is
removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scofeed import __version__, render
from scofeed.config import Config, tag_slug
from scofeed.errors import PublishError
from scofeed.model import Entry
from scofeed.render import catalog
from scofeed.render.catalog import ARCHIVE_FORMATS, OPML_FILE, FeedSet, Head
from scofeed.render.opml import render_opml
from scofeed.store import Store, put_meta
from scofeed.store import entries as entry_rows
from scofeed.store import feedfiles
from scofeed.store.entries import Digest

log = logging.getLogger(__name__)

SETS_META = "feed_sets"  # the languages and metadata tags with feeds, as last published


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


@dataclass(frozen=True)
class Planned:
    """One file to publish: where, its key, and how to render it."""

    path: str  # relative to feeds/
    key: str
    fmt: str
    head: Head
    ids: tuple[str, ...]  # its entries, in order


@dataclass(frozen=True)
class Plan:
    sets: list[FeedSet]
    files: list[Planned]
    languages: list[str]
    tags: list[str]  # metadata tags with feeds


def plan(cfg: Config, digests: list[Digest]) -> Plan:
    """Every file with its key, from the entries' digests (newest first). Pure."""
    languages = sorted({d.language for d in digests})
    meta_tags = sorted({t for d in digests for t in d.tags}) if cfg.feeds.metadata_tags else []
    sets = catalog.feed_sets(cfg, languages, meta_tags)
    limit = cfg.feeds.entries
    members: dict[str, list[Digest]] = {fs.key: [] for fs in sets}
    by_lang = {fs.language: members[fs.key] for fs in sets if fs.language}
    by_slug = {tag_slug(fs.tag): members[fs.key] for fs in sets if fs.tag}
    slugs: dict[str, str] = {}  # tag -> slug, tags repeat
    for d in digests:
        for group in _groups(d, by_lang, by_slug, slugs):
            if len(group) < limit:
                group.append(d)
    members["main"] = digests[:limit]
    months: dict[str, list[Digest]] = defaultdict(list)
    for d in digests:
        months[d.month].append(d)
    order = sorted(months, reverse=True)  # newest first
    site = repr(cfg.site)
    files: list[Planned] = []
    for fs in sets:
        newest = order[0] if fs.archived and order else None
        for fmt in cfg.feeds.formats:
            head = catalog.head(cfg, fs, fmt, newest)
            common = (__version__, site, repr(fs), repr(head), repr(cfg.hub_urls()), str(limit))
            files.append(_planned(fs.path(fmt), fmt, head, common, members[fs.key]))
        if not fs.archived:
            continue
        for i, month in enumerate(order):
            older = order[i + 1] if i + 1 < len(order) else None
            newer = order[i - 1] if i > 0 else None
            for fmt in ARCHIVE_FORMATS:
                if fmt not in cfg.feeds.formats:
                    continue
                head = catalog.archive_head(cfg, fs, fmt, month, older, newer)
                common = (__version__, site, repr(fs), repr(head))
                files.append(_planned(fs.archive_path(month, fmt), fmt, head, common,
                                      months[month]))  # fmt: skip
    return Plan(sets, files, languages, meta_tags)


def _groups(
    d: Digest, by_lang: dict[str | None, list[Digest]], by_slug: dict[str, list[Digest]],
    slugs: dict[str, str],
) -> Iterable[list[Digest]]:  # fmt: skip
    """The member lists (of language and tag sets) an entry belongs to."""
    found = [by_lang[d.language]] if d.language in by_lang else []
    if by_slug and d.tags:
        seen: set[str] = set()
        for t in d.tags:
            slug = slugs.get(t)
            if slug is None:
                slug = slugs[t] = tag_slug(t)
            if slug in by_slug and slug not in seen:
                seen.add(slug)
                found.append(by_slug[slug])
    return found


def _planned(
    path: str, fmt: str, head: Head, common: tuple[str, ...], members: list[Digest]
) -> Planned:
    h = hashlib.sha256("\n".join((*common, fmt, path)).encode())
    for d in members:
        h.update(b"\n")
        h.update(d.stamp.encode())
    return Planned(path, h.hexdigest(), fmt, head, tuple(d.id for d in members))


def publish_feeds(cfg: Config, store: Store) -> list[str]:
    """Render and write every planned file whose key changed (or that is missing);
    returns the paths written, relative to feeds/. Nothing changed: nothing rendered."""
    db = store.db
    digests = entry_rows.digests(db)
    p = plan(cfg, digests)
    root = cfg.paths.feeds
    known = feedfiles.keys(db)
    todo = [f for f in p.files if known.get(f.path) != f.key or not (root / f.path).is_file()]
    written = []
    if todo:
        entries = _entries(store, todo, len(digests))
        for f in todo:
            data = render.render(f.fmt, [entries[i] for i in f.ids], cfg, f.head)
            if write_if_changed(root / f.path, data):
                written.append(f.path)
    planned = {f.path for f in p.files}
    stale = sorted(path for path in known if path not in planned)
    for path in stale:
        _remove(root, path)
    if write_if_changed(root / OPML_FILE, render_opml(cfg, p.sets)):
        written.append(OPML_FILE)
    sets_value = json.dumps({"languages": p.languages, "tags": p.tags}, ensure_ascii=False)
    if todo or stale or store.get_meta(SETS_META) != sets_value:
        with store.transaction() as tx:
            feedfiles.put(tx, [(f.path, f.key) for f in todo])
            feedfiles.forget(tx, stale)
            put_meta(tx, (SETS_META, sets_value))
    return written


def _entries(store: Store, todo: list[Planned], total: int) -> dict[str, Entry]:
    """The entries the files to render show: all at once when that is most of them."""
    wanted = list(dict.fromkeys(i for f in todo for i in f.ids))
    if len(wanted) * 2 > total:
        return {e.id: e for e in entry_rows.latest(store.db)}
    return entry_rows.by_ids(store.db, wanted)


def _remove(root: Path, path: str) -> None:
    """Remove a file no longer published, and its folder when that is left empty."""
    target = root / path
    try:
        target.unlink(missing_ok=True)
        parent = target.parent
        while parent != root and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    except OSError as exc:
        log.warning("unpublish_failed path=%s error=%s", target, exc.strerror)
    else:
        log.info("unpublished path=%s", target)


def published_sets(cfg: Config, store: Store) -> list[FeedSet]:
    """The sets of feeds as last published (for WebSub topics and payloads at run time)."""
    raw = store.get_meta(SETS_META)
    known = json.loads(raw) if raw else {"languages": [], "tags": []}
    return catalog.feed_sets(cfg, known["languages"], known["tags"])
