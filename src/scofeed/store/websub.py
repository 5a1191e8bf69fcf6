"""WebSub hub state: subscriptions, intents awaiting verification, the feed bodies last
distributed, and the distribution queue (one pending row per subscription, due-ness in
``next_attempt``, so a restart loses nothing).

Secrets are stored here because the hub must sign with them; the dataclasses below
never show them in their ``repr``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from scofeed import hostkey
from scofeed.store import get_meta, put_meta

SUBSCRIBE, UNSUBSCRIBE, DENIED = "subscribe", "unsubscribe", "denied"


@dataclass(frozen=True)
class Subscription:
    id: int
    topic: str
    callback: str
    host: str
    secret: str | None = field(repr=False)
    lease_seconds: int
    created: float
    renewed: float
    expires: float
    last_delivery: float | None = None
    last_status: int | None = None
    last_error: str | None = None
    pending: bool = False  # a distribution waits for it
    # hub.topic as the subscriber gave it, when not ``topic`` (our URL for it)
    topic_given: str | None = None

    @property
    def topic_as_given(self) -> str:
        return self.topic_given or self.topic


@dataclass(frozen=True)
class Intent:
    """A request to verify with the subscriber (or a denial to tell it)."""

    mode: str
    topic: str
    callback: str
    host: str
    secret: str | None = field(repr=False)
    lease_seconds: int
    challenge: str = field(repr=False)
    reason: str | None = None
    id: int = 0
    # the subscriber's hub.verify_token (PubSubHubbub 0.3), echoed in the verification
    verify_token: str | None = field(default=None, repr=False)
    # hub.topic as the subscriber gave it, when not ``topic``: the topic's own URL, which
    # it names once normalised (``hub.same_topic``); echoed back as given (WebSub 5.3)
    topic_given: str | None = None

    @property
    def topic_as_given(self) -> str:
        return self.topic_given or self.topic


@dataclass(frozen=True)
class Content:
    id: int
    topic: str
    sha256: str
    content_type: str
    body: bytes = field(repr=False)


@dataclass(frozen=True)
class Distribution:
    subscription_id: int
    content_id: int
    attempts: int  # made so far
    topic: str
    callback: str
    secret: str | None = field(repr=False)
    first_attempt: float | None = None  # when this body was first tried (migration 39)


# -- subscribing -------------------------------------------------------------------------


def put_intent(db: sqlite3.Connection, intent: Intent, now: float) -> None:
    """Queue a verification; a newer request for the same (topic, callback) replaces one
    still waiting (its challenge with it)."""
    db.execute(
        "INSERT INTO websub_intents (mode, topic, callback, host, domain, secret, "
        "lease_seconds, reason, challenge, created, next_attempt, verify_token, topic_given) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (topic, callback) DO UPDATE SET mode = excluded.mode, "
        "host = excluded.host, domain = excluded.domain, secret = excluded.secret, "
        "lease_seconds = excluded.lease_seconds, reason = excluded.reason, "
        "challenge = excluded.challenge, created = excluded.created, "
        "next_attempt = excluded.next_attempt, verify_token = excluded.verify_token, "
        "topic_given = excluded.topic_given",
        (intent.mode, intent.topic, intent.callback, intent.host, hostkey.host_key(intent.host),
         intent.secret, intent.lease_seconds, intent.reason, intent.challenge, now, now,
         intent.verify_token, intent.topic_given),
    )  # fmt: skip


def due_intents(db: sqlite3.Connection, now: float, limit: int = 500) -> list[Intent]:
    rows = db.execute(
        "SELECT * FROM websub_intents WHERE next_attempt <= ? ORDER BY id LIMIT ?", (now, limit)
    ).fetchall()
    return [_intent(r) for r in rows]


def current_intent(db: sqlite3.Connection, intent: Intent) -> Intent | None:
    """``intent`` as the store holds it now: a newer request for its topic and callback
    replaces its mode, challenge, secret and lease in the same row; None when it is
    settled (verified, refused) and gone (its id given to another since)."""
    r = db.execute(
        "SELECT * FROM websub_intents WHERE id = ? AND topic = ? AND callback = ?",
        (intent.id, intent.topic, intent.callback),
    ).fetchone()
    return _intent(r) if r is not None else None


def _intent(r: sqlite3.Row) -> Intent:
    return Intent(r["mode"], r["topic"], r["callback"], r["host"], r["secret"],
                  r["lease_seconds"], r["challenge"], r["reason"], r["id"], r["verify_token"],
                  r["topic_given"])  # fmt: skip


def finish_intent(db: sqlite3.Connection, intent: Intent) -> bool:
    """Drop a verified (or failed) intent; False when a newer request replaced it meanwhile,
    whose own verification then decides."""
    cur = db.execute(
        "DELETE FROM websub_intents WHERE id = ? AND challenge = ?", (intent.id, intent.challenge)
    )
    return cur.rowcount == 1


# the highest subscription id ever given (meta): a new subscription gets a higher one,
# never the id of one removed (``websub list`` then ``websub remove N`` would remove
# another); SQLite gives the highest id in the table plus one, which a removal frees
LAST_ID = "websub.last_id"
_NEXT_ID = (
    "MAX(COALESCE((SELECT MAX(id) FROM websub_subscriptions), 0), "
    f"COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '{LAST_ID}'), 0)) + 1"
)


def activate(db: sqlite3.Connection, intent: Intent, now: float) -> None:
    """A verified subscribe: create the subscription, or renew it (lease, secret)."""
    db.execute(
        "INSERT INTO websub_subscriptions (id, topic, callback, host, domain, secret, "
        "lease_seconds, created, renewed, expires, topic_given) "
        f"VALUES ({_NEXT_ID}, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (topic, callback) DO UPDATE SET secret = excluded.secret, "
        "host = excluded.host, domain = excluded.domain, "
        "lease_seconds = excluded.lease_seconds, "
        "renewed = excluded.renewed, expires = excluded.expires, "
        "topic_given = excluded.topic_given",
        (intent.topic, intent.callback, intent.host, hostkey.host_key(intent.host),
         intent.secret, intent.lease_seconds, now, now, now + intent.lease_seconds,
         intent.topic_given),
    )  # fmt: skip
    db.execute(
        "INSERT INTO meta (key, value) SELECT ?, MAX(id) FROM websub_subscriptions WHERE true "
        "ON CONFLICT (key) DO UPDATE SET value = "
        "MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
        (LAST_ID,),
    )


def unsubscribe(db: sqlite3.Connection, topic: str, callback: str) -> bool:
    cur = db.execute(
        "DELETE FROM websub_subscriptions WHERE topic = ? AND callback = ?", (topic, callback)
    )
    return cur.rowcount > 0


def host_load(db: sqlite3.Connection, domain: str, topic: str, callback: str) -> int:
    """Subscriptions and waiting subscribe requests whose callback's host counts as
    ``domain`` (``hostkey.host_key``: ``evil.example`` for ``a.evil.example`` and
    ``b.evil.example``), other than this (topic, callback): what the per-host limit
    counts. Call it in a write transaction: stored rows are keyed first if need be
    (``rekey``)."""
    rekey(db)
    subs = db.execute(
        "SELECT COUNT(*) FROM websub_subscriptions WHERE domain = ? "
        "AND NOT (topic = ? AND callback = ?)",
        (domain, topic, callback),
    )
    waiting = db.execute(
        "SELECT COUNT(*) FROM websub_intents WHERE domain = ? AND mode = 'subscribe' "
        "AND NOT (topic = ? AND callback = ?)",
        (domain, topic, callback),
    )
    return int(subs.fetchone()[0]) + int(waiting.fetchone()[0])


# the list and rules (``hostkey.version()``) the stored domains were worked out by
DOMAINS = "websub.domains"


def rekey(db: sqlite3.Connection) -> int:
    """Every row's ``domain`` worked out again from its host, when the stored ones were
    not worked out by this version's list and rules: once after migration 35 (its rows
    from before have none) and once after an upgrade brings another list (a name that
    became a public suffix makes its subdomains each their own). The rows whose domain
    changed; 0 at once when nothing is to be done (a read of ``meta``)."""
    if get_meta(db, DOMAINS) == hostkey.version():
        return 0
    changed = 0
    for table in ("websub_subscriptions", "websub_intents"):
        found = db.execute(f"SELECT id, host, domain FROM {table}")
        moved = [(key, i) for i, host, domain in found if (key := hostkey.host_key(host)) != domain]
        db.executemany(f"UPDATE {table} SET domain = ? WHERE id = ?", moved)
        changed += len(moved)
    put_meta(db, (DOMAINS, hostkey.version()))
    return changed


def total_load(db: sqlite3.Connection, topic: str, callback: str) -> int:
    """Subscriptions and waiting subscribe requests of every host, other than this
    (topic, callback): what ``websub.max_subscriptions`` counts."""
    q = "SELECT COUNT(*) FROM {t} WHERE NOT (topic = ? AND callback = ?){extra}"
    subs = db.execute(q.format(t="websub_subscriptions", extra=""), (topic, callback))
    waiting = db.execute(
        q.format(t="websub_intents", extra=" AND mode = 'subscribe'"), (topic, callback)
    )
    return int(subs.fetchone()[0]) + int(waiting.fetchone()[0])


def subscribed(db: sqlite3.Connection, topic: str, callback: str) -> bool:
    """Whether (topic, callback) is a subscription now: its request is a renewal."""
    row = db.execute(
        "SELECT 1 FROM websub_subscriptions WHERE topic = ? AND callback = ?", (topic, callback)
    ).fetchone()
    return row is not None


# -- subscriptions -----------------------------------------------------------------------

_SUB = (
    "SELECT s.*, d.subscription_id IS NOT NULL AS pending FROM websub_subscriptions s "
    "LEFT JOIN websub_distributions d ON d.subscription_id = s.id"
)


def _subscription(r: sqlite3.Row) -> Subscription:
    return Subscription(
        r["id"], r["topic"], r["callback"], r["host"], r["secret"], r["lease_seconds"],
        r["created"], r["renewed"], r["expires"], r["last_delivery"], r["last_status"],
        r["last_error"], bool(r["pending"]), r["topic_given"],
    )  # fmt: skip


def subscriptions(db: sqlite3.Connection) -> list[Subscription]:
    rows = db.execute(_SUB + " ORDER BY s.topic, s.callback").fetchall()
    return [_subscription(r) for r in rows]


def remove(db: sqlite3.Connection, subscription_id: int) -> Subscription | None:
    row = db.execute(_SUB + " WHERE s.id = ?", (subscription_id,)).fetchone()
    if row is None:
        return None
    db.execute("DELETE FROM websub_subscriptions WHERE id = ?", (subscription_id,))
    return _subscription(row)


def stale(db: sqlite3.Connection, now: float, topics: list[str]) -> bool:
    """Whether any subscription has expired or is to a topic not in ``topics`` (a read,
    so the hub's frequent tick takes no write lock when nothing is to be done)."""
    marks = ",".join("?" * len(topics))
    row = db.execute(
        f"SELECT 1 FROM websub_subscriptions WHERE expires <= ? OR topic NOT IN ({marks}) LIMIT 1",
        (now, *topics),
    ).fetchone()
    return row is not None


def expire(db: sqlite3.Connection, now: float) -> list[Subscription]:
    """Remove every subscription whose lease has run out; returns them."""
    rows = db.execute(_SUB + " WHERE s.expires <= ?", (now,)).fetchall()
    db.execute("DELETE FROM websub_subscriptions WHERE expires <= ?", (now,))
    return [_subscription(r) for r in rows]


# -- contents and distributions ----------------------------------------------------------


def last_hash(db: sqlite3.Connection, topic: str) -> str | None:
    row = db.execute(
        "SELECT sha256 FROM websub_contents WHERE topic = ? ORDER BY id DESC LIMIT 1", (topic,)
    ).fetchone()
    return row[0] if row else None


def add_content(
    db: sqlite3.Connection, topic: str, sha256: str, content_type: str, body: bytes, now: float
) -> int:
    """Record a topic's new body and queue it for every subscriber of the topic (replacing
    an older body still waiting); returns how many were queued."""
    cur = db.execute(
        "INSERT INTO websub_contents (topic, sha256, content_type, body, created) "
        "VALUES (?, ?, ?, ?, ?)",
        (topic, sha256, content_type, body, now),
    )
    content_id = cur.lastrowid
    queued = db.execute(
        "INSERT INTO websub_distributions (subscription_id, content_id, next_attempt) "
        "SELECT id, ?, ? FROM websub_subscriptions WHERE topic = ? AND expires > ? "
        "ON CONFLICT (subscription_id) DO UPDATE SET content_id = excluded.content_id, "
        "attempts = 0, first_attempt = NULL, next_attempt = excluded.next_attempt",
        (content_id, now, topic, now),
    ).rowcount
    # bodies no longer waiting anywhere, other than each topic's latest, go
    db.execute(
        "DELETE FROM websub_contents WHERE id NOT IN (SELECT content_id FROM "
        "websub_distributions) AND id NOT IN (SELECT MAX(id) FROM websub_contents "
        "GROUP BY topic)"
    )
    return queued


def content(db: sqlite3.Connection, content_id: int) -> Content | None:
    r = db.execute("SELECT * FROM websub_contents WHERE id = ?", (content_id,)).fetchone()
    if r is None:
        return None
    return Content(r["id"], r["topic"], r["sha256"], r["content_type"], bytes(r["body"]))


def due_distributions(db: sqlite3.Connection, now: float, limit: int = 1000) -> list[Distribution]:
    rows = db.execute(
        "SELECT d.subscription_id, d.content_id, d.attempts, s.topic, s.callback, s.secret, "
        "d.first_attempt "
        "FROM websub_distributions d JOIN websub_subscriptions s ON s.id = d.subscription_id "
        "WHERE d.next_attempt <= ? ORDER BY d.next_attempt LIMIT ?",
        (now, limit),
    ).fetchall()
    return [Distribution(*tuple(r)) for r in rows]


def current(db: sqlite3.Connection, d: Distribution) -> Distribution | None:
    """``d`` as the store holds it now: its subscription's latest body, callback and
    secret; None when nothing is due for that subscription any more (unsubscribed,
    expired, removed; or delivered)."""
    row = db.execute(
        "SELECT d.subscription_id, d.content_id, d.attempts, s.topic, s.callback, s.secret, "
        "d.first_attempt "
        "FROM websub_distributions d JOIN websub_subscriptions s ON s.id = d.subscription_id "
        "WHERE d.subscription_id = ?",
        (d.subscription_id,),
    ).fetchone()
    return Distribution(*tuple(row)) if row else None


def settle(
    db: sqlite3.Connection,
    d: Distribution,
    now: float,
    status: int | None,
    error: str | None,
    next_attempt: float | None,
) -> bool:
    """One attempt's outcome: ``next_attempt`` None settles it (delivered when ``error``
    is None, else given up), else it waits for that time. False when a newer body
    replaced this one meanwhile (that one stays due, untouched)."""
    if next_attempt is None:
        cur = db.execute(
            "DELETE FROM websub_distributions WHERE subscription_id = ? AND content_id = ?",
            (d.subscription_id, d.content_id),
        )
    else:
        cur = db.execute(
            "UPDATE websub_distributions SET attempts = attempts + 1, next_attempt = ?, "
            "last_status = ?, last_error = ?, first_attempt = COALESCE(first_attempt, ?) "
            "WHERE subscription_id = ? AND content_id = ?",
            (next_attempt, status, error, now, d.subscription_id, d.content_id),
        )
    delivered = ", last_delivery = ?" if error is None else ""
    args: tuple[object, ...] = (status, error, now) if error is None else (status, error)
    db.execute(
        f"UPDATE websub_subscriptions SET last_status = ?, last_error = ?{delivered} WHERE id = ?",
        (*args, d.subscription_id),
    )
    return cur.rowcount == 1


# -- pings to external hubs ---------------------------------------------------------------


@dataclass(frozen=True)
class Ping:
    hub: str
    topic: str
    queued: float
    attempts: int  # made so far


def queue_pings(db: sqlite3.Connection, hubs: Sequence[str], topic: str, now: float) -> None:
    """A change of ``topic`` to tell each of ``hubs``: due now, its attempts counted
    afresh (one still waiting for an earlier change is the same ping)."""
    db.executemany(
        "INSERT INTO websub_pings (hub, topic, queued, next_attempt) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (hub, topic) DO UPDATE SET queued = excluded.queued, attempts = 0, "
        "next_attempt = excluded.next_attempt",
        [(h, topic, now, now) for h in hubs],
    )


def due_pings(db: sqlite3.Connection, now: float, limit: int = 500) -> list[Ping]:
    rows = db.execute(
        "SELECT hub, topic, queued, attempts FROM websub_pings WHERE next_attempt <= ? "
        "ORDER BY next_attempt LIMIT ?",
        (now, limit),
    ).fetchall()
    return [Ping(*tuple(r)) for r in rows]


def current_ping(db: sqlite3.Connection, p: Ping, now: float) -> Ping | None:
    """``p`` as the store holds it now, while it is due at ``now``: queued again for a
    newer change (its attempts counted afresh), or None when it is settled (another
    process's build pinged the hub) or waits for a later retry."""
    r = db.execute(
        "SELECT hub, topic, queued, attempts FROM websub_pings "
        "WHERE hub = ? AND topic = ? AND next_attempt <= ?",
        (p.hub, p.topic, now),
    ).fetchone()
    return Ping(*tuple(r)) if r is not None else None


def settle_ping(
    db: sqlite3.Connection,
    p: Ping,
    status: int | None,
    error: str | None,
    next_attempt: float | None,
) -> None:
    """One ping's outcome: ``next_attempt`` None settles it (accepted, or given up), else
    it waits for that time. A ping queued again meanwhile (a newer change) is left due."""
    if next_attempt is None:
        db.execute(
            "DELETE FROM websub_pings WHERE hub = ? AND topic = ? AND queued = ?",
            (p.hub, p.topic, p.queued),
        )
    else:
        db.execute(
            "UPDATE websub_pings SET attempts = attempts + 1, next_attempt = ?, "
            "last_status = ?, last_error = ? WHERE hub = ? AND topic = ? AND queued = ?",
            (next_attempt, status, error, p.hub, p.topic, p.queued),
        )


def counts(db: sqlite3.Connection) -> dict[str, int]:
    """Figures for /healthz and ``scofeed status``."""

    def one(sql: str) -> int:
        return int(db.execute(sql).fetchone()[0])

    return {
        "subscriptions": one("SELECT COUNT(*) FROM websub_subscriptions"),
        "topics": one("SELECT COUNT(DISTINCT topic) FROM websub_subscriptions"),
        "verifying": one("SELECT COUNT(*) FROM websub_intents"),
        "pending": one("SELECT COUNT(*) FROM websub_distributions"),
        "retrying": one("SELECT COUNT(*) FROM websub_distributions WHERE attempts > 0"),
    }
