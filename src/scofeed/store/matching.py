"""Which stored entry a release belongs to: by its input, its id material, its URL, else
its text's fingerprint (``find_match``), and the entries a corrected or renamed release
may be another version of (``near``, ``left_files``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import NamedTuple

from scofeed.frozen import frozen
from scofeed.model import Entry
from scofeed.patterns import Article, article_of, article_prefixes
from scofeed.store.entries import MONTH, NOT_FP, Pending
from scofeed.store.files import as_db, from_db


@frozen(many=True)
class Match:
    """The stored entry a release matched, and by which key."""

    entry_id: str
    by: str  # origin | identity | url | fingerprint
    content_hash: str  # the entry's current content hash
    revision: int
    withdrawn_by: str | None = None  # cli | metadata while the entry is withdrawn
    authority: str | None = None  # of the input that made or last revised it (None: older)
    origin: str = ""  # that input
    updated_ts: float = 0.0  # the entry's updated time (epoch seconds)
    input_hash: str | None = None  # matched by origin: the content hash that input last held
    former_of: str | None = None  # matched by origin, a former name: the name it was left for
    url: str | None = None  # the entry's own URL (its URL key may be a copy's: note_url_key)
    identity: str | None = None  # matched by origin: the entry's id material (key:/url:/fp:)
    first_seen: float | None = None  # when the entry was first stored (epoch seconds)


class Known:
    """Every origin, identity, URL key, article and fingerprint the store holds (a
    superset: keys are added as a build goes). A release none of whose keys is here can
    match no entry, so a large batch (a cold build) skips its lookups; anything else is
    looked up."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.version = _data_version(db)
        self.origins = {from_db(r[0]) for r in db.execute("SELECT origin FROM entry_origins")}
        self.keys: set[str | None] = set()
        self.url_keys: list[str] = []  # read for articles only when a release has one
        for row in db.execute("SELECT identity, url_key, fingerprint, folded FROM entries"):
            self.keys.update(row)
            if row[1] is not None:
                self.url_keys.append(row[1])
        self._articles: set[Article] | None = None

    def articles(self) -> set[Article]:
        """The articles the stored URL keys name (``patterns.article_of``), read once."""
        if self._articles is None:
            self._articles = {a for k in self.url_keys if (a := article_of(k)) is not None}
        return self._articles

    @classmethod
    def current(cls, db: sqlite3.Connection, known: Known | None) -> Known:
        """``known`` while no other connection has written to the store since it was
        loaded (this connection's own commits keep it whole), else a fresh one."""
        if known is not None and known.version == _data_version(db):
            return known
        return cls(db)

    def note(
        self,
        origin: str,
        identity: str,
        url_key: str | None,
        fp: str,
        folded: str = "",
        article: Article | None = None,
    ) -> bool:
        """Whether a release of these keys may match a stored entry (one of its keys is
        here); its keys are noted, as the caller is about to store it."""
        keys = self.keys
        could = (
            origin in self.origins
            or identity in keys
            or (url_key is not None and url_key in keys)
            or fp in keys
            or (folded != fp and folded in keys)
            or (article is not None and article in self.articles())
        )
        self.origins.add(origin)
        keys.update((identity, url_key, fp, folded or fp))
        if self._articles is None and url_key is not None:
            self.url_keys.append(url_key)
        elif self._articles is not None and article is not None:
            self._articles.add(article)
        return could


def _data_version(db: sqlite3.Connection) -> int:
    """Changes when another connection commits (PRAGMA data_version)."""
    return int(db.execute("PRAGMA data_version").fetchone()[0])


def find_match(
    db: sqlite3.Connection,
    origin: str,
    identity: str,
    url_key: str | None,
    fp: str,
    known: Known | None = None,
    pending: Pending | None = None,
    entry_id: str | None = None,
    by_origin: bool = True,
    folded: str = "",
    day: str | None = None,
    passed: list[str] | None = None,
    authority: str | None = None,
    article: Article | None = None,
) -> Match | None:
    """The stored entry this release belongs to: same input (unless not ``by_origin``),
    same id material, same canonical URL (or, with ``article``, the SCO article its
    address names by day and number: ``patterns.article_of``), else the same
    title-and-first-paragraph fingerprint. With ``known``, a release that cannot match
    is answered without a query (and its keys noted, as the caller is about to store
    them); ``pending`` rows are written before a query.
    ``entry_id``, the id the release's identity mints: an entry holding it was minted
    from this release's fingerprint as its first version, and has been edited since (so
    its fingerprint is another): the release is a copy of that first version.
    ``folded``, its folded fingerprint (``normalise.folded_fingerprint``): after the
    fingerprint, an entry whose fingerprint or folded fingerprint is that (a copy that
    differs only in Unicode form, compatibility characters or ё/е) is matched by it.
    ``day``, the publication day (YYYY-MM-DD) the release states, when it states one
    (``STATED``): an entry found by its text alone (the fingerprint) whose own stated
    day is ``APART_DAYS`` or more away is another release in the same words (a weekly
    briefing, a yearly greeting), not a copy; its id goes in ``passed``. Only an entry
    of the release's ``authority`` (local, official, other): another's is a copy (a
    partner's feed reposting a release a week later), as before."""
    if known is not None:
        if not known.note(origin, identity, url_key, fp, folded, article):
            return None
    if pending is not None:
        pending.flush(db)
    row = None
    if by_origin:
        row = db.execute(
            f"SELECT {_MATCHED}, o.content_hash AS input_hash, o.name_kind, o.name_of, "
            "e.identity FROM entry_origins o JOIN entries e ON e.id = o.entry_id "
            "WHERE o.origin = ?",
            (as_db(origin),),
        ).fetchone()
    if row:
        former = from_db(row["name_of"]) if row["name_kind"] == "former" else None
        return replace(
            _match(row, "origin"),
            input_hash=row["input_hash"],
            former_of=former,
            identity=row["identity"],
        )
    # a fingerprint's identity ("fp:...") is never looked up: the fingerprint is, below;
    # the index on identities leaves those rows out, so the query says so too (SQLite
    # uses a partial index only for a query holding its condition)
    by_fp = identity.startswith("fp:")
    queries = [] if by_fp else [("identity", f"identity = ? AND {NOT_FP}", identity)]
    if url_key:
        queries.append(("url", "url_key = ?", url_key))
    if article is not None:
        queries.append(("article", "", ""))
    queries.append(("fingerprint", "fingerprint = ?", fp))
    if folded and folded != fp:
        queries.append(("fingerprint", "fingerprint = ?", folded))  # nothing to fold there
    if folded:
        queries.append(("fingerprint", "folded = ?", folded))  # the partial index's rows
    if by_fp and entry_id is not None:
        queries.append(("fingerprint", "id = ?", entry_id))  # the primary key: no scan
    for by, where, value in queries:
        if by == "article" and article is not None:
            row = _same_article(db, article)
            by = "url"  # another address of the page: as its own address is
        elif by == "fingerprint" and day is not None:
            rows = db.execute(
                f"SELECT {_MATCHED}, substr(e.published, 1, 10) AS day, e.date_source "
                f"FROM entries e WHERE {where} ORDER BY first_seen",
                (value,),
            ).fetchall()
            row = next((r for r in rows if not _apart(day, r, authority)), None)
            if passed is not None:
                passed.extend(r["id"] for r in rows if _apart(day, r, authority))
        else:
            row = db.execute(
                f"SELECT {_MATCHED} FROM entries e WHERE {where} ORDER BY first_seen LIMIT 1",
                (value,),
            ).fetchone()
        if row:
            return _match(row, by)
    return None


def _same_article(db: sqlite3.Connection, article: Article) -> sqlite3.Row | None:
    """The first stored entry whose URL key names ``article`` at another address (its
    slug, or none, or under news/): a few keys of one day's folders, read by index."""
    rows = []
    for prefix in article_prefixes(article):
        # every key beginning with the prefix (ending in "/": "0" is the next character)
        rows += db.execute(
            f"SELECT {_MATCHED}, e.url_key FROM entries e WHERE url_key >= ? AND url_key < ?",
            (prefix, prefix[:-1] + "0"),
        ).fetchall()
    found = [r for r in rows if article_of(r["url_key"]) == article]
    return min(found, key=lambda r: r["first_seen"], default=None)


# the publication dates a release states (its metadata, its page's date stamp, its
# address), not a day its text reports (an event's, often days before) nor its file's
APART_DAYS = 7
STATED = frozenset({"metadata", "page", "url"})


def stated_day(entry: Entry) -> str | None:
    """The publication day an entry's input states (``STATED``), as YYYY-MM-DD in the
    entry's zone; None when its date is one its text reports or its file's."""
    if entry.date_source not in STATED:
        return None
    return entry.published.date().isoformat()


def _apart(day: str, row: sqlite3.Row, authority: str | None) -> bool:
    """Whether an entry (``row``: its day, date source and authority) of ``authority``
    states a publication day ``APART_DAYS`` or more from ``day``."""
    if row["date_source"] not in STATED or row["authority"] != (authority or "local"):
        return False
    try:
        gap = date.fromisoformat(day) - date.fromisoformat(row["day"])
    except ValueError:
        return False
    return abs(gap.days) >= APART_DAYS


def states_another(origin: str, stored: str | None, stated: str) -> bool:
    """A file in sources/ (or an item of one) that made an entry from the id or address
    it stated (``stored``, the entry's identity), and now states another of the same
    kind: it may hold another release (a page saved over one of another address,
    ``curl -o latest.html``; the caller asks its text too). A fetched page is what its
    address serves, whatever it states."""
    kind = (stored or "")[:4]
    return (
        "://" not in origin and kind in ("key:", "url:") and stated[:4] == kind and stated != stored
    )


_MATCHED = (
    "e.id, e.content_hash, e.revision, e.withdrawn_by, e.authority, e.origin, e.updated_ts, e.url, "
    "e.first_seen"
)


def match_of(db: sqlite3.Connection, entry_id: str, by: str) -> Match | None:
    """The entry of this id as a ``Match`` ``by`` the given key (None: no such entry)."""
    row = db.execute(f"SELECT {_MATCHED} FROM entries e WHERE e.id = ?", (entry_id,)).fetchone()
    return None if row is None else _match(row, by)


class Near(NamedTuple):
    """An entry a release may be another version of (``near``, ``left_files``)."""

    entry_id: str
    title: str
    summary: str
    day: str  # its publication date, YYYY-MM-DD


_NEAR = "SELECT e.id, e.title, e.summary, substr(e.published, 1, 10) FROM entries e "


def as_near(db: sqlite3.Connection, entry_id: str) -> tuple[Near, tuple[str, ...]] | None:
    """The entry as a ``Near``, and its fingerprint and folded fingerprint, if it has
    one (None: no such entry)."""
    row = db.execute(
        "SELECT e.id, e.title, e.summary, substr(e.published, 1, 10), e.fingerprint, "
        "e.folded FROM entries e WHERE e.id = ?",
        (entry_id,),
    ).fetchone()
    return None if row is None else (Near(*tuple(row)[:4]), tuple(filter(None, row[4:])))


def near(db: sqlite3.Connection, day: str) -> list[Near]:
    """Entries published on this ``day`` (YYYY-MM-DD, as stated): what a release whose
    title or first paragraph was corrected may be another version of (the caller
    compares them: ``renames.corrected_of``)."""
    rows = db.execute(
        f"{_NEAR} WHERE {MONTH} = ? AND substr(published, 1, 10) = ? ORDER BY first_seen",
        (day[:7], day),
    )
    return [Near(*r) for r in rows]


def left_files(db: sqlite3.Connection, gone: Sequence[str]) -> list[Near]:
    """Entries whose own input is a file that has left sources/: one listed in
    ``files_left`` (``files.forget``; a name back in sources/ may be there too: the
    caller checks), or one of ``gone`` (this scan's, not forgotten yet), or an item
    (``FILE#NAME``) of a list file of ``gone`` (a list renamed in this scan; the items
    of lists that left before are not looked for)."""
    inputs = f"{_NEAR}JOIN entry_origins o ON e.id = o.entry_id AND e.origin = o.origin"
    order = "AND instr(o.origin, '#') = 0 ORDER BY e.first_seen"
    rows = db.execute(f"{inputs} WHERE o.origin IN (SELECT path FROM files_left) {order}")
    found = [*rows]
    for start in range(0, len(gone), 500):  # SQLite's limit on parameters
        chunk = [as_db(g) for g in gone[start : start + 500]]
        marks = ", ".join("?" * len(chunk))
        found += db.execute(f"{inputs} WHERE o.origin IN ({marks}) {order}", chunk)
    for g in gone:
        if g.endswith(".json") and isinstance(as_db(g), str):  # "#" < "$": its items
            found += db.execute(
                f"{inputs} WHERE o.origin > ? AND o.origin < ? ORDER BY e.first_seen",
                (g + "#", g + "$"),
            )
    return list({r[0]: Near(*r) for r in found}.values())  # each entry once


def _match(row: sqlite3.Row, by: str) -> Match:
    return Match(
        row["id"], by, row["content_hash"], row["revision"], row["withdrawn_by"],
        row["authority"], from_db(row["origin"]), row["updated_ts"], url=row["url"],
        first_seen=row["first_seen"],
    )  # fmt: skip
