"""ActivityPub state: followers, handled inbox activities, remote keys, the delivery outbox.

The outbox mirrors the webhook one (``store/deliveries.py``; the lease, the guarded
settle and the counts are ``store/outbox.py``, shared): a delivery is due when it is
``pending`` and ``next_attempt`` has passed; deliveries to one host go strictly in
order, one sender at a time, under the host's lease. A restart loses nothing: what is
not delivered is still pending here.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from scofeed import hostkey
from scofeed.model import Entry
from scofeed.store import entries as entry_rows
from scofeed.store import get_meta, outbox, put_meta


@dataclass(frozen=True)
class Follower:
    actor: str
    inbox: str
    shared_inbox: str | None
    follow_id: str
    since: float

    @property
    def target(self) -> str:
        """Where this follower's deliveries go: the shared inbox when it has one."""
        return self.shared_inbox or self.inbox


@dataclass(frozen=True)
class Delivery:
    id: int
    activity_id: str
    kind: str
    entry_id: str | None
    inbox: str
    host: str
    body: bytes
    created: float
    status: str
    attempts: int
    next_attempt: float | None
    last_status: int | None
    last_error: str | None
    settled_at: float | None
    first_attempt: float | None = None  # when it was first tried (migration 39)


@dataclass(frozen=True)
class RemoteKey:
    key_id: str
    owner: str
    pem: str
    fetched_at: float
    used_at: float | None = None  # last checked a signature (``touch_key``), about


# -- followers -------------------------------------------------------------------------


def add_follower(
    db: sqlite3.Connection,
    actor: str,
    inbox: str,
    shared_inbox: str | None,
    follow_id: str,
    now: float,
) -> bool:
    """Store (or refresh) a follower, with its server and the domain that counts as
    (``server_of``, ``hostkey.host_key``); True when it is new."""
    server = server_of(actor)
    cur = db.execute(
        "INSERT INTO ap_followers (actor, inbox, shared_inbox, follow_id, since, server, domain) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (actor) DO UPDATE SET inbox = excluded.inbox, "
        "shared_inbox = excluded.shared_inbox, follow_id = excluded.follow_id "
        "RETURNING since",
        (actor, inbox, shared_inbox, follow_id, now, server, hostkey.host_key(server)),
    )
    row = cur.fetchone()
    return bool(row and row[0] == now)


def server_of(actor: str) -> str:
    """The server an actor is on, as ``activitypub.max_servers_per_domain`` counts it: the
    host its id is fetched from (``hostkey.url_host``: lower case, Punycode, no port),
    with no trailing dot; "" for an id with none."""
    return (hostkey.url_host(actor) or "").rstrip(".")


def server_counted(db: sqlite3.Connection, server: str) -> bool:
    """Whether a follower on ``server`` is stored (it counts for its domain already).
    Call ``rekey`` first in the same transaction."""
    domain = hostkey.host_key(server)
    found = db.execute(
        "SELECT 1 FROM ap_followers WHERE domain = ? AND server = ? LIMIT 1", (domain, server)
    )
    return found.fetchone() is not None


def servers_in(db: sqlite3.Connection, domain: str, at_most: int) -> int:
    """How many servers of ``domain`` followers are on, counted up to ``at_most``: one
    seek of ``ap_followers_by_domain`` a server (the next name after the last), so a
    domain with one server of 20,000 followers is one read, not 20,000. Call ``rekey``
    first in the same transaction."""
    row = db.execute(
        "WITH RECURSIVE s(name) AS ("
        " SELECT MIN(server) FROM ap_followers WHERE domain = :d"
        " UNION ALL"
        " SELECT (SELECT MIN(server) FROM ap_followers WHERE domain = :d AND server > s.name)"
        " FROM s WHERE s.name IS NOT NULL LIMIT :n"
        ") SELECT COUNT(name) FROM s",
        {"d": domain, "n": max(at_most, 0)},
    ).fetchone()
    return int(row[0])


# the list and rules (``hostkey.version()``) the followers' domains were worked out by
DOMAINS = "activitypub.domains"


def rekey(db: sqlite3.Connection) -> int:
    """Every follower's ``server`` and ``domain`` worked out again from its actor, when the
    stored ones were not worked out by this version's list and rules: once after
    migration 36 (its rows from before have none) and once after an upgrade brings
    another list. The rows changed; 0 at once (a read of ``meta``) when nothing is to
    be done. Call it in a write transaction."""
    if get_meta(db, DOMAINS) == hostkey.version():
        return 0
    found = db.execute("SELECT actor, server, domain FROM ap_followers")
    moved = []
    for actor, server, domain in found:
        new = server_of(actor)
        key = hostkey.host_key(new)
        if (new, key) != (server, domain):
            moved.append((new, key, actor))
    db.executemany("UPDATE ap_followers SET server = ?, domain = ? WHERE actor = ?", moved)
    put_meta(db, (DOMAINS, hostkey.version()))
    return len(moved)


def remove_follower(db: sqlite3.Connection, actor: str) -> bool:
    return db.execute("DELETE FROM ap_followers WHERE actor = ?", (actor,)).rowcount > 0


def remove_target(db: sqlite3.Connection, inbox: str) -> int:
    """An inbox answered 410 Gone: every follower delivered through it goes, with the
    deliveries still pending for it."""
    n = db.execute(
        "DELETE FROM ap_followers WHERE COALESCE(shared_inbox, inbox) = ? OR inbox = ?",
        (inbox, inbox),
    ).rowcount
    db.execute(
        "UPDATE ap_deliveries SET status = 'failed', next_attempt = NULL, "
        "last_error = 'inbox gone (HTTP 410)' WHERE inbox = ? AND status = 'pending'",
        (inbox,),
    )
    return n


def followers(db: sqlite3.Connection, limit: int | None = None, offset: int = 0) -> list[Follower]:
    sql = (
        "SELECT actor, inbox, shared_inbox, follow_id, since FROM ap_followers "
        "ORDER BY since, actor"
    )
    params: tuple[int, ...] = ()
    if limit is not None:
        sql += " LIMIT ? OFFSET ?"
        params = (limit, offset)
    return [Follower(*r) for r in db.execute(sql, params)]


def follower(db: sqlite3.Connection, actor: str) -> Follower | None:
    row = db.execute(
        "SELECT actor, inbox, shared_inbox, follow_id, since FROM ap_followers WHERE actor = ?",
        (actor,),
    ).fetchone()
    return Follower(*row) if row else None


def follower_count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT COUNT(*) FROM ap_followers").fetchone()[0])


def targets(db: sqlite3.Connection) -> list[str]:
    """Every distinct inbox a public activity goes to: one per shared inbox."""
    rows = db.execute("SELECT DISTINCT COALESCE(shared_inbox, inbox) FROM ap_followers ORDER BY 1")
    return [r[0] for r in rows]


# -- handled activities and keys -------------------------------------------------------


def seen(db: sqlite3.Connection, activity_id: str, now: float) -> bool:
    """Mark an inbox activity handled; True when it already was (a duplicate)."""
    cur = db.execute(
        "INSERT INTO ap_seen (activity_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (activity_id, now),
    )
    return cur.rowcount == 0


def get_seen(db: sqlite3.Connection, activity_id: str) -> bool:
    row = db.execute("SELECT 1 FROM ap_seen WHERE activity_id = ?", (activity_id,)).fetchone()
    return row is not None


def forget_seen(db: sqlite3.Connection, before: float) -> int:
    return db.execute("DELETE FROM ap_seen WHERE at < ?", (before,)).rowcount


def get_key(db: sqlite3.Connection, key_id: str) -> RemoteKey | None:
    row = db.execute(
        "SELECT key_id, owner, pem, fetched_at, used_at FROM ap_keys WHERE key_id = ?",
        (key_id,),
    ).fetchone()
    return RemoteKey(*row) if row else None


def put_key(db: sqlite3.Connection, key: RemoteKey, keep: int | None = None) -> int:
    """Cache a key (used now: its ``fetched_at``); with ``keep``, the least recently used
    others go until at most ``keep`` are cached. Returns how many went."""
    db.execute(
        "INSERT INTO ap_keys (key_id, owner, pem, fetched_at, used_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (key_id) DO UPDATE SET owner = excluded.owner, pem = excluded.pem, "
        "fetched_at = excluded.fetched_at, used_at = excluded.used_at",
        (key.key_id, key.owner, key.pem, key.fetched_at, key.fetched_at),
    )
    if keep is None:
        return 0
    over = key_count(db) - keep
    if over <= 0:
        return 0
    return db.execute(
        "DELETE FROM ap_keys WHERE key_id IN (SELECT key_id FROM ap_keys WHERE key_id != ? "
        "ORDER BY used_at, key_id LIMIT ?)",
        (key.key_id, over),
    ).rowcount


def touch_key(db: sqlite3.Connection, key_id: str, now: float) -> None:
    """The key checked a signature now: the last it would be evicted."""
    db.execute("UPDATE ap_keys SET used_at = ? WHERE key_id = ?", (now, key_id))


def key_count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT COUNT(*) FROM ap_keys").fetchone()[0])


# -- the outbox ------------------------------------------------------------------------


def enqueue(
    db: sqlite3.Connection,
    activity_id: str,
    kind: str,
    entry_id: str | None,
    inbox: str,
    host: str,
    body: bytes,
    now: float,
) -> bool:
    """Queue one delivery; False when this activity is already queued for this inbox."""
    cur = db.execute(
        "INSERT INTO ap_deliveries (activity_id, kind, entry_id, inbox, host, body, created, "
        "status, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?) "
        "ON CONFLICT (activity_id, inbox) DO NOTHING",
        (activity_id, kind, entry_id, inbox, host, body, now, now),
    )
    return cur.rowcount > 0


def pending_reject_hosts(db: sqlite3.Connection) -> list[str]:
    """The host of each Reject waiting to go out (``ap_deliveries_rejects``: at most
    ``outbox.REJECTS_PENDING`` of them)."""
    rows = db.execute(
        "SELECT host FROM ap_deliveries INDEXED BY ap_deliveries_rejects "
        "WHERE status = 'pending' AND kind = 'Reject'"
    )
    return [host for (host,) in rows]


def pending_answers(
    db: sqlite3.Connection, host: str, inbox: str, kind: str = "Accept"
) -> list[str]:
    """The ids of the Follows whose Accept (or, ``kind``, Reject) waits to go to
    ``inbox`` (the host's pending Accepts, ``ap_deliveries_accepts``: a handful at most,
    ``outbox.PENDING_ANSWERS`` an inbox; a host sent a Reject follows nothing here, so
    its pending ones are few too)."""
    # the kind written out: the partial index serves only a query that says kind = 'Accept'
    index = {"Accept": "INDEXED BY ap_deliveries_accepts", "Reject": ""}[kind]
    rows = db.execute(
        f"SELECT body FROM ap_deliveries {index} "
        f"WHERE host = ? AND status = 'pending' AND kind = '{kind}' AND inbox = ?",
        (host, inbox),
    )
    ids = []
    for (body,) in rows:
        try:
            doc = json.loads(body)
        except ValueError:
            continue
        obj = doc.get("object") if isinstance(doc, dict) else None
        if isinstance(obj, dict):
            ids.append(str(obj.get("id")))
    return ids


# the rule (``outbox.LEASE_KEYS``) the pending deliveries' hosts were worked out by
LEASES = "activitypub.leases"


def leases_keyed(db: sqlite3.Connection, version: str) -> bool:
    """Whether the pending deliveries' hosts were worked out by rule ``version`` (``rehost``
    has run since it came): a read of ``meta``."""
    return get_meta(db, LEASES) == version


def rehost(db: sqlite3.Connection, host_of: Callable[[str], str], version: str) -> int:
    """Every pending delivery's ``host`` (its lease's key) worked out again from its
    inbox by ``host_of``, once per rule ``version``: an older version's key (the inbox's
    ``netloc`` in lower case) made ``user@host:443`` and ``host`` two leases for one
    server, whose deliveries then went out side by side and out of order. The rows
    changed; 0 at once when nothing is to be done. Call it in a write transaction."""
    if leases_keyed(db, version):
        return 0
    found = db.execute("SELECT id, inbox, host FROM ap_deliveries WHERE status = 'pending'")
    moved = [(new, id_) for id_, inbox, host in found if (new := host_of(inbox)) != host]
    db.executemany("UPDATE ap_deliveries SET host = ? WHERE id = ?", moved)
    put_meta(db, (LEASES, version))
    return len(moved)


def claim(db: sqlite3.Connection, host: str, owner: str, until: float, now: float) -> bool:
    """Take (or renew) the host's lease; False while another sender holds it."""
    db.execute("INSERT INTO ap_hosts (host) VALUES (?) ON CONFLICT DO NOTHING", (host,))
    return outbox.claim(db, outbox.AP_HOSTS, host, owner, until, now)


def release(db: sqlite3.Connection, host: str, owner: str) -> None:
    outbox.release(db, outbox.AP_HOSTS, host, owner)


def due_hosts(db: sqlite3.Connection, now: float) -> list[str]:
    """Hosts whose next delivery (``head``: the oldest pending Accept, else the oldest
    pending one; nothing else may overtake it) is due. By the head's own time: a host
    whose later deliveries were due behind a head waiting for its retry was handed to a
    worker that sent nothing, and said so at INFO, at every tick for hours."""
    rows = db.execute(
        "SELECT p.host FROM (SELECT DISTINCT host FROM ap_deliveries "
        "WHERE status = 'pending') p LEFT JOIN ap_hosts h ON h.host = p.host "
        "JOIN ap_deliveries d ON d.id = COALESCE("
        "(SELECT id FROM ap_deliveries INDEXED BY ap_deliveries_accepts WHERE host = p.host "
        "AND status = 'pending' AND kind = 'Accept' ORDER BY id LIMIT 1), "
        "(SELECT id FROM ap_deliveries WHERE host = p.host AND status = 'pending' "
        "ORDER BY id LIMIT 1)) "
        "WHERE (h.lease_until IS NULL OR h.lease_until <= ?) AND d.next_attempt <= ? "
        "ORDER BY d.id",
        (now, now),
    )
    return [r[0] for r in rows]


def head(db: sqlite3.Connection, host: str) -> Delivery | None:
    """The host's next delivery: its oldest pending Accept, else its oldest pending one.
    A new follower's Accept answers its Follow and orders nothing the host was sent, so
    it does not wait behind a Create that waits for its retry (hours, the follow shown
    as "requested" meanwhile); the activities of entries keep their order."""
    row = (
        db.execute(
            # the partial index (migration 29): the planner preferred ap_deliveries_due, which
            # reads every pending delivery of a host with a backlog to find no Accept
            "SELECT * FROM ap_deliveries INDEXED BY ap_deliveries_accepts "
            "WHERE host = ? AND status = 'pending' AND kind = 'Accept' ORDER BY id LIMIT 1",
            (host,),
        ).fetchone()
        or db.execute(
            "SELECT * FROM ap_deliveries WHERE host = ? AND status = 'pending' ORDER BY id LIMIT 1",
            (host,),
        ).fetchone()
    )
    return Delivery(**{k: row[k] for k in row.keys()}) if row else None


def settle(
    db: sqlite3.Connection,
    d: Delivery,
    status: str,
    next_attempt: float | None,
    last_status: int | None,
    error: str | None,
    now: float,
) -> bool:
    """Record one attempt's outcome, only if nobody changed the delivery meanwhile, and
    the first attempt's time."""
    if not outbox.settle(
        db, "ap_deliveries", d.id, d.attempts, status, next_attempt, last_status, error, now
    ):
        return False
    if d.first_attempt is None:
        db.execute("UPDATE ap_deliveries SET first_attempt = ? WHERE id = ?", (now, d.id))
    return True


def listing(db: sqlite3.Connection, status: str | None = None, limit: int = 200) -> list[Delivery]:
    sql, params = "SELECT * FROM ap_deliveries", ()  # type: tuple[str, tuple[object, ...]]
    if status:
        sql, params = sql + " WHERE status = ?", (status,)
    rows = db.execute(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
    return [Delivery(**{k: r[k] for k in r.keys()}) for r in rows]


def counts(db: sqlite3.Connection) -> dict[str, int]:
    return outbox.counts(db, "ap_deliveries")


# -- what the outbox collection shows --------------------------------------------------


def first_seen(db: sqlite3.Connection, entry_id: str) -> float | None:
    """When the entry was first stored (epoch seconds); None: no such entry."""
    row = db.execute("SELECT first_seen FROM entries WHERE id = ?", (entry_id,)).fetchone()
    return None if row is None else float(row[0])


def entry_page(db: sqlite3.Connection, limit: int, offset: int) -> list[Entry]:
    """Entries newest first, one page of the outbox."""
    rows = db.execute(
        "SELECT * FROM entries WHERE withdrawn_at IS NULL "
        "ORDER BY published_ts DESC, id DESC LIMIT ? OFFSET ?",
        (limit, offset),
    )
    return [entry_rows.from_row(r) for r in rows]
