"""Files of ours met again under a new name: a file renamed or moved with its title or
first paragraph corrected on the way (``Renames``, ``corrected_of``), and the items of a
JSON list named by what they say, renamed by an edit (``continue_renamed``). Each keeps
its entry, which ``ingest.ingest_one`` then revises (docs/formats.md, "One release, one
entry")."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence

from scofeed.model import Entry, Release
from scofeed.normalise import compare_key
from scofeed.store import entries as entry_rows
from scofeed.store import matching as match_rows
from scofeed.store import origins as origin_rows
from scofeed.store.matching import Known, Match, Near


def corrected_of(candidates: Sequence[Near], entry: Entry, by_title: bool = True) -> Near | None:
    """The candidate a release is, with its title or its first paragraph corrected (its
    fingerprint, made of both, then matches nothing): one published the same day with
    the same first paragraph, or (``by_title``) the same title, compared as
    fingerprints compare. Two releases of one day that share neither are two."""
    day = entry.published.isoformat()[:10]
    same_day = [n for n in candidates if n.day == day]
    if entry.summary:
        found = next((n for n in same_day if n.summary == entry.summary), None)
        if found is not None:
            return found
    if not by_title:
        return None
    title = compare_key(entry.title)
    return next((n for n in same_day if compare_key(n.title) == title), None)


class Renames:
    """Files of ours that have left sources/ (renamed, moved or deleted), for a build
    that may meet one again under a new name with its title or its first paragraph
    corrected on the way. A new file that matches no entry otherwise, and states no id
    or URL of its own, is such a file when ``corrected_of`` says so: it revises that
    entry (docs/formats.md, "One release, one entry"). A candidate is an entry none of
    whose inputs is in sources/ (a file renamed unchanged keeps the entry's input name:
    it is still there); each is taken once. A new file holding the very bytes of a file
    gone in the same scan (``met``) is that file, whatever this version reads in it: an
    older version's reading of its title or text, which a rename read anew, made it a
    second release. Files ``scofeed add`` has just written (``settled``) are not looked
    at: add decided what they are. Read on first use: a build whose releases all match
    reads none."""

    def __init__(
        self,
        gone: Sequence[str],
        in_sources: Callable[[str], bool],
        settled: frozenset[str] = frozenset(),
        gone_bytes: Mapping[str, str] | None = None,
    ) -> None:
        self.gone = list(gone)
        self.in_sources = in_sources
        self.settled = settled
        self.left: list[Near] | None = None
        self.gone_bytes = dict(gone_bytes or {})  # a gone file's sha256 -> its path
        self.moved: dict[str, str] = {}  # a new file's path -> the gone file it is

    def met(self, rel: str, sha256: str) -> None:
        """A file new to sources/: the file gone in this scan with these very bytes, if
        any, renamed or moved (each is met once)."""
        gone = self.gone_bytes.pop(sha256, None)
        if gone is not None:
            self.moved[rel] = gone

    def _load(self, db: sqlite3.Connection) -> list[Near]:
        left = match_rows.left_files(db, self.gone)
        inputs = origin_rows.origins_by_entry(db, [n.entry_id for n in left])
        return [n for n in left if not any(map(self.in_sources, inputs.get(n.entry_id, [])))]

    def take(self, db: sqlite3.Connection, release: Release, entry: Entry) -> Match | None:
        """The entry of a file that left, that this release is (None: none)."""
        if release.key is not None or release.url is not None:
            return None  # named by its own id or URL
        if release.origin in self.settled:
            return None
        if self.left is None:
            self.left = self._load(db)
        found = self._moved(db, release.origin)
        if found is None and self.left:
            found = corrected_of(self.left, entry)
        if found is None:
            return None
        self.left.remove(found)
        return match_rows.match_of(db, found.entry_id, "renamed")

    def _moved(self, db: sqlite3.Connection, origin: str) -> Near | None:
        """The candidate whose input was the gone file ``origin``'s file is, byte for
        byte (a list file's item: the same item of it)."""
        known = self._gone_input(db, origin)
        if known is None or not self.left:
            return None
        return next((n for n in self.left if n.entry_id == known[0]), None)

    def held_before(self, db: sqlite3.Connection, origin: str, entry_id: str) -> str | None:
        """What ``origin`` held when last read under its gone name, when it is a file
        renamed unchanged of the entry ``entry_id`` (its content hash; None: not so)."""
        known = self._gone_input(db, origin)
        return known[1] if known is not None and known[0] == entry_id else None

    def _gone_input(self, db: sqlite3.Connection, origin: str) -> tuple[str, str] | None:
        """The entry and content hash of the input ``origin`` was, byte for byte, under
        the name of a file gone in this scan (``met``)."""
        rel, mark, item = origin.partition("#")
        gone = self.moved.get(rel)
        return None if gone is None else origin_rows.held(db, gone + mark + item)


def continue_renamed(
    db: sqlite3.Connection,
    rel: str,
    items: Sequence[tuple[Release, Entry]],
    known: Known | None = None,
    pending: entry_rows.Pending | None = None,
) -> int:
    """Items of the list file ``rel`` named by what they say (no id, no URL:
    ``sources.jsonfile``) are named by their title and date, so an edit of either names
    the item anew. Each such new name that stands where an item of the file's last
    version has gone, with the same first paragraph (the entry's summary) and the same
    title or the same date, is that item edited: its name continues that item
    (``origin_rows.continue_origin``), so that ``ingest_one`` revises the entry instead of
    publishing the release twice. An item named by its place (``FILE#2``, as a store
    from before 2026-12-01 16:41 names every such item until the file changes) with the
    same title and date is that item too, whatever its text: the edit that changed the
    file changed its first paragraph, and it was published a second time. Returns how
    many were linked."""
    said = [
        (r, e)
        for r, e in items
        if r.key is None and r.url is None and r.origin.startswith(rel + "#")
    ]
    if not said:
        return 0
    if pending is not None:
        pending.flush(db)
    stored = origin_rows.list_items(db, rel)
    now_named = {r.origin for r, _e in items}
    gone = [item for item in stored if item.origin not in now_named]
    linked = 0
    for release, entry in said:
        if not gone:
            break
        if origin_rows.entry_of_origin(db, release.origin) is not None:
            continue  # a name the store knows keeps its own entry
        # by its text first, among every item gone: an item named by its place is
        # found by title and date only when none is (two items of one title and date,
        # the first deleted: the other took the deleted one's entry, and its text)
        said_as = (compare_key(entry.title), entry.published.isoformat(), entry.summary)
        item = next((i for i in gone if _stands_in(i, said_as, rel, True)), None)
        item = item or next((i for i in gone if _stands_in(i, said_as, rel, False)), None)
        if item is not None:
            origin_rows.continue_origin(db, release.origin, item.origin)
            if known is not None:
                known.origins.add(release.origin)
            gone.remove(item)
            linked += 1
    return linked


def _stands_in(
    item: origin_rows.ListItem, said_as: tuple[str, str, str], rel: str, by_text: bool
) -> bool:
    """Whether a list item of a new name, ``said_as`` (its title's ``compare_key``, its
    date, its first paragraph), is the gone ``item`` edited: ``by_text``, the same first
    paragraph and the same title or date; else an item named by its place (``FILE#2``)
    of the same title and date."""
    title, published, summary = said_as
    same_title = compare_key(item.title) == title
    same_date = item.published == published
    if by_text:
        return item.summary == summary and (same_title or same_date)
    return same_title and same_date and item.origin[len(rel) + 1 :].isdecimal()
