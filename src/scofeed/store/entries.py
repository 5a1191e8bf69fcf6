"""Entry rows: find the entry a release belongs to, save a revision, read them back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import NamedTuple

from scofeed.digest import sha256
from scofeed.errors import UnknownEntry
from scofeed.frozen import frozen
from scofeed.model import Entry, Withdrawal
from scofeed.store.files import as_db, from_db
from scofeed.store.origins import LINK

_COLUMNS = (
    "id, identity, url_key, fingerprint, title, summary, content_html, published, published_ts, "
    "updated, updated_ts, author, language, link, url, tags, content_hash, revision, origin, "
    "date_source, first_seen, event_date"
)
# what a read selects: the columns above and the withdrawal, if any
READ = _COLUMNS + ", withdrawn_at, withdrawn_reason, withdrawn_by"
LIVE = "withdrawn_at IS NULL"  # entries in the feeds (not withdrawn)
MONTH = "substr(published, 1, 7)"  # an archive page's month (index entries_by_month)


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
    """Every origin, identity, URL key and fingerprint the store holds (a superset: keys
    are added as a build goes). A release none of whose keys is here can match no entry,
    so a large batch (a cold build) skips its lookups; anything else is looked up."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.version = _data_version(db)
        self.origins = {from_db(r[0]) for r in db.execute("SELECT origin FROM entry_origins")}
        self.keys: set[str | None] = set()
        for row in db.execute("SELECT identity, url_key, fingerprint, folded FROM entries"):
            self.keys.update(row)

    @classmethod
    def current(cls, db: sqlite3.Connection, known: Known | None) -> Known:
        """``known`` while no other connection has written to the store since it was
        loaded (this connection's own commits keep it whole), else a fresh one."""
        if known is not None and known.version == _data_version(db):
            return known
        return cls(db)

    def may_match(
        self, origin: str, identity: str, url_key: str | None, fp: str, folded: str = ""
    ) -> bool:
        keys = self.keys
        return (
            origin in self.origins
            or identity in keys
            or (url_key is not None and url_key in keys)
            or fp in keys
            or (folded != fp and folded in keys)
        )

    def add(
        self, origin: str, identity: str, url_key: str | None, fp: str, folded: str = ""
    ) -> None:
        self.origins.add(origin)
        self.keys.update((identity, url_key, fp, folded or fp))


def _data_version(db: sqlite3.Connection) -> int:
    """Changes when another connection commits (PRAGMA data_version)."""
    return int(db.execute("PRAGMA data_version").fetchone()[0])


class Pending:
    """New entries and their origin links, held back to be written in batches
    (executemany) during a large build. Anything that reads the tables flushes first,
    so every query sees exactly the rows it would have seen row by row."""

    def __init__(self, flush_at: int = 200) -> None:
        self.flush_at = flush_at  # rows held before they are written
        self.entries: list[tuple[object, ...]] = []
        self.origins: list[tuple[object, ...]] = []

    def add(
        self,
        db: sqlite3.Connection,
        origin: str,
        entry: Entry,
        identity: str,
        url_key: str | None,
        now: float,
        authority: str = "local",
    ) -> None:
        self.entries.append(_insert_row(entry, identity, url_key, now, authority))
        self.origins.append((as_db(origin), entry.id, entry.content_hash, authority, now, 0))
        if len(self.entries) >= self.flush_at:
            self.flush(db)

    def flush(self, db: sqlite3.Connection) -> None:
        if self.entries:
            insert_counted(db, self.entries)
            db.executemany(LINK, self.origins)
            self.entries.clear()
            self.origins.clear()


_COUNTER = "entries_counted_in"  # the trigger counting each new row (migration 14)
# what that trigger does for each row, done once for every row past a rowid
_COUNT_MONTHS = (
    "INSERT INTO entry_months SELECT substr(published, 1, 7), sum(withdrawn_at IS NULL), "
    "count(*) FROM entries WHERE rowid > ? GROUP BY 1 "
    "ON CONFLICT (month) DO UPDATE SET live = live + excluded.live, "
    "version = version + excluded.version"
)
_COUNT_TAGS = (
    "INSERT INTO entry_tag_lists SELECT tags, count(*) FROM entries "
    "WHERE rowid > ? AND withdrawn_at IS NULL AND tags != '[]' GROUP BY 1 "
    "ON CONFLICT (tags) DO UPDATE SET live = live + excluded.live"
)


def insert_counted(db: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    """Insert new entry rows (``_insert_row``), counted into ``entry_months`` and
    ``entry_tag_lists`` as the ``entries_counted_in`` trigger counts them, but with the
    trigger out of the way meanwhile and the batch counted in one query each: a
    row-level trigger makes SQLite journal every INSERT statement on its own (a cold
    build's inserts ran ~19% more instructions with it, callgrind). The trigger comes
    back, as it was, in the same savepoint: no other connection sees the store without
    it, and a failure leaves the store as it was before the batch. Each month's version
    grows by the number of rows added to it, as it does row by row."""
    found = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (_COUNTER,)
    ).fetchone()
    if found is None or len(rows) < 2:  # nothing to gain (or a schema without it)
        db.executemany(_INSERT, rows)
        return
    db.execute("SAVEPOINT insert_counted")
    try:
        (last,) = db.execute("SELECT coalesce(max(rowid), 0) FROM entries").fetchone()
        db.execute(f"DROP TRIGGER {_COUNTER}")
        db.executemany(_INSERT, rows)
        db.execute(_COUNT_MONTHS, (last,))
        db.execute(_COUNT_TAGS, (last,))
        db.execute(found[0])
    except BaseException:
        if db.in_transaction:  # an I/O error may have ended it already
            db.execute("ROLLBACK TO insert_counted")
            db.execute("RELEASE insert_counted")
        raise
    db.execute("RELEASE insert_counted")


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
) -> Match | None:
    """The stored entry this release belongs to: same input (unless not ``by_origin``),
    same id material, same canonical URL, else the same title-and-first-paragraph
    fingerprint. With ``known``, a release that cannot match is answered without a
    query (and its keys noted, as the caller is about to store them); ``pending`` rows
    are written before a query.
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
        could = known.may_match(origin, identity, url_key, fp, folded)
        known.add(origin, identity, url_key, fp, folded)
        if not could:
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
    queries = [] if by_fp else [("identity", f"identity = ? AND {_NOT_FP}", identity)]
    if url_key:
        queries.append(("url", "url_key = ?", url_key))
    queries.append(("fingerprint", "fingerprint = ?", fp))
    if folded and folded != fp:
        queries.append(("fingerprint", "fingerprint = ?", folded))  # nothing to fold there
    if folded:
        queries.append(("fingerprint", "folded = ?", folded))  # the partial index's rows
    if by_fp and entry_id is not None:
        queries.append(("fingerprint", "id = ?", entry_id))  # the primary key: no scan
    for by, where, value in queries:
        if by == "fingerprint" and day is not None:
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


_NOT_FP = "substr(identity, 1, 3) != 'fp:'"  # the condition of index entries_by_identity
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


def _event(entry: Entry) -> str | None:
    return entry.event_date.isoformat() if entry.event_date else None


def _tags_json(tags: tuple[str, ...]) -> str:
    return json.dumps(list(tags), ensure_ascii=False) if tags else "[]"  # what dumps gives


_INSERT = (
    f"INSERT INTO entries ({_COLUMNS}, authority, folded, stated_tags) "
    f"VALUES ({', '.join('?' * 25)})"
)


def _insert_row(
    entry: Entry, identity: str, url_key: str | None, now: float, authority: str
) -> tuple[object, ...]:
    published = entry.published
    stated, stamp = published.isoformat(), published.timestamp()
    if entry.updated is not published:  # most often the same datetime (normalise)
        updated, updated_ts = entry.updated.isoformat(), entry.updated.timestamp()
    else:
        updated, updated_ts = stated, stamp
    return (
        entry.id, identity, url_key, entry.fingerprint, entry.title, entry.summary,
        entry.content_html, stated, stamp, updated, updated_ts, entry.author, entry.language,
        entry.link, entry.url, _tags_json(entry.tags),
        entry.content_hash, entry.revision, as_db(entry.origin), entry.date_source, now,
        _event(entry), authority, _folded(entry), _stated(entry),
    )  # fmt: skip


def _stated(entry: Entry) -> str | None:
    """The tags the entry's release states as stored: NULL where not known."""
    return None if entry.stated is None else _tags_json(entry.stated)


def note_stated_tags(db: sqlite3.Connection, entry_id: str, entry: Entry) -> bool:
    """Give a stored entry whose stated tags are not known (stored before scofeed kept
    them) those its own input, read again, states (``scofeed build --reread``); whether
    it had none."""
    if entry.stated is None:
        return False
    return (
        db.execute(
            "UPDATE entries SET stated_tags = ? WHERE id = ? AND stated_tags IS NULL",
            (_stated(entry), entry_id),
        ).rowcount
        > 0
    )


def _folded(entry: Entry) -> str | None:
    """The entry's folded fingerprint as stored: NULL where it is the fingerprint."""
    return entry.folded if entry.folded and entry.folded != entry.fingerprint else None


def note_folded(db: sqlite3.Connection, entry_id: str, entry: Entry) -> None:
    """Give a stored entry whose folded fingerprint is not known (stored before scofeed
    kept them, ``scofeed.refold`` could not tell its first paragraph) the one of a
    release with its fingerprint (its text, but for spacing, punctuation and case)."""
    folded = _folded(entry)
    if folded is not None:
        db.execute(
            "UPDATE entries SET folded = ? WHERE id = ? AND fingerprint = ? AND folded IS NULL",
            (folded, entry_id, entry.fingerprint),
        )


def note_event_date(db: sqlite3.Connection, entry_id: str, entry: Entry) -> None:
    """Give a stored entry without an event date (stored before scofeed read them) the
    one ``entry``, the same text read again, states: stored, nothing delivered (its next
    edit sent it out as a correction of a date that never changed)."""
    if entry.event_date is not None and not entry.event_guessed:
        db.execute(
            "UPDATE entries SET event_date = ? WHERE id = ? AND event_date IS NULL",
            (entry.event_date.isoformat(), entry_id),
        )


def insert(
    db: sqlite3.Connection,
    entry: Entry,
    identity: str,
    url_key: str | None,
    now: float,
    authority: str = "local",
) -> None:
    db.execute(_INSERT, _insert_row(entry, identity, url_key, now, authority))


def update(
    db: sqlite3.Connection, entry: Entry, url_key: str | None, authority: str = "local"
) -> None:
    """Save a revision; ``authority`` is that of the input it came from. A live entry
    whose language, tags or month the revision changes has left feeds (a language's, a
    tag's, a month's archive page): when is kept (``departures``)."""
    tags = _tags_json(entry.tags)
    left, withdrawn_at = _left_by(db, entry)
    # a withdrawn entry left its sets when it was withdrawn: what they say already (an
    # edit's time re-dated and rewrote every one of them, with nothing in them changed)
    when = entry.updated if withdrawn_at is None else datetime.fromtimestamp(withdrawn_at, UTC)
    _departed(db, [(*row, when) for row in left])
    db.execute(
        "UPDATE entries SET url_key = COALESCE(?, url_key), fingerprint = ?, title = ?, "
        "summary = ?, content_html = ?, published = ?, published_ts = ?, updated = ?, "
        "updated_ts = ?, author = ?, language = ?, link = ?, url = ?, tags = ?, "
        "content_hash = ?, revision = ?, origin = ?, date_source = ?, event_date = ?, "
        "authority = ?, folded = ?, stated_tags = COALESCE(?, stated_tags) WHERE id = ?",
        (
            url_key, entry.fingerprint, entry.title, entry.summary, entry.content_html,
            entry.published.isoformat(), entry.published.timestamp(), entry.updated.isoformat(),
            entry.updated.timestamp(), entry.author, entry.language, entry.link, entry.url,
            tags, entry.content_hash,
            entry.revision, as_db(entry.origin), entry.date_source, _event(entry), authority,
            _folded(entry), _stated(entry), entry.id,
        ),
    )  # fmt: skip


def _left_by(
    db: sqlite3.Connection, entry: Entry
) -> tuple[list[tuple[str, str, str]], float | None]:
    """What an entry's revision ``entry`` takes it out of, one ``departures`` row
    each, naming that alone (``withdrawals.withdrawals``): its old language's feeds
    (language, no tags, no month), the feeds of the tags it lost ("", those tags, no
    month), its old month's archive page ("", no tags, that month). A date corrected
    to an earlier one may take it out of the newest entries of any feed it is in, which
    this does not know: a row naming its old language, tags and month, as a
    withdrawal's, dates them all (the newest entry left would take their date back).
    A row naming all three for every change dated every set it was in, those it stayed
    in too: a date corrected to a later one moved the subscription feeds' dates, and
    pushed them to every subscriber, with nothing in them changed. A withdrawn entry's
    too: its withdrawal dated the sets it is in, and an edit of its file (which is
    stored) moved that date to the new ones, the old going back to their newest entry.
    With the rows, when it was withdrawn (None: it is live)."""
    old = db.execute(
        f"SELECT language, tags, {MONTH}, published_ts, withdrawn_at FROM entries WHERE id = ?",
        (entry.id,),
    ).fetchone()
    if old is None:
        return [], None
    language, tags, month, published, withdrawn_at = old
    if entry.published.timestamp() < published:  # it may have left any feed's newest
        return [(language, tags, month)], withdrawn_at
    left = []
    if language != entry.language:
        left.append((language, "[]", ""))
    lost = [t for t in json.loads(tags) if t not in entry.tags]  # (an order is no change)
    if lost:
        left.append(("", _tags_json(tuple(lost)), ""))
    if month != entry.published.isoformat()[:7]:
        left.append(("", "[]", month))
    return left, withdrawn_at


def note_url_key(db: sqlite3.Connection, entry_id: str, url_key: str) -> None:
    """Give an entry that has no URL key the one of an input it matched otherwise."""
    db.execute(
        "UPDATE entries SET url_key = ? WHERE id = ? AND url_key IS NULL", (url_key, entry_id)
    )


def note_identity(db: sqlite3.Connection, entry_id: str, identity: str) -> None:
    """Give an entry minted from its text (``fp:`` identity) the id its input now states
    (``key:``), unless another entry has it."""
    db.execute(
        "UPDATE entries SET identity = ? WHERE id = ? AND substr(identity, 1, 3) = 'fp:' "
        f"AND NOT EXISTS (SELECT 1 FROM entries WHERE identity = ? AND {_NOT_FP})",
        (identity, entry_id, identity),
    )


def set_authority(db: sqlite3.Connection, entry_id: str, authority: str, origin: str) -> None:
    """A higher authority's input now holds the entry (its text was the same)."""
    db.execute(
        "UPDATE entries SET authority = ?, origin = ? WHERE id = ?",
        (authority, as_db(origin), entry_id),
    )


def from_row(row: sqlite3.Row) -> Entry:
    return Entry(
        id=row["id"],
        title=row["title"],
        summary=row["summary"],
        content_html=row["content_html"],
        published=datetime.fromisoformat(row["published"]),
        updated=datetime.fromisoformat(row["updated"]),
        author=row["author"],
        language=row["language"],
        link=row["link"],
        url=row["url"],
        tags=tuple(json.loads(row["tags"])),
        content_hash=row["content_hash"],
        fingerprint=row["fingerprint"],
        revision=row["revision"],
        origin=from_db(row["origin"]),
        date_source=row["date_source"],
        event_date=date.fromisoformat(row["event_date"]) if row["event_date"] else None,
        withdrawal=_withdrawal(row),
        first_seen=row["first_seen"],
    )


def _withdrawal(row: sqlite3.Row) -> Withdrawal | None:
    if "withdrawn_at" not in row.keys() or row["withdrawn_at"] is None:
        return None
    at = datetime.fromtimestamp(row["withdrawn_at"], UTC)
    return Withdrawal(at, row["withdrawn_reason"] or "", row["withdrawn_by"] or "cli")


def get(db: sqlite3.Connection, key: str) -> Entry:
    """An entry by its full id or by the slug at the end of it, withdrawn or not."""
    row = db.execute(f"SELECT {READ} FROM entries WHERE id = ?", (key,)).fetchone()
    if row is None and key and "/" not in key and ":" not in key:
        row = db.execute(
            f"SELECT {READ} FROM entries WHERE id LIKE ? ESCAPE '\\'",
            ("%/" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"),),
        ).fetchone()
    if row is None:
        raise UnknownEntry(f"no entry with id {key!r}")
    return from_row(row)


TagTexts = tuple[str, str, str, tuple[str, ...], tuple[str, ...] | None]


def tag_texts(db: sqlite3.Connection) -> Iterator[TagTexts]:
    """(id, title, content HTML, tags, stated tags or None) of every stored entry,
    withdrawn ones too, one at a time: what the ``[tags]`` rules read (a store of 30,000
    is not held at once)."""
    for entry_id, title, content, tags, stated in db.execute(
        "SELECT id, title, content_html, tags, stated_tags FROM entries ORDER BY rowid"
    ):
        yield (
            entry_id, title, content, tuple(json.loads(tags)),
            None if stated is None else tuple(json.loads(stated)),
        )  # fmt: skip


def lost_tags(
    db: sqlite3.Connection, changes: Sequence[tuple[Entry, tuple[str, ...]]], at: datetime
) -> None:
    """The tags each entry loses (its tags now, as stored, against those it is given)
    kept as departures from their feeds at ``at`` (``update``'s rows), a withdrawn
    one's at its withdrawal (which dated those feeds)."""
    _departed(
        db,
        [
            ("", _tags_json(tuple(lost)), "", at if e.withdrawal is None else e.withdrawal.at)
            for e, tags in changes
            if (lost := [t for t in e.tags if t not in tags])
        ],
    )


def _departed(db: sqlite3.Connection, rows: Iterable[tuple[str, str, str, datetime]]) -> None:
    """Keep these (language, tags, month, when) departures, the latest of each, in one
    statement (a re-tag may take tags from thousands of entries)."""
    db.executemany(
        "INSERT INTO departures (language, tags, month, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (language, tags, month) DO UPDATE SET at = MAX(at, excluded.at)",
        [(language, tags, month, at.timestamp()) for language, tags, month, at in rows],
    )


def set_tags(db: sqlite3.Connection, changed: Sequence[Entry]) -> None:
    """Store these entries' tags and content hashes (``normalise.with_tags``); the
    store's triggers move their per-list counts (entry_tag_lists)."""
    db.executemany(
        "UPDATE entries SET tags = ?, content_hash = ? WHERE id = ?",
        [(_tags_json(e.tags), e.content_hash, e.id) for e in changed],
    )


def set_language(db: sqlite3.Connection, entry: Entry) -> None:
    """Store this entry's language and content hash (``normalise.with_language``)."""
    db.execute(
        "UPDATE entries SET language = ?, content_hash = ? WHERE id = ?",
        (entry.language, entry.content_hash, entry.id),
    )


def with_revision(entry: Entry, revision: int, updated: datetime) -> Entry:
    return replace(entry, revision=revision, updated=max(updated, entry.published))


# what a preview compares of each entry (``versions``)
COMPARED = (
    "revision", "title", "published", "event_date", "language", "tags", "summary", "content_html"
)  # fmt: skip


def versions(db: sqlite3.Connection) -> dict[str, tuple[object, ...]]:
    """Every stored entry's id, the ``COMPARED`` fields of it (its content as a digest)
    and whether it is withdrawn (last)."""
    rows = db.execute(f"SELECT id, {', '.join(COMPARED)}, withdrawn_at IS NOT NULL FROM entries")
    return {r[0]: (*tuple(r)[1:-2], sha256(r[-2].encode()).digest(), r[-1]) for r in rows}
