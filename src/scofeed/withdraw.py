"""Withdrawing a release, and restoring it: ``scofeed withdraw`` / ``scofeed restore``.

A withdrawal takes the entry out of every feed and the index, leaves an RFC 6721
tombstone in the Atom feed for ``feeds.tombstone_days``, makes its entry page answer
``410 Gone``, and queues, in the same transaction, a ``release.withdrawn`` webhook to
each endpoint that was sent the entry (or subscribes to the event) and an ActivityPub
``Delete`` when ActivityPub is enabled. Then the feeds are published again, and the
WebSub hub distributes them like any other change (the daemon notices changed files).

A restore undoes it: the entry is back in the feeds, the tombstone gone, the page 200,
and ``release.restored`` goes to the same endpoints (no ActivityPub activity: see
``activitypub.outbox.EVENTS``).

Only this (and ``withdrawn: true`` in a release's metadata, see ``ingest``) withdraws
an entry. A deleted source file never does: a mistaken ``rm`` must not retract a
release from every subscriber; its entry keeps its last version.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from scofeed.config import Config
from scofeed.model import Entry, Planner, Withdrawal
from scofeed.normalise import clean_reason
from scofeed.outboxes import planner as outbox_planner
from scofeed.publish import publish_feeds
from scofeed.store import Store
from scofeed.store import entries as entry_rows
from scofeed.store import withdrawals as withdrawal_rows

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    entry: Entry  # as it is now (``withdrawal`` set while withdrawn)
    changed: bool  # False: it already was withdrawn (withdraw) or published (restore)
    queued: int = 0  # deliveries queued (webhooks and ActivityPub)
    written: list[str] = field(default_factory=list)  # feed files rewritten


def withdraw(
    cfg: Config,
    store: Store,
    key: str,
    reason: str,
    now: datetime,
    planner: Planner | None = None,
) -> Outcome:
    """Withdraw the entry ``key`` (its id, or the slug its page address ends with)."""
    plan = planner or outbox_planner(cfg, now)
    with store.transaction() as db:
        entry = entry_rows.get(db, key)  # UnknownEntry
        if entry.withdrawal is not None:
            return Outcome(entry, changed=False)
        w = Withdrawal(_after_last_shown(entry, now), clean_reason(reason), "cli")
        withdrawal_rows.withdraw(db, entry.id, w)
        entry = replace(entry, withdrawal=w)
        queued = plan(db, entry, "release.withdrawn") if plan else 0
    written = publish_feeds(cfg, store, now)
    log.info("withdrawn entry=%s reason=%r deliveries=%d", entry.id, w.reason, queued)
    return Outcome(entry, True, queued, written)


def _after_last_shown(entry: Entry, now: datetime) -> datetime:
    """A withdrawal's time, in whole seconds, and after the entry's last ``updated`` as
    the feeds show it (within the second after its own: ``render``'s offset): corrected,
    then withdrawn in the same second (a script's ``add --update``, then ``withdraw``),
    the tombstone's ``when`` came before that ``updated``, and a reader comparing the
    two kept the entry (RFC 6721 4). A restore is dated after its tombstone so too."""
    at = now.replace(microsecond=0)
    shown = entry.updated.replace(microsecond=0) + timedelta(seconds=1)
    return max(at, shown.astimezone(at.tzinfo))


def restore(
    cfg: Config, store: Store, key: str, now: datetime, planner: Planner | None = None
) -> Outcome:
    """Put a withdrawn entry back in the feeds."""
    plan = planner or outbox_planner(cfg, now)
    with store.transaction() as db:
        entry = entry_rows.get(db, key)
        if entry.withdrawal is None:
            return Outcome(entry, changed=False)
        # never announced (first): this publishes it
        entry, first = withdrawal_rows.restore(db, entry, now.replace(microsecond=0))
        event = "release.published" if first else "release.restored"
        queued = plan(db, entry, event) if plan else 0
    written = publish_feeds(cfg, store, now)
    log.info("restored entry=%s deliveries=%d", entry.id, queued)
    return Outcome(entry, True, queued, written)
