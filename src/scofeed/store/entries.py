"""Entry rows: save a release as a new entry or a revision of one, read them back (which
entry a release belongs to: ``store.matching``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime

from scofeed.digest import sha256
from scofeed.errors import UnknownEntry
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
NOT_FP = "substr(identity, 1, 3) != 'fp:'"  # the condition of index entries_by_identity


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
        f"AND NOT EXISTS (SELECT 1 FROM entries WHERE identity = ? AND {NOT_FP})",
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
