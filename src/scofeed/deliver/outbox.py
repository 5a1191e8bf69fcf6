"""Planning deliveries: which endpoints an entry revision goes to, written in the same
transaction as the revision itself (the outbox), so a crash can never lose one.

An endpoint gets every entry created or revised while it is in the config the
planner was made with: the planner runs only for entries being created or revised
now, so adding an endpoint never floods it with the back catalogue. Whether another
process stamped the endpoint's ``first_seen`` (``webhook_endpoints``) a moment after
this planner's clock does not matter (it once did: a daemon's first scan lost its
pushes when the deliver job registered the endpoints first). ``backfill`` queues older
entries on purpose (``scofeed redeliver --since``).
"""

from __future__ import annotations

import functools
import logging
import re
import sqlite3
import time
from datetime import datetime

from scofeed.config import WEBHOOK_EVENTS, Config, Webhook, tag_slug
from scofeed.deliver import payload
from scofeed.errors import StoreError, UnknownEntry
from scofeed.languages import language_tag
from scofeed.model import Entry, Planner
from scofeed.store import Store
from scofeed.store import deliveries as rows
from scofeed.store import entries as entry_rows
from scofeed.store import published as published_rows

log = logging.getLogger(__name__)

# events about an entry's presence: they go to every endpoint that was sent the entry,
# whatever its events and filters say now, and to those subscribed to them
RETRACTIONS = ("release.withdrawn", "release.restored")
# a correction goes to every endpoint that was sent the entry and subscribes to it,
# whatever its filters say of the new revision: one sent an entry tagged "economy" must
# hear that a correction dropped the tag, or it keeps the stale text
CORRECTIONS = ("release.updated",)


def matches(hook: Webhook, entry: Entry, event: str) -> bool:
    """Whether the endpoint takes this event of the entry by its ``events`` and filters.
    Tags match as the tags' feeds do, by ``tag_slug`` ("Security" is "security"); a
    language by its code ("en", "en-GB" and "en-US" are one)."""
    if event not in hook.events:
        return False
    if hook.tags and not {tag_slug(t) for t in hook.tags} & {tag_slug(t) for t in entry.tags}:
        return False
    if hook.languages and not _in_languages(entry.language, hook.languages):
        return False
    if hook.title_pattern and not re.search(hook.title_pattern, entry.title, re.IGNORECASE):
        return False
    return True


def _in_languages(language: str, wanted: tuple[str, ...]) -> bool:
    """By the tags' codes: a webhook's 'pt' takes an entry in 'pt-BR', and its 'pt-BR'
    one in 'pt' or 'pt-PT' (an entry's tag keeps its script and region); a code as
    written or in the form entries carry (``languages.language_tag``): 'iw' takes an
    entry in 'he' (one stating 'iw' carries 'he', and matched nothing), 'zh-cmn' one in
    'zh' or 'cmn'."""
    have = _codes(language)
    return any(have & _codes(w) for w in wanted)


@functools.lru_cache(maxsize=256)  # bounded: entries' tags come from any source
def _codes(tag: str) -> frozenset[str]:
    """A tag's language code as written and as entries carry it."""
    written = tag.partition("-")[0].lower()
    return frozenset({written, (language_tag(tag) or written).partition("-")[0].lower()})


def register(cfg: Config, db: sqlite3.Connection, now: float) -> None:
    """Remember when each configured endpoint was first seen, and its format and events
    as configured now (for while it is out of the config: ``planner``)."""
    for hook in cfg.webhooks:
        _ensure(db, cfg, hook, now)


def _ensure(db: sqlite3.Connection, cfg: Config, hook: Webhook, now: float) -> None:
    rows.ensure_endpoint(db, hook.name, now)
    _note_kind(db, cfg, hook)


def _note_kind(db: sqlite3.Connection, cfg: Config, hook: Webhook) -> None:
    """Keep the endpoint's format and events; when they changed, its pending deliveries
    made in another format are made again in its own (``reformat``)."""
    if not rows.note_kind(db, hook.name, hook.format, hook.events):
        return
    pending = rows.pending_of(db, hook.name)
    made = sum(reformat(cfg, db, d, hook.format) for d in pending)
    if made:
        log.info(
            "webhook_format_changed endpoint=%s format=%s pending_made_again=%d",
            hook.name, hook.format, made,
        )  # fmt: skip


def _configured(cfg: Config, name: str) -> Webhook | None:
    """The webhook of that name in the config, or None."""
    return next((h for h in cfg.webhooks if h.name == name), None)


def reformat_for_endpoint(cfg: Config, db: sqlite3.Connection, d: rows.Delivery) -> bool:
    """``reformat`` in the format ``d``'s endpoint is configured with (a delivery sent
    again: ``scofeed redeliver``); False when it is not configured."""
    hook = _configured(cfg, d.endpoint)
    return hook is not None and reformat(cfg, db, d, hook.format)


def reformat(cfg: Config, db: sqlite3.Connection, d: rows.Delivery, fmt: str) -> bool:
    """Make ``d``'s body again in ``fmt`` when it was made in another (its endpoint's
    format changed since it was queued: a Slack endpoint first set up as ``standard``
    refused every body, and its fixed config sent the same bodies again), dated when it
    was queued; whether it was. Made from what a standard body says of its entry
    (``payload.carried``: its revision's text, what a correction changed), which holds
    even when the entry has moved on since (another revision, withdrawn or restored
    again); from a chat body's entry as stored, unless it has moved on: a chat body
    holds too little to make another from, and is then kept."""
    if not d.body or rows.format_of(d.body) in (None, fmt):
        return False
    try:
        entry = entry_rows.get(db, d.entry_id)
    except UnknownEntry:
        return False
    carried = payload.carried(d.body, entry)
    if carried is not None:
        entry = carried
    elif stale(db, d) is not None or (d.event not in RETRACTIONS and entry.revision != d.revision):
        return False
    rows.set_body(db, d.id, payload.build(fmt, d.event, entry, cfg, d.created))
    return True


def retry_corrected(old: Config, new: Config, store: Store) -> None:
    """After a reload, a webhook whose URL or secret changed: what it has pending is due
    now (``deliveries.retry_now``). Fixing a typo in the address left the delivery
    waiting for its retry, up to 10 hours later; the deliver job, run at once by the
    reload, sends it."""
    before = {h.name: (h.url, [s.value for s in h.secrets]) for h in old.webhooks}
    after = {h.name: (h.url, [s.value for s in h.secrets]) for h in new.webhooks}
    changed = [name for name, now in after.items() if before.get(name, now) != now]
    if not changed:
        return
    try:
        with store.transaction() as tx:
            for name in changed:
                moved = rows.retry_now(tx, name, time.time())
                log.info("webhook_changed endpoint=%s pending_due_now=%d", name, moved)
    except (StoreError, sqlite3.Error) as exc:  # the schedule goes on as it was
        log.error("webhook_changed_store_failed error=%s", exc)


def register_endpoints(cfg: Config, store: Store, now: float) -> None:
    """Stamp every configured endpoint's first_seen now, in one transaction: the daemon
    calls this before its scheduler starts (and before a reload's jobs), so every
    scan's clock is later than the endpoints it plans for."""
    if cfg.webhooks:
        with store.transaction() as db:
            register(cfg, db, now)


def _queue(
    db: sqlite3.Connection, cfg: Config, hook: Webhook, entry: Entry, event: str, at: float
) -> bool:
    return _queue_to(db, cfg, hook.name, hook.format, entry, event, at, hook.retry_schedule[0])


def _queue_to(
    db: sqlite3.Connection,
    cfg: Config,
    name: str,
    fmt: str,
    entry: Entry,
    event: str,
    at: float,
    first_delay: float = 0.0,
) -> bool:
    body = payload.build(fmt, event, entry, cfg, at)
    # a second withdrawal is a new event; a version is its content (rows.webhook_id)
    retraction = event in RETRACTIONS
    queued = rows.enqueue(
        db, name, entry.id, entry.revision, event, body, at, first_delay,
        nonce=repr(at) if retraction else "", content="" if retraction else entry.content_hash,
    )  # fmt: skip
    if queued:  # one a delivery, at DEBUG: an import of 5,000 releases to 7 endpoints
        # wrote 35,000 lines at INFO (the scan's line counts them: deliveries=N)
        log.debug(
            "delivery_queued endpoint=%s entry=%s revision=%d event=%s bytes=%d",
            name, entry.id, entry.revision, event, len(body),
        )  # fmt: skip
    return queued


def _queue_for_return(
    db: sqlite3.Connection, cfg: Config, name: str, entry: Entry, event: str, at: float
) -> int:
    """A retraction or correction of an entry an endpoint now out of the config was
    sent: queued in its format as last configured (``rows.kind_of``), pending until an
    endpoint of that name is configured again (it missed them, and kept the release or
    its old text). A correction only if it took them (its events not known: as the
    default, it did)."""
    kind = rows.kind_of(db, name)
    if kind is None:
        return 0
    fmt, events = kind
    if event not in RETRACTIONS and event not in (events or WEBHOOK_EVENTS):
        return 0
    return int(_queue_to(db, cfg, name, fmt, entry, event, at))


def planner(cfg: Config, now: datetime) -> Planner:
    """The Planner ingest calls inside each entry's transaction (build and poll pass it)."""
    at = now.timestamp()
    configured = {hook.name for hook in cfg.webhooks}
    noted: set[str] = set()  # the endpoints whose format and events this planner kept

    def plan(db: sqlite3.Connection, entry: Entry, event: str) -> int:
        n = 0
        followed = event in RETRACTIONS or event in CORRECTIONS
        got = rows.endpoints_of(db, entry.id) if followed else set()
        for hook in cfg.webhooks:
            had = hook.name in got and (event in RETRACTIONS or event in hook.events)
            if not had and not matches(hook, entry, event):
                continue
            # the hook is in this planner's config, so it was there when the entry was
            # made: queue it even if first_seen was stamped after ``at`` by another job
            rows.ensure_endpoint(db, hook.name, at)
            if hook.name not in noted:  # once a planner, not a write more an entry
                _note_kind(db, cfg, hook)
                noted.add(hook.name)
            n += _queue(db, cfg, hook, entry, event, at)
        for name in sorted(got - configured):
            n += _queue_for_return(db, cfg, name, entry, event, at)
        return n

    return plan


def backfill(
    cfg: Config, store: Store, since: datetime, now: datetime, endpoint: str | None = None
) -> int:
    """Queue the current revision of every entry updated since ``since`` (the back
    catalogue, on purpose); deliveries that already exist are left as they are. A
    revision after the first is a ``release.updated`` only to an endpoint that has (or
    is sent) an earlier one; to any other it is news: a ``release.published`` with the
    entry as it stands (a new endpoint was sent "Corrected: ..." of releases it never
    had, and one taking only ``release.published`` got none of them)."""
    hooks = [h for h in cfg.webhooks if endpoint in (None, h.name)]
    at, cutoff, n = now.timestamp(), since.timestamp(), 0
    with store.transaction() as db:
        register(cfg, db, at)
        sent = {hook.name: rows.first_revisions_sent(db, hook.name) for hook in hooks}
        picked = [e for e in published_rows.latest(db) if e.updated.timestamp() >= cutoff]
        for entry in sorted(picked, key=lambda e: (e.updated, e.id)):  # oldest first
            for hook in hooks:
                had = sent[hook.name].get(entry.id, entry.revision) < entry.revision
                event = "release.updated" if had else "release.published"
                if matches(hook, entry, event):
                    n += _queue(db, cfg, hook, entry, event, at)
    return n


def refill(cfg: Config, db: sqlite3.Connection, d: rows.Delivery, at: float) -> str | None:
    """Give a delivery whose body was dropped (``store.outbox.prune``) the body it would
    be sent with now, made from its entry as stored, so that ``scofeed redeliver ID``
    can send it again (same webhook-id). Possible while the entry is published at the
    revision the delivery was for, and its endpoint configured; else says why not."""
    hook = _configured(cfg, d.endpoint)
    if hook is None:
        return f"its endpoint {d.endpoint} is no longer in the config"
    if d.event in RETRACTIONS:
        return f"a {d.event} event is not made again"
    why = stale(db, d)
    if why is not None:
        return why
    entry = entry_rows.get(db, d.entry_id)
    if entry.revision != d.revision:  # its text then is not stored any more
        return f"its entry is at revision {entry.revision} now"
    rows.set_body(db, d.id, payload.build(hook.format, d.event, entry, cfg, at))
    return None


def stale(db: sqlite3.Connection, d: rows.Delivery) -> str | None:
    """Why sending a delivery again now (``scofeed redeliver``) would tell its endpoint
    what its entry no longer says, or None: the text of a release withdrawn since, or
    of an older revision than one the endpoint has or is sent (a delivery of a later
    revision delivered or pending: an endpoint that takes only release.published gets
    none, and its old revision is what it asked for); a withdrawal of an entry restored
    since; a restore of one withdrawn again."""
    try:
        entry = entry_rows.get(db, d.entry_id)
    except UnknownEntry:
        return "its entry is no longer in the store"
    if d.event == "release.withdrawn":
        return None if entry.withdrawal is not None else "its entry was restored since"
    if entry.withdrawal is not None:
        return "its entry is withdrawn now"
    if entry.revision != d.revision and rows.later_revision_sent(db, d):
        return f"its entry is at revision {entry.revision} now, which the endpoint has or is sent"
    return None
