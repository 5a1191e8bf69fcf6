"""What a publish writes: every file of every feed set with its key (``plan``), from the
sets the store calls for and their newest entries (``layout``). A file is rendered
again only when its key changed (see the package's docstring)."""

from __future__ import annotations

import contextvars
import importlib
import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scofeed import render
from scofeed.config import Config, tag_slug
from scofeed.digest import sha256
from scofeed.errors import PublishError
from scofeed.frozen import frozen
from scofeed.model import Entry
from scofeed.render import catalog
from scofeed.render.catalog import ARCHIVE_FORMATS, FeedSet, Head
from scofeed.store import Store
from scofeed.store import published as published_rows
from scofeed.store import withdrawals as withdrawal_rows
from scofeed.store.published import Month


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


# where ``not_before_its_date`` reads the dates the files say: the feeds folder written
# to, but for ``build --dry-run``, which writes into a scratch folder and reads feeds/
DATES_FROM: contextvars.ContextVar[Path | None] = contextvars.ContextVar("dates_from", default=None)


def not_before_its_date(root: Path, f: Planned, now: datetime) -> Planned:
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
        if fmt == "atom":
            when = datetime.fromisoformat(text)
        else:  # by name: a build with no RSS file yet (every cold one) never loads
            # email.utils and the socket module it brings (~9 ms of the seed's build)
            when = importlib.import_module("email.utils").parsedate_to_datetime(text)
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
