"""Publishing feeds/: every set of feeds of ``render.catalog`` (main, per language, per
tag) in every configured format, the main set's RFC 5005 archive pages (one per month,
Atom and RSS) and ``feeds.opml``; each file written atomically (a temporary file in the
same folder, fsync, then rename).

A reader never sees half a file, and a file whose bytes would not change is not touched
at all (its mtime, and so HTTP Last-Modified, stays put). Each file has a key: a hash of
everything it shows (the rendering code's hash, the site settings, its set, its archive
links, and each entry's id, dates, revision, content hash, link and author). The keys
live in the store (``store.feedfiles``) with each file's stamp (size, mtime, inode); a
file is rendered only when its key changed, or the file is missing or not as it was
left, so a new release at 30,000 entries renders the subscription feeds it
appears in and the one archive page of its month (and that page's neighbour, whose
``next-archive`` link it changes), reading only those pages' entries. A file the
publisher wrote before and no longer plans (a month left empty, a tag dropped) is
removed.
Withdrawn entries are in no feed; those withdrawn within ``feeds.tombstone_days`` of
``now`` leave an RFC 6721 tombstone in the Atom feeds of their sets (part of those
files' keys, so a tombstone's expiry re-renders them at the next build). A set's latest
withdrawal (or restore) is in its subscription feeds' heads and keys: a feed is never
dated before it, and a feed emptied by withdrawals is dated by the last of them. A feed
with neither entries nor a withdrawal (an empty store's, a tag's that no entry has, or no
longer) is dated by when it was first published so, kept with its file
(``feedfiles.empty_since``): stable, so an unchanged feed stays byte-identical.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import json
import logging
import os
import re
import sqlite3
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING

from scofeed import render
from scofeed.config import Config, tag_slug
from scofeed.digest import sha256
from scofeed.errors import PublishError
from scofeed.frozen import frozen
from scofeed.model import Entry
from scofeed.render import catalog
from scofeed.render.catalog import ARCHIVE_FORMATS, OPML_FILE, FeedSet, Head
from scofeed.render.opml import render_opml
from scofeed.store import Store, feedfiles, put_meta
from scofeed.store import published as published_rows
from scofeed.store import withdrawals as withdrawal_rows
from scofeed.store.lock import exclusively
from scofeed.store.published import Month

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)

SECOND = 1_000_000_000  # ns
SETS_META = "feed_sets"  # the languages and metadata tags with feeds, as last published


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


@frozen
class Planned:
    """One file to publish: where, its key, and how to render it."""

    path: str  # relative to feeds/
    key: str
    fmt: str
    head: Head
    ids: tuple[str, ...]  # its entries, in order (an archive page's: read when rendered)
    withdrawn: tuple[Entry, ...] = ()  # the tombstones it carries (Atom only)
    month: str | None = None  # an archive page's month
    size: int = 0  # how many entries it shows


@frozen
class Plan:
    """The feed sets and the files to publish, with the languages and tags they cover."""

    sets: list[FeedSet]
    files: list[Planned]
    languages: list[str]
    tags: list[str]  # metadata tags with feeds


def tombstones(cfg: Config, store: Store, now: datetime) -> list[Entry]:
    """The withdrawn entries whose tombstones the Atom feeds still carry at ``now``."""
    if cfg.feeds.tombstone_days == 0:
        return []
    return withdrawal_rows.withdrawn(store.db, now - timedelta(days=cfg.feeds.tombstone_days))


# set key -> (id, stamp) of its newest entries, newest first
Members = dict[str, list[tuple[str, str]]]


def plan(
    cfg: Config,
    sets: list[FeedSet],
    members: Members,
    months: dict[str, Month],
    withdrawn: Sequence[Entry] = (),
    withdrawals: Sequence[tuple[str, tuple[str, ...], str, datetime]] = (),
    empty_since: Mapping[str, datetime] | None = None,
    now: datetime | None = None,
) -> list[Planned]:
    """Every file with its key: the sets' subscription feeds from their newest entries'
    stamps, the main set's archive pages from each month's version, and the tombstones
    still shown. ``withdrawals`` (``withdrawal_rows.withdrawals``) give each set's latest
    withdrawal, which a subscription feed's date never precedes (in its head and its
    key), and each month's, which its archive page's date never precedes: the page
    changed then, and a date going back told readers it had not. A subscription feed
    with neither entries nor a withdrawal is dated by when it was first published so:
    ``empty_since`` (``feedfiles.empty_since``), else ``now``, to the second (in its
    head and its key). While every entry fits in the subscription feed, that feed is
    complete (``fh:complete``) and there are no archive pages: a lone archive page with
    no neighbours says nothing a reader can use (the W3C validator warns about it). Pure."""
    order = sorted(months, reverse=True)  # newest first
    complete = sum(m.live for m in months.values()) <= cfg.feeds.entries
    site = repr(cfg.site)
    limit = str(cfg.feeds.entries)
    code = render.code_version()  # a new scofeed's rendering reaches every file once
    files: list[Planned] = []
    for fs in sets:
        whole = fs.archived and complete
        newest = order[0] if fs.archived and order and not whole else None
        rows = members.get(fs.key, [])
        ids = tuple(i for i, _ in rows)
        shown = _hash([stamp for _, stamp in rows])
        tombs = tuple(
            e for e in withdrawn if fs.holds(cfg, e.language, {tag_slug(t) for t in e.tags})
        )
        feed_left, pages_left = _left(cfg, fs, withdrawals)
        last = max(feed_left, default=None)
        dated = (f"last withdrawal {last.isoformat()}",) if last is not None else ()
        for fmt in cfg.feeds.formats:
            since = None
            if not rows and last is None:
                since = _since((empty_since or {}).get(fs.path(fmt)), now)
                dated = (f"empty since {since.isoformat()}",)
            head = catalog.head(cfg, fs, fmt, newest, whole, last, since)
            gone = tombs if fmt == "atom" else ()
            common = (code, site, repr(fs), repr(head), repr(cfg.hub_urls()), limit,
                      *(_tomb(e) for e in gone), *dated, f"home {head.home}")  # fmt: skip
            key = _key(common, fmt, fs.path(fmt), shown)
            files.append(Planned(fs.path(fmt), key, fmt, head, ids, gone, size=len(ids)))
        if not fs.archived or whole:
            continue
        month_last: dict[str, datetime] = {}
        for month, at in pages_left:
            month_last[month] = max(at, month_last.get(month, at))
        for i, month in enumerate(order):
            older = order[i + 1] if i + 1 < len(order) else None
            newer = order[i - 1] if i > 0 else None
            gone_at = month_last.get(month)
            # the version moves whenever an entry of the month shows differently, or
            # comes or goes (store triggers); the count is there for the reader's sake
            live, version = months[month]
            shown = f"{live} entries, version {version}"
            for fmt in ARCHIVE_FORMATS:
                if fmt not in cfg.feeds.formats:
                    continue
                head = catalog.archive_head(cfg, fs, fmt, month, older, newer, gone_at)
                path = fs.archive_path(month, fmt)
                common = (code, site, repr(fs), repr(head))
                if gone_at is not None:  # not in the repr (a key that moved for every page)
                    common += (f"last withdrawal {gone_at.isoformat()}",)
                key = _key(common, fmt, path, shown)
                files.append(Planned(path, key, fmt, head, (), month=month, size=live))
    return files


# a subscription feed's own date, as its file says it: in Atom the first <updated> (the
# feed's, before any entry's), in RSS <lastBuildDate> (the channel's, before any item)
_FILE_DATE = {
    "atom": re.compile(rb"<updated>([^<>]{10,40})</updated>"),
    "rss": re.compile(rb"<lastBuildDate>([^<>]{10,40})</lastBuildDate>"),
}
_HEAD_BYTES = 8192  # a feed's head, before its first entry
FILE_DATE_AHEAD = timedelta(days=1)  # a file's date further on than this is not kept


# where ``_not_before_its_date`` reads the dates the files say: the feeds folder written
# to, but for ``build --dry-run``, which writes into a scratch folder and reads feeds/
DATES_FROM: contextvars.ContextVar[Path | None] = contextvars.ContextVar("dates_from", default=None)


def _not_before_its_date(root: Path, f: Planned, now: datetime) -> Planned:
    """A subscription feed about to be written again, dated no earlier than its file
    already says (Atom, RSS; JSON Feed states no date of its own): an entry pushed out
    of its newest by an older one coming in, or a feed's first entry older than the
    time it stood empty since, took its date back, while its entries had changed. Not
    in its key (``Head.last_withdrawal`` is not): a feed not written again keeps its
    bytes. Read from the file, not kept: a feeds folder restored keeps the dates its
    readers saw."""
    pattern = _FILE_DATE.get(f.fmt)
    if f.month or pattern is None:
        return f
    try:
        with open((DATES_FROM.get() or root) / f.path, "rb") as fh:
            found = pattern.search(fh.read(_HEAD_BYTES))
    except OSError:
        return f
    said = _file_date(f.fmt, found[1].decode("ascii", "replace")) if found else None
    if said is not None and said > now + FILE_DATE_AHEAD:  # edited by hand, a clock far off
        said = None
    last = f.head.last_withdrawal
    if said is None or (last is not None and last >= said):
        return f
    return replace(f, head=replace(f.head, last_withdrawal=said))


def _file_date(fmt: str, text: str) -> datetime | None:
    """The date a feed's head states, aware and within what a date can hold in UTC
    (year 9999 at -23:45 overflowed it, and every build failed); else None."""
    try:
        when = datetime.fromisoformat(text) if fmt == "atom" else parsedate_to_datetime(text)
        if when.tzinfo is None:
            return None
        when.astimezone(UTC)
    except (ValueError, TypeError, IndexError, OverflowError):
        return None
    return when


def _left(
    cfg: Config, fs: FeedSet, rows: Sequence[tuple[str, tuple[str, ...], str, datetime]]
) -> tuple[list[datetime], list[tuple[str, datetime]]]:
    """When an entry left ``fs``'s subscription feed, and (month, when) it left one of
    its archive pages, from ``withdrawal_rows.withdrawals``: a withdrawal or a restore
    (its language, tags and month) left every set it was in; a departure names what an
    edit took it out of (``entry_rows.update``): a language's feeds (no month), tag
    feeds (no language, no month), or a month's page (no language); one with all three
    (a date corrected to an earlier one, which may have left any feed's newest entries,
    or a departure kept before departures named what was left) every set it was in."""
    feed: list[datetime] = []
    pages: list[tuple[str, datetime]] = []
    for language, tags, month, at in rows:
        slugs = {tag_slug(t) for t in tags}
        if language and month:
            if fs.holds(cfg, language, slugs):
                feed.append(at)
                pages.append((month, at))
        elif month:  # an archive page: the main set's, the one archived
            if fs.language is None and fs.tag is None:
                pages.append((month, at))
        elif language:
            if fs.language is not None and fs.holds(cfg, language, slugs):
                feed.append(at)
        elif fs.tag is not None and fs.holds(cfg, language, slugs):
            feed.append(at)
    return feed, pages


def _since(kept: datetime | None, now: datetime | None) -> datetime:
    """An empty feed's date: the one it was published with, else ``now`` (in UTC, to
    the second: it is stored as a number and read back as the same date)."""
    if kept is not None:
        return kept
    if now is None:
        raise PublishError("an empty feed is planned without the time it is published")
    return now.astimezone(UTC).replace(microsecond=0)


def _key(common: tuple[str, ...], fmt: str, path: str, shown: str) -> str:
    return sha256("\n".join((*common, fmt, path, shown)).encode()).hexdigest()


def _hash(stamps: list[str]) -> str:
    return sha256("\n".join(stamps).encode()).hexdigest()


def _tomb(e: Entry) -> str:
    w = e.withdrawal
    return f"withdrawn {e.id} {w.at.isoformat()} {w.reason!r}" if w else ""


def layout(
    cfg: Config, db: sqlite3.Connection, withdrawn: Sequence[Entry] = ()
) -> tuple[Plan, Members, dict[str, Month]]:
    """The sets of feeds the store calls for (languages present, tags), each set's
    newest entries, and each archive month: a few queries, none reading every row
    into Python (at 30,000 entries a new release costs what it costs at 100). A set
    whose last entry was withdrawn lives on while that tombstone is shown (``withdrawn``),
    so its subscribers see the tombstone rather than a 404."""
    stored = published_rows.languages(db)  # tags: 'az-Arab' and 'az' are both in the az set
    languages = sorted({catalog.set_language(cfg, t) for t in stored}
                       | {catalog.set_language(cfg, e.language) for e in withdrawn})  # fmt: skip
    tags_of: dict[str, list[str]] = {}
    for tag in stored:
        tags_of.setdefault(catalog.set_language(cfg, tag), []).append(tag)
    lists = {raw: tuple(json.loads(raw)) for raw in published_rows.tag_lists(db)}
    every_tag = {t for tags in lists.values() for t in tags} | {
        t for e in withdrawn for t in e.tags
    }
    meta_tags = sorted(every_tag) if cfg.feeds.metadata_tags else []
    sets = catalog.feed_sets(cfg, languages, meta_tags)
    by_slug = lists_by_slug(lists)
    limit = cfg.feeds.entries
    members: Members = {}
    for fs in sets:
        if fs.language is not None:
            mine = tags_of.get(fs.language, [])
            members[fs.key] = published_rows.newest(db, limit, languages=mine) if mine else []
        elif fs.tag is not None:
            mine = by_slug.get(tag_slug(fs.tag), [])
            members[fs.key] = published_rows.newest(db, limit, tags=mine) if mine else []
        else:
            members[fs.key] = published_rows.newest(db, limit)
    months = published_rows.months(db)
    return Plan(sets, [], languages, meta_tags), members, months


def lists_by_slug(lists: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Tag slug -> the stored tags columns (JSON lists, ``published_rows.tag_lists``, with
    their tags) that hold a tag of that slug: what a tag's entries are found by
    (``published_rows.newest``, ``page``, ``count``)."""
    found: dict[str, list[str]] = {}
    for raw, tags in lists.items():
        for slug in dict.fromkeys(tag_slug(t) for t in tags):
            found.setdefault(slug, []).append(raw)
    return found


def lists_with(db: sqlite3.Connection, slug: str) -> list[str]:
    """The stored tags columns that hold a tag of this slug (``lists_by_slug``)."""
    lists = {raw: json.loads(raw) for raw in published_rows.tag_lists(db)}
    return lists_by_slug(lists).get(slug, [])


# runs ``render_batch(cfg, batch)`` for each batch, in worker processes; results in order
FanOut = Callable[[Config, list[list[Planned]]], Iterable[tuple[list[str], dict[str, str]]]]
FAN_OUT_MIN = 3000  # entry renderings from which a fan-out (given) is used: a cold build
BATCH_ENTRIES = 1500  # entry renderings per batch in a fan-out


def publish_feeds(
    cfg: Config, store: Store, now: datetime | None = None, fan_out: FanOut | None = None
) -> list[str]:
    """Render and write every planned file whose key changed (or that is missing);
    returns the paths written, relative to feeds/. Nothing changed: nothing rendered.
    ``now`` (default: the clock) decides which tombstones remain. With ``fan_out`` (the
    build passes worker processes), a large amount of rendering (a cold build's archive
    pages) is split into batches rendered and written there. One publisher at a time
    (the daemon's jobs, a `scofeed withdraw` beside it): a lock file beside the store."""
    with _one_publisher(cfg):
        return _publish(cfg, store, now, fan_out)


@contextlib.contextmanager
def _one_publisher(cfg: Config) -> Iterator[None]:
    """Two publishers interleaving could record a newer file key over older bytes."""
    with exclusively(Path(f"{cfg.paths.state}.publish.lock"), "publish lock", PublishError):
        yield


def _publish(cfg: Config, store: Store, now: datetime | None, fan_out: FanOut | None) -> list[str]:
    db = store.db
    now = now or datetime.now(UTC)
    withdrawn = tombstones(cfg, store, now)
    p, members, months = layout(cfg, db, withdrawn)
    files = plan(cfg, p.sets, members, months, withdrawn, withdrawal_rows.withdrawals(db),
                 feedfiles.empty_since(db), now)  # fmt: skip
    root = cfg.paths.feeds
    if root.exists() and not root.is_dir():  # else each file failed "Not a directory"
        raise PublishError(f"paths.feeds: {root}: not a folder")
    known = feedfiles.keys(db)
    todo = [f for f in files if not _current(known.get(f.path), f.key, root / f.path)]
    todo = [replace(f, ids=tuple(published_rows.month_ids(db, f.month))) if f.month else f
            for f in todo]  # fmt: skip
    todo = [_not_before_its_date(root, f, now) for f in todo]
    if todo:  # nothing to write: nothing written here can have been left half-way
        _sweep(root, {str(Path(f.path).parent) for f in todo})
    written: list[str] = []
    failed: dict[str, str] = {}  # path -> why it could not be written
    # the archive pages first: a subscription feed written while the page its
    # prev-archive link names could not be (a full disk) left its oldest entries in
    # no published file; such a feed keeps its last bytes until the page is written
    pages = [f for f in todo if f.month]
    feeds = [f for f in todo if not f.month]
    spread = fan_out is not None and sum(f.size for f in todo) >= FAN_OUT_MIN
    entries = (
        _entries(store, todo, sum(m.live for m in months.values())) if todo and not spread else {}
    )

    def render_group(group: list[Planned]) -> tuple[list[str], dict[str, str]]:
        if not spread:
            return _render_files(cfg, group, entries)
        assert fan_out is not None
        done: list[str] = []
        bad: dict[str, str] = {}
        for batch_written, batch_failed in fan_out(cfg, _batches(group)):
            done += batch_written
            bad |= batch_failed
        return done, bad

    written, failed = render_group(pages)
    if failed:  # held back: the feeds whose prev-archive names an archive page
        page = next(iter(failed))
        for f in feeds:
            if any(rel == "prev-archive" for rel, _href in f.head.links):
                failed[f.path] = f"{root / f.path}: not written, its archive page {page} was not"
        feeds = [f for f in feeds if f.path not in failed]
    rest, rest_failed = render_group(feeds)
    written += rest
    failed |= rest_failed
    order = {f.path: n for n, f in enumerate(files)}
    written.sort(key=order.__getitem__)  # plan order, however the batches came back
    planned = set(order)
    stale = sorted(path for path in known if path not in planned)
    for path in stale:
        _remove(root, path)
    try:
        if write_if_changed(root / OPML_FILE, render_opml(cfg, p.sets)):
            written.append(OPML_FILE)
    except PublishError as exc:
        failed[OPML_FILE] = str(exc)
    sets_value = json.dumps({"languages": p.languages, "tags": p.tags}, ensure_ascii=False)
    if todo or stale or store.get_meta(SETS_META) != sets_value:
        with store.transaction() as tx:  # a file not written keeps its old key: tried again
            feedfiles.put(
                tx,
                [(f.path, f.key, f.head.empty_since, feedfiles.stamp(root / f.path))
                 for f in todo if f.path not in failed],
            )  # fmt: skip
            feedfiles.forget(tx, stale)
            put_meta(tx, (SETS_META, sets_value))
    if failed:  # the others were written: one file that cannot be does not hold them up
        first, more = next(iter(failed.values())), len(failed) - 1
        raise PublishError(first + (f"; and {more} more file{'s' * (more > 1)}" if more else ""))
    return written


# what ``write_atomic`` writes before its rename: ".atom.xml.k3j_9x2a.tmp"
_TEMPORARY = re.compile(r"\.(?:atom\.xml|rss\.xml|feed\.json|feeds\.opml)\.\w{8}\.tmp")


def _sweep(root: Path, folders: Iterable[str]) -> None:
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


def _current(recorded: tuple[str, str | None] | None, key: str, path: Path) -> bool:
    """Whether the file at ``path`` is the one last published from ``key``: its key
    recorded, and the file there as it was left (its stamp). A store restored from a
    backup holds the keys of older files: the newer ones on disk were trusted by key,
    and a release withdrawn since the backup stayed out of the feeds for good."""
    if recorded is None or recorded[0] != key:
        return False
    on_disk = feedfiles.stamp(path)
    return on_disk is not None and recorded[1] in (None, on_disk)


def _batches(todo: list[Planned]) -> list[list[Planned]]:
    """Files in batches of about ``BATCH_ENTRIES`` entry renderings, largest first."""
    batches: list[list[Planned]] = []
    size = BATCH_ENTRIES
    for f in sorted(todo, key=lambda f: -len(f.ids)):
        if size + len(f.ids) > BATCH_ENTRIES and (not batches or batches[-1]):
            batches.append([])
            size = 0
        batches[-1].append(f)
        size += len(f.ids)
    return batches


def render_batch(cfg: Config, batch: list[Planned]) -> tuple[list[str], dict[str, str]]:
    """In a worker process: render and write one batch, reading its entries through a
    connection of its own. Returns the paths written and why the others were not (a
    failed file does not hold up the rest of its batch)."""
    store = Store(cfg.paths.state, wait=cfg.limits.store_wait)
    try:
        ids = list(dict.fromkeys(i for f in batch for i in f.ids))
        return _render_files(cfg, batch, published_rows.by_ids(store.db, ids))
    finally:
        store.close()


def contained(path: str) -> bool:
    """Whether a planned path stays inside feeds/: relative, no empty, '.' or '..' part.
    Names come from config and checked entry fields; this is the last guard."""
    return not path.startswith("/") and all(
        part not in ("", ".", "..") and "\\" not in part for part in path.split("/")
    )


WRITERS = 8  # files written at once (threads): their fsyncs wait on the disk together
AHEAD = 2 * WRITERS  # files rendered and not yet written, at most
# files are written here, in turn, until their writes have waited this long in all:
# starting the writers cost ~4 ms of CPU in a one-shot build of the seed (eight
# threads handing the GIL around), whose 16 writes wait ~8 ms in all on a local disk;
# a slow disk or a large build hands its writes to the threads after the first few
INLINE_SECONDS = 0.01


def _render_files(
    cfg: Config, files: list[Planned], entries: dict[str, Entry]
) -> tuple[list[str], dict[str, str]]:
    """Render and write each file; the paths written, and those that could not be
    (path -> why: a folder made read-only, a full disk), which the rest do not wait for.
    Files are rendered here, in turn, and written here too until the writes have waited
    ``INLINE_SECONDS``; the rest are written by ``WRITERS`` threads meanwhile: written
    one after the other, each fsync waits on the disk alone (the 16 files of a one-shot
    `scofeed build` of the seed took ~60 ms on a slow disk, a quarter of it); together
    the file system commits them at once."""
    written: list[str] = []
    failed: dict[str, str] = {}
    pending: deque[tuple[str, Future[bool]]] = deque()  # in plan order
    inline = INLINE_SECONDS  # time left for writing here

    def settle(path: str, job: Callable[[], bool]) -> None:
        try:
            if job():
                written.append(path)
        except PublishError as exc:
            failed[path] = str(exc)

    with contextlib.ExitStack() as stack:
        writers: ThreadPoolExecutor | None = None
        for f in files:
            if not contained(f.path):
                log.warning("unpublishable_path path=%r (outside feeds/): skipped", f.path)
                continue
            # an entry withdrawn since the plan was made is left out; the next plan differs
            shown = [entries[i] for i in f.ids if i in entries]
            data = render.render(f.fmt, shown, cfg, f.withdrawn, f.head)
            target = cfg.paths.feeds / f.path
            if writers is None and inline > 0:
                started = time.monotonic()
                settle(f.path, functools.partial(write_if_changed, target, data))
                inline -= time.monotonic() - started
                continue
            if writers is None:
                # by name, like the build's process pool (``scofeed.pool``): a build that
                # never starts the writers never loads concurrent.futures (~0.6 ms)
                futures = importlib.import_module("concurrent.futures")
                writers = stack.enter_context(
                    futures.ThreadPoolExecutor(WRITERS, thread_name_prefix="scofeed-write")
                )
            pending.append((f.path, writers.submit(write_if_changed, target, data)))
            if len(pending) > AHEAD:  # hold no more than AHEAD files' bytes
                path, job = pending.popleft()
                settle(path, job.result)
        while pending:
            path, job = pending.popleft()
            settle(path, job.result)
    return written, failed


def _entries(store: Store, todo: list[Planned], total: int) -> dict[str, Entry]:
    """The entries the files to render show: all at once when that is most of them."""
    wanted = list(dict.fromkeys(i for f in todo for i in f.ids))
    if len(wanted) * 2 > total:
        return {e.id: e for e in published_rows.latest(store.db)}
    return published_rows.by_ids(store.db, wanted)


def _remove(root: Path, path: str) -> None:
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


def published_sets(cfg: Config, store: Store) -> list[FeedSet]:
    """The sets of feeds as last published (for WebSub topics and payloads at run time)."""
    raw = store.get_meta(SETS_META)
    known = json.loads(raw) if raw else {"languages": [], "tags": []}
    return catalog.feed_sets(cfg, known["languages"], known["tags"])
