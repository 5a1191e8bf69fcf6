"""The inputs of entries (``entry_origins``): which input belongs to which entry, what
it last held, and the other names an input goes by (an alias, a former name), as
``scofeed show`` lists them and the build matches them."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import NamedTuple

from scofeed.frozen import frozen
from scofeed.store.files import as_db, from_db


@frozen(many=True)
class Input:
    """One input an entry came from, as ``scofeed show`` lists it."""

    origin: str
    kind: str | None  # local | official | other (None: stored before provenance)
    seen: float | None  # when it last came
    content_hash: str  # what it last held
    mirror: bool  # held only as a copy: a higher authority holds the entry
    # another name an input goes by (None: the name it is read under): ``alias`` (a feed
    # item's id kept beside its link) or ``former`` (a name it went by before: a moved
    # page's old address, a renamed file, a list item's old name, a feed item's old link)
    name_kind: str | None = None
    name_of: str | None = None  # the name of the input it stands for (when it was given)


def copies(db: sqlite3.Connection, entry_id: str, but: str) -> list[str]:
    """The other inputs of the entry (not ``but``, not a former name or an alias, not a
    mirror): inputs that matched it (the same release, maybe touched up), first seen
    first."""
    rows = db.execute(
        "SELECT origin FROM entry_origins WHERE entry_id = ? AND origin != ? "
        "AND name_kind IS NULL AND mirror = 0 ORDER BY seen, origin",
        (entry_id, as_db(but)),
    )
    return [from_db(r[0]) for r in rows]


# the name an input is read under is no other name of one (an old name back in use)
LINK = (
    "INSERT INTO entry_origins (origin, entry_id, content_hash, kind, seen, mirror) "
    "VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (origin) DO UPDATE SET entry_id = excluded.entry_id, "
    "content_hash = excluded.content_hash, kind = COALESCE(excluded.kind, kind), "
    "seen = COALESCE(excluded.seen, seen), mirror = excluded.mirror, "
    "name_kind = NULL, name_of = NULL"
)


def link_origin(
    db: sqlite3.Connection,
    origin: str,
    entry_id: str,
    content_hash: str,
    kind: str | None = None,
    seen: float | None = None,
    mirror: bool = False,
) -> None:
    """Note that an input belongs to an entry, with what it last held: its ``kind``
    (local | official | other), when it came, and whether it is only a ``mirror``
    (a copy that a higher authority's version outranks)."""
    db.execute(LINK, (as_db(origin), entry_id, content_hash, kind, seen, int(mirror)))


def continue_origin(
    db: sqlite3.Connection, origin: str, former: str, replace: bool = False
) -> None:
    """Note that an input is the ``former`` one under a new name (a page moved to a new
    address, a list item retitled), with what that one last held: matched by it, it
    revises that entry; the name it went by is a former name from now on
    (``note_former``). An input already known keeps its own entry, unless ``replace``
    (``origin`` is another name the ``former`` input goes by, ``Release.alias``: the row
    is that input's alias)."""
    if replace:
        db.execute(
            "INSERT INTO entry_origins "
            "(origin, entry_id, content_hash, kind, seen, mirror, name_kind, name_of) "
            "SELECT ?, entry_id, content_hash, kind, seen, mirror, 'alias', origin "
            "FROM entry_origins WHERE origin = ? ON CONFLICT (origin) DO UPDATE SET "
            "entry_id = excluded.entry_id, content_hash = excluded.content_hash, "
            "kind = excluded.kind, seen = excluded.seen, mirror = excluded.mirror, "
            "name_kind = excluded.name_kind, name_of = excluded.name_of",
            (as_db(origin), as_db(former)),
        )
        return
    made = db.execute(
        "INSERT INTO entry_origins (origin, entry_id, content_hash, kind, seen, mirror) "
        "SELECT ?, entry_id, content_hash, kind, seen, mirror FROM entry_origins "
        "WHERE origin = ? ON CONFLICT (origin) DO NOTHING",
        (as_db(origin), as_db(former)),
    ).rowcount
    if not made and origin != former and live_name(db, origin) == live_name(db, former):
        # a former name of this very input, back (a site undid a slug's move): its own
        # name again, with what the input last held, so that reading it is an edit
        db.execute(
            "UPDATE entry_origins SET (entry_id, content_hash, kind, seen, mirror) = "
            "(SELECT entry_id, content_hash, kind, seen, mirror FROM entry_origins "
            "WHERE origin = ?), name_kind = NULL, name_of = NULL WHERE origin = ?",
            (as_db(live_name(db, former)), as_db(origin)),
        )
        made = 1
    if made:
        note_former(db, former, origin)


_FOLLOWED = 20  # names followed to the input they stand for, at most (a guard)


def live_name(db: sqlite3.Connection, name: str) -> str:
    """The name the input ``name`` stands for goes by now (itself, unless it is an alias
    or a former name: then the one that names, followed)."""
    for _ in range(_FOLLOWED):
        row = db.execute(
            "SELECT name_kind, name_of FROM entry_origins WHERE origin = ?", (as_db(name),)
        ).fetchone()
        if row is None or row[0] is None or row[1] is None:
            break
        name = from_db(row[1])
    return name


def rename_origin(db: sqlite3.Connection, entry_id: str, name: str, now: str) -> None:
    """The input that set the entry, if it is ``name``, goes by ``now``."""
    db.execute(
        "UPDATE entries SET origin = ? WHERE id = ? AND origin = ?",
        (as_db(now), entry_id, as_db(name)),
    )


def note_former(db: sqlite3.Connection, name: str, successor: str) -> None:
    """The input ``name`` stands for (itself, or the one an alias or former name names)
    goes by ``successor`` from now on: its row is a former name of ``successor``."""
    name = live_name(db, name)
    if name != successor:
        db.execute(
            "UPDATE entry_origins SET name_kind = 'former', name_of = ? "
            "WHERE origin = ? AND name_kind IS NULL",
            (as_db(successor), as_db(name)),
        )


class ListItem(NamedTuple):
    """An entry an item of a list file made and last set (``list_items``)."""

    origin: str  # FILE#NAME
    title: str
    summary: str
    published: str


def list_items(db: sqlite3.Connection, rel: str) -> list[ListItem]:
    """The entries that items of the list file ``rel`` named by what they say (no id,
    no URL: the entry's identity is its fingerprint) made and still hold."""
    rows = db.execute(
        "SELECT o.origin, e.title, e.summary, e.published "
        "FROM entry_origins o JOIN entries e ON e.id = o.entry_id AND e.origin = o.origin "
        "WHERE o.origin >= ? AND o.origin < ? AND o.mirror = 0 "
        "AND substr(e.identity, 1, 3) = 'fp:' ORDER BY e.first_seen",
        (rel + "#", rel + "$"),  # every origin starting FILE# ('$' follows '#')
    )
    return [ListItem(from_db(r[0]), *r[1:]) for r in rows]


def inputs_of(db: sqlite3.Connection, entry_id: str) -> list[Input]:
    """Every input an entry came from, and every other name one goes by, with its kind,
    the oldest first."""
    rows = db.execute(
        "SELECT origin, kind, seen, content_hash, mirror, name_kind, name_of "
        "FROM entry_origins WHERE entry_id = ? ORDER BY seen IS NOT NULL, seen, origin",
        (entry_id,),
    )
    return [
        Input(
            from_db(r["origin"]),
            r["kind"],
            r["seen"],
            r["content_hash"],
            bool(r["mirror"]),
            r["name_kind"],
            None if r["name_of"] is None else from_db(r["name_of"]),
        )
        for r in rows
    ]


def entry_of_origin(db: sqlite3.Connection, origin: str) -> str | None:
    """The id of the entry an input (a file path, a URL) belongs to, if any."""
    row = db.execute(
        "SELECT entry_id FROM entry_origins WHERE origin = ?", (as_db(origin),)
    ).fetchone()
    return row[0] if row else None


def held(db: sqlite3.Connection, origin: str) -> tuple[str, str] | None:
    """The entry an input belongs to and the content hash it held when last read."""
    row = db.execute(
        "SELECT entry_id, content_hash FROM entry_origins WHERE origin = ?", (as_db(origin),)
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else None


def entry_of_file(db: sqlite3.Connection, rel: str) -> str | None:
    """The entry a file in sources/ (or one item of a list file, ``rel#n``) belongs to:
    after a bad edit of the file, that entry's last good version stays published."""
    row = db.execute(
        "SELECT entry_id FROM entry_origins WHERE origin = ? OR origin LIKE ? LIMIT 1",
        (as_db(rel), as_db(rel + "#%")),
    ).fetchone()
    return row[0] if row else None


def origins_of(db: sqlite3.Connection, entry_id: str) -> list[str]:
    """Every input an entry came from, in order."""
    return origins_by_entry(db, [entry_id]).get(entry_id, [])


def origins_by_entry(db: sqlite3.Connection, entry_ids: Sequence[str]) -> dict[str, list[str]]:
    """Every input of each of these entries, in order: a query a few hundred entries."""
    found: dict[str, list[str]] = {}
    for start in range(0, len(entry_ids), 500):  # SQLite's limit on parameters
        chunk = list(entry_ids[start : start + 500])
        marks = ", ".join("?" * len(chunk))
        rows = db.execute(
            f"SELECT entry_id, origin FROM entry_origins WHERE entry_id IN ({marks}) "
            "ORDER BY entry_id, origin",
            chunk,
        )
        for entry_id, origin in rows:
            found.setdefault(entry_id, []).append(from_db(origin))
    return found
