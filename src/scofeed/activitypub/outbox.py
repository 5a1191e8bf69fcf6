"""ActivityPub's side of ingest: queueing Create / Update / Delete activities into the
outbox (the store), one row per target inbox, and the Accept or Reject answering a
Follow. No network here: ``delivery`` sends what is queued. Its own module so that the
build and the pollers, which plan through ``scofeed.outboxes``, never import the HTTP
client (issue #9, start-up).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from scofeed.activitypub import documents
from scofeed.activitypub.documents import Urls
from scofeed.config import Config
from scofeed.hostkey import authority, request_key
from scofeed.model import Entry, Planner
from scofeed.store import activitypub as rows

log = logging.getLogger("scofeed.activitypub.delivery")  # the name its lines always had

# release.withdrawn: Delete{Tombstone} (queue_delete). release.restored sends nothing:
# fediverse servers keep a tombstone of a deleted post and refuse it back (Mastodon
# ignores a Create of an object id it saw deleted), so a restore is seen on the web and
# in the feeds only.
EVENTS = {"release.published": "Create", "release.updated": "Update", "release.withdrawn": "Delete"}


def _dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# the rule ``host_of`` keys a delivery's lease by: a store's pending deliveries keyed by
# another are keyed again once (``store.activitypub.rehost``) when this changes
LEASE_KEYS = "authority 1"


def host_of(inbox: str) -> str:
    """The server a delivery to ``inbox`` goes to, the key of its lease in the store: one
    server however its inboxes spell it (case, a trailing dot, a default port written
    out), so its deliveries go one at a time and in order (``hostkey.authority``)."""
    server = authority(inbox)
    return server if server is not None else urlsplit(inbox).netloc.lower()


def _fan_out(db: Any, doc: dict[str, Any], kind: str, entry_id: str | None, at: float) -> int:
    body = _dumps(doc)
    n = 0
    for inbox in rows.targets(db):
        n += rows.enqueue(db, doc["id"], kind, entry_id, inbox, host_of(inbox), body, at)
    if n:  # DEBUG, as a webhook's delivery_queued: the scan's line counts them (deliveries=N)
        log.debug("activitypub_queued kind=%s activity=%s inboxes=%d", kind, doc["id"], n)
    return n


def plan(cfg: Config, db: Any, entry: Entry, event: str, at: float) -> int:
    """Queue the entry's Create (new) or Update (corrected) to every target inbox."""
    kind = EVENTS.get(event)
    if kind is None:
        return 0
    if kind == "Delete":
        return queue_delete(cfg, db, entry, datetime.fromtimestamp(at, UTC))
    if entry.first_seen is None:  # a release just stored: its post is dated by the store
        entry = replace(entry, first_seen=rows.first_seen(db, entry.id) or at)
    if kind == "Create":
        doc = documents.create(cfg, entry)
    else:
        doc = documents.update(cfg, entry, datetime.fromtimestamp(at, UTC))
    return _fan_out(db, doc, kind, entry.id, at)


def planner(cfg: Config, now: datetime) -> Planner:
    at = now.timestamp()

    def plan_one(db: sqlite3.Connection, entry: Entry, event: str) -> int:
        return plan(cfg, db, entry, event, at)

    return plan_one


def queue_delete(cfg: Config, db: Any, entry: Entry, now: datetime) -> int:
    """A withdrawn entry: ``Delete{Tombstone}`` to every target inbox (call it in the
    transaction that withdraws the entry)."""
    doc = documents.delete(cfg, Urls.of(cfg).object(entry), now)
    return _fan_out(db, doc, "Delete", entry.id, now.timestamp())


def queue_accept(cfg: Config, db: Any, follow: dict[str, Any], inbox: str, at: float) -> bool:
    """An Accept of ``follow`` to ``inbox``, unless one is still waiting to go there: each
    acceptance is an Accept of its own (its id has the time), so a Follow sent again
    and again (an unreachable inbox retried, a server looping) queued one each; nor
    when ``PENDING_ANSWERS`` Accepts of other Follows wait to go there."""
    return _queue_answer(cfg, db, "Accept", follow, inbox, at)


# Rejects waiting to go out, at most: to the servers of one registrable domain, and in
# all. A Reject answers a Follow from a server past activitypub.max_servers_per_domain;
# with wildcard DNS anyone may send those from servers without end (``x1.evil.example``,
# ``x2.evil.example``, ...), and each was answered with a Reject kept for the days of its
# retries. Past these, such a Follow is refused all the same, with no Reject sent.
REJECTS_PER_DOMAIN = 20
REJECTS_PENDING = 1000


def queue_reject(cfg: Config, db: Any, follow: dict[str, Any], inbox: str, at: float) -> bool:
    """A Reject of ``follow`` to ``inbox`` (a Follow refused for good), unless one is still
    waiting to go there, as ``queue_accept``, or ``REJECTS_PER_DOMAIN`` wait to go to
    its domain, or ``REJECTS_PENDING`` in all."""
    waiting = rows.pending_reject_hosts(db)
    if len(waiting) >= REJECTS_PENDING:
        return False
    domain = domain_of(host_of(inbox))
    if sum(1 for host in waiting if domain_of(host) == domain) >= REJECTS_PER_DOMAIN:
        return False
    return _queue_answer(cfg, db, "Reject", follow, inbox, at)


def domain_of(host: str) -> str:
    """The registrable domain a delivery's host (``host_of``: its name and port) counts
    as, as the request goes (``hostkey.request_key``: ``a.evil.example\\@b.example`` goes
    to ``a.evil.example``)."""
    key = request_key("http://" + host)
    return key if key is not None else host


# answers of one kind waiting to go to one inbox, at most: a Follow with a new id each
# time (a server looping, or sending them on purpose to an inbox that never takes our
# answer) queued one each, every one kept for the days of its retries
PENDING_ANSWERS = 3


def _queue_answer(
    cfg: Config, db: Any, kind: str, follow: dict[str, Any], inbox: str, at: float
) -> bool:
    host = host_of(inbox)
    waiting = rows.pending_answers(db, host, inbox, kind)
    if str(follow.get("id", "")) in waiting or len(waiting) >= PENDING_ANSWERS:
        return False
    doc = documents.answer(kind, Urls.of(cfg), follow, at)
    return rows.enqueue(db, doc["id"], kind, None, inbox, host, _dumps(doc), at)
