"""The webhook outbox: endpoints, deliveries and their attempts.

A delivery is due when its status is ``pending`` and ``next_attempt`` has passed. One
process at a time sends to an endpoint: it holds the endpoint's lease
(``lease_until``), renewed before every request, so a crashed sender's work is picked
up again once its lease runs out.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from scofeed.digest import sha256
from scofeed.store import outbox
from scofeed.store.outbox import DELIVERED as DELIVERED
from scofeed.store.outbox import FAILED as FAILED
from scofeed.store.outbox import PENDING as PENDING


@dataclass(frozen=True)
class Delivery:
    id: int
    webhook_id: str
    endpoint: str
    entry_id: str
    revision: int
    event: str
    body: bytes
    created: float
    status: str
    attempts: int
    next_attempt: float | None
    last_status: int | None
    last_error: str | None
    settled_at: float | None


@dataclass(frozen=True)
class Attempt:
    delivery_id: int
    number: int
    at: float
    status: int | None
    outcome: str
    error: str | None
    response: str | None
    duration: float


@dataclass(frozen=True)
class Endpoint:
    name: str
    first_seen: float
    disabled_at: float | None
    disabled_reason: str | None


def webhook_id(endpoint: str, entry_id: str, revision: int, event: str, nonce: str = "") -> str:
    """Stable per (entry revision, endpoint): every attempt and every restart reuse it.
    ``nonce`` tells apart events that may recur for one revision: the time a withdrawal
    or a restore was decided (a withdrawal, a restore, then a second withdrawal), and a
    version's content hash (a store gone back, a backup restored or a -wal file lost,
    counts a revision again: a correction made then sent other content under the id a
    receiver had seen, and was dropped as a repeat)."""
    material = f"{endpoint}\n{entry_id}\n{revision}\n{event}".encode()
    if nonce:
        material += f"\n{nonce}".encode()
    return "msg_" + sha256(material).hexdigest()[:32]


def _delivery(row: sqlite3.Row) -> Delivery:
    return Delivery(**{k: row[k] for k in row.keys()})


# -- endpoints -------------------------------------------------------------------------


def ensure_endpoint(db: sqlite3.Connection, name: str, now: float) -> Endpoint:
    db.execute(
        "INSERT INTO webhook_endpoints (name, first_seen) VALUES (?, ?) "
        "ON CONFLICT (name) DO NOTHING",
        (name, now),
    )
    return endpoint(db, name)


def note_kind(db: sqlite3.Connection, name: str, fmt: str, events: tuple[str, ...]) -> bool:
    """Keep an endpoint's format and events as configured now (``kind_of``); whether
    either changed (or was not kept before)."""
    kept = json.dumps(list(events))
    cur = db.execute(
        "UPDATE webhook_endpoints SET format = ?, events = ? "
        "WHERE name = ? AND (format IS NOT ? OR events IS NOT ?)",
        (fmt, kept, name, fmt, kept),
    )
    return cur.rowcount > 0


def pending_of(db: sqlite3.Connection, name: str) -> list[Delivery]:
    """An endpoint's pending deliveries, oldest first."""
    rows = db.execute(
        "SELECT * FROM deliveries WHERE endpoint = ? AND status = 'pending' ORDER BY id", (name,)
    )
    return [_delivery(r) for r in rows]


def kind_of(db: sqlite3.Connection, name: str) -> tuple[str, tuple[str, ...] | None] | None:
    """An endpoint's format and events as last configured. Not configured since scofeed
    kept them (an upgrade's store), its format is the one the last body it was sent
    shows, its events not known (None); None when neither can be told."""
    row = db.execute(
        "SELECT format, events FROM webhook_endpoints WHERE name = ?", (name,)
    ).fetchone()
    if row is not None and row[0] is not None and row[1] is not None:
        return str(row[0]), tuple(json.loads(row[1]))
    last = db.execute(
        "SELECT body FROM deliveries WHERE endpoint = ? AND length(body) > 0 "
        "ORDER BY id DESC LIMIT 1",
        (name,),
    ).fetchone()
    fmt = format_of(bytes(last[0])) if last else None
    return None if fmt is None else (fmt, None)


def format_of(body: bytes) -> str | None:
    """The format a delivery's body was made in, by its keys (``deliver.payload``)."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    if "embeds" in doc:
        return "discord"
    if "blocks" in doc:
        return "slack"
    return "standard" if "type" in doc and "data" in doc else None


def forget(db: sqlite3.Connection, name: str) -> tuple[int, int]:
    """Drop an endpoint and every delivery it had, its attempts too: (deliveries, of
    them pending). A name configured again later is a new endpoint."""
    ids = "SELECT id FROM deliveries WHERE endpoint = ?"
    total, pending = db.execute(
        "SELECT COUNT(*), COALESCE(SUM(status = 'pending'), 0) FROM deliveries WHERE endpoint = ?",
        (name,),
    ).fetchone()
    db.execute(f"DELETE FROM delivery_attempts WHERE delivery_id IN ({ids})", (name,))
    db.execute("DELETE FROM deliveries WHERE endpoint = ?", (name,))
    db.execute("DELETE FROM webhook_endpoints WHERE name = ?", (name,))
    return int(total), int(pending)


def known(db: sqlite3.Connection, name: str) -> bool:
    """Whether the store knows an endpoint of that name (its row, or a delivery)."""
    return (
        db.execute("SELECT 1 FROM webhook_endpoints WHERE name = ?", (name,)).fetchone()
        or db.execute("SELECT 1 FROM deliveries WHERE endpoint = ? LIMIT 1", (name,)).fetchone()
    ) is not None


def endpoint(db: sqlite3.Connection, name: str) -> Endpoint:
    row = db.execute(
        "SELECT name, first_seen, disabled_at, disabled_reason FROM webhook_endpoints "
        "WHERE name = ?",
        (name,),
    ).fetchone()
    if row is None:
        return Endpoint(name, 0.0, None, None)
    return Endpoint(*row)


def disable(db: sqlite3.Connection, name: str, now: float, reason: str) -> None:
    db.execute(
        "UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = ? WHERE name = ?",
        (now, reason, name),
    )


def enable(db: sqlite3.Connection, name: str) -> bool:
    cur = db.execute(
        "UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL "
        "WHERE name = ? AND disabled_at IS NOT NULL",
        (name,),
    )
    return cur.rowcount > 0


def claim(db: sqlite3.Connection, name: str, owner: str, until: float, now: float) -> bool:
    """Take (or renew) the endpoint's lease; False while another sender holds it or the
    endpoint is disabled."""
    return outbox.claim(db, outbox.WEBHOOK_ENDPOINTS, name, owner, until, now)


def release(db: sqlite3.Connection, name: str, owner: str) -> None:
    outbox.release(db, outbox.WEBHOOK_ENDPOINTS, name, owner)


def due_endpoints(db: sqlite3.Connection, now: float) -> list[str]:
    """Endpoints whose oldest pending delivery is due (in order, nothing can pass it).
    The head's own time decides: a later delivery queued behind a head that waits for
    its retry is due by its own time, but cannot be sent before the head, so such an
    endpoint is not due (a tick would hand it to a worker that sends nothing)."""
    rows = db.execute(
        "SELECT w.name FROM webhook_endpoints w "
        "JOIN deliveries d ON d.id = (SELECT id FROM deliveries "
        "WHERE endpoint = w.name AND status = 'pending' ORDER BY id LIMIT 1) "
        "WHERE w.disabled_at IS NULL AND (w.lease_until IS NULL OR w.lease_until <= ?) "
        "AND d.next_attempt <= ? ORDER BY d.id",
        (now, now),
    )
    return [r[0] for r in rows]


# -- deliveries ------------------------------------------------------------------------


def enqueue(
    db: sqlite3.Connection,
    endpoint: str,
    entry_id: str,
    revision: int,
    event: str,
    body: bytes,
    now: float,
    first_delay: float = 0.0,
    nonce: str = "",
    content: str = "",
) -> bool:
    """Queue one delivery; False when this (entry revision, endpoint, event) already is.
    ``content``: a version's content hash, which its webhook-id names (see
    ``webhook_id``), given for a version's news or correction (not a withdrawal or a
    restore): a version already queued for the endpoint, as either, is not queued again,
    whatever its content then (its tags changed since without a new revision, a delivery
    queued by an older scofeed). ``redeliver --since`` sent a revision an endpoint had as
    a correction again as news, under another webhook-id."""
    if (
        content
        and db.execute(
            "SELECT 1 FROM deliveries WHERE entry_id = ? AND endpoint = ? AND revision = ? "
            "AND event NOT IN ('release.withdrawn', 'release.restored') LIMIT 1",
            (entry_id, endpoint, revision),
        ).fetchone()
    ):
        return False
    cur = db.execute(
        "INSERT INTO deliveries (webhook_id, endpoint, entry_id, revision, event, body, created, "
        f"status, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', {_NOT_HELD}) "
        "ON CONFLICT (webhook_id) DO NOTHING",
        (
            webhook_id(endpoint, entry_id, revision, event, nonce or content),
            endpoint,
            entry_id,
            revision,
            event,
            body,
            now,
            now + first_delay,
            endpoint,
        ),
    )
    return cur.rowcount > 0


def endpoints_of(db: sqlite3.Connection, entry_id: str) -> set[str]:
    """The endpoints that were sent (or are still to be sent) something of an entry."""
    rows = db.execute("SELECT DISTINCT endpoint FROM deliveries WHERE entry_id = ?", (entry_id,))
    return {r[0] for r in rows}


def head(db: sqlite3.Connection, endpoint: str) -> Delivery | None:
    """The endpoint's oldest pending delivery: the only one that may be sent next."""
    row = db.execute(
        "SELECT * FROM deliveries WHERE endpoint = ? AND status = 'pending' ORDER BY id LIMIT 1",
        (endpoint,),
    ).fetchone()
    return _delivery(row) if row else None


def hold(db: sqlite3.Connection, endpoint: str, until: float) -> None:
    """The endpoint's next delivery waits until ``until`` at least (its rate-limit
    bucket is empty); its attempts and schedule are untouched. Kept on the endpoint
    too: a delivery queued (or queued again) before then waits as well."""
    db.execute(
        "UPDATE webhook_endpoints SET hold_until = MAX(COALESCE(hold_until, 0), ?) WHERE name = ?",
        (until, endpoint),
    )
    db.execute(
        "UPDATE deliveries SET next_attempt = ? WHERE id = (SELECT id FROM deliveries "
        "WHERE endpoint = ? AND status = 'pending' ORDER BY id LIMIT 1) AND next_attempt < ?",
        (until, endpoint, until),
    )


def retry_now(db: sqlite3.Connection, endpoint: str, now: float) -> int:
    """The endpoint's pending deliveries due ``now``, its rate-limit hold dropped: its
    address or secret was just corrected (a reload), and the retry it waited for (up to
    10 h) was the old one's. Their schedule's span still counts from the first attempt.
    How many moved."""
    db.execute("UPDATE webhook_endpoints SET hold_until = NULL WHERE name = ?", (endpoint,))
    return db.execute(
        "UPDATE deliveries SET next_attempt = ? "
        "WHERE endpoint = ? AND status = 'pending' AND next_attempt > ?",
        (now, endpoint, now),
    ).rowcount


# the first attempt of a delivery to an endpoint (``?`` its name) due at ``?`` at the
# earliest: not before the endpoint's rate-limit bucket resets (``hold``)
_NOT_HELD = "MAX(?, COALESCE((SELECT hold_until FROM webhook_endpoints WHERE name = ?), 0))"


def get(db: sqlite3.Connection, delivery_id: int) -> Delivery | None:
    row = db.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
    return _delivery(row) if row else None


def settle(
    db: sqlite3.Connection,
    d: Delivery,
    attempt: Attempt,
    status: str,
    next_attempt: float | None,
) -> bool:
    """Record one attempt and the delivery's new state, together. Only while the
    delivery is still as ``d`` saw it (pending, same attempt count): False, and nothing
    written, when another sender or a redeliver changed it meanwhile, so a stale
    attempt can never turn a delivered one back into pending."""
    fields = (status, next_attempt, attempt.status, attempt.error, attempt.at)
    if not outbox.settle(db, "deliveries", d.id, d.attempts, *fields):
        return False
    number = db.execute(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM delivery_attempts WHERE delivery_id = ?",
        (d.id,),
    ).fetchone()[0]
    db.execute(
        "INSERT INTO delivery_attempts (delivery_id, number, at, status, outcome, error, "
        "response, duration) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            d.id,
            number,
            attempt.at,
            attempt.status,
            attempt.outcome,
            attempt.error,
            attempt.response,
            attempt.duration,
        ),
    )
    return True


def first_attempt_at(db: sqlite3.Connection, d: Delivery) -> float | None:
    """When ``d``'s first attempt since it was (re)queued was made; None before any.
    Its attempts are the last ``d.attempts`` rows of its history (a redeliver starts the
    count again, not the numbers)."""
    if d.attempts < 1:
        return None
    row = db.execute(
        "SELECT at FROM delivery_attempts WHERE delivery_id = ? "
        "ORDER BY number DESC LIMIT 1 OFFSET ?",
        (d.id, d.attempts - 1),
    ).fetchone()
    return float(row[0]) if row else None


def listing(
    db: sqlite3.Connection, failed: bool = False, endpoint: str | None = None, limit: int = 200
) -> list[Delivery]:
    where, params = [], []
    if failed:
        where.append("status = 'failed'")
    if endpoint:
        where.append("endpoint = ?")
        params.append(endpoint)
    sql = "SELECT * FROM deliveries"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC LIMIT ?"
    return [_delivery(r) for r in db.execute(sql, (*params, limit))]


def attempts(db: sqlite3.Connection, delivery_id: int) -> list[Attempt]:
    rows = db.execute(
        "SELECT delivery_id, number, at, status, outcome, error, response, duration "
        "FROM delivery_attempts WHERE delivery_id = ? ORDER BY number",
        (delivery_id,),
    )
    return [Attempt(*r) for r in rows]


def set_body(db: sqlite3.Connection, delivery_id: int, body: bytes) -> None:
    """A delivery's body made again: a delivered one's dropped (``deliver.outbox.refill``),
    or one made in a format its endpoint no longer has (``deliver.outbox.reformat``)."""
    db.execute("UPDATE deliveries SET body = ? WHERE id = ?", (body, delivery_id))


def requeue(db: sqlite3.Connection, ids: list[int], now: float) -> int:
    """Send these deliveries again, from a fresh retry schedule, with the same webhook-id;
    one whose body was dropped (``outbox.prune``) cannot be, and is left as it is."""
    n = 0
    for i in ids:
        cur = db.execute(
            "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt = MAX(?, "
            "COALESCE((SELECT hold_until FROM webhook_endpoints h "
            "WHERE h.name = deliveries.endpoint), 0)), "
            "settled_at = NULL WHERE id = ? AND length(body) > 0",
            (now, i),
        )
        n += cur.rowcount
    return n


def first_revisions_sent(db: sqlite3.Connection, endpoint: str) -> dict[str, int]:
    """The earliest revision of each entry a delivery to ``endpoint`` has taken, or is
    taking (delivered or pending), by entry id."""
    rows = db.execute(
        "SELECT entry_id, MIN(revision) FROM deliveries WHERE endpoint = ? "
        "AND status IN ('delivered', 'pending') GROUP BY entry_id",
        (endpoint,),
    )
    return {r[0]: int(r[1]) for r in rows}


def later_revision_sent(db: sqlite3.Connection, d: Delivery) -> bool:
    """Whether a delivery of a later revision of ``d``'s entry to its endpoint has gone
    out or is on its way (delivered or pending)."""
    row = db.execute(
        "SELECT 1 FROM deliveries WHERE endpoint = ? AND entry_id = ? AND revision > ? "
        "AND status IN ('delivered', 'pending') LIMIT 1",
        (d.endpoint, d.entry_id, d.revision),
    ).fetchone()
    return row is not None


def failed_ids(db: sqlite3.Connection, endpoint: str | None = None) -> list[int]:
    sql = "SELECT id FROM deliveries WHERE status = 'failed'"
    params: tuple[str, ...] = ()
    if endpoint:
        sql += " AND endpoint = ?"
        params = (endpoint,)
    return [r[0] for r in db.execute(sql + " ORDER BY id", params)]


def counts(db: sqlite3.Connection) -> dict[str, int]:
    return outbox.counts(db, "deliveries")
