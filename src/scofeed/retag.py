"""Re-tagging: the ``[tags]`` rules applied again to every stored entry when they change.

A tag is given when a release is read, so a rule added, changed or removed in
``config.toml`` would otherwise reach only releases read from then on: a new tag's feed
would start empty, a removed one's tag stay on old entries. The rules the store's
entries are tagged with are kept in it (``meta`` row ``tag_rules``); the first
transaction that finds them changed, a build's or an ingest's (a poll, ``scofeed add``,
a recheck: a page read again must not count as an edit for its new tags), re-tags every
entry (``normalise.retagged_tags``) before it stores anything. A re-tagged entry is not
a new version of the release: its revision and dates stay, nothing is delivered
(webhooks, WebSub, ActivityPub), and the feeds and pages it is in are written again
with its tags. A store that kept no rules yet (made before this) takes the current
ones as those its entries were tagged with.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from datetime import datetime

from scofeed.model import Entry
from scofeed.normalise import Rules, retagged_tags, with_tags
from scofeed.store import entries as entry_rows
from scofeed.store import published as published_rows
from scofeed.store import put_meta

log = logging.getLogger(__name__)

RULES_META = "tag_rules"


def retag(db: sqlite3.Connection, rules: Rules, now: datetime) -> int:
    """In the caller's transaction: re-tag every stored entry if the rules changed since
    the last build; how many entries' tags changed. A tag an entry loses is a departure
    from that tag's feeds at ``now`` (``entry_rows.lost_tags``): the feed's date went
    back to the newest entry left."""
    current = json.dumps(rules, ensure_ascii=False)
    row = db.execute("SELECT value FROM meta WHERE key = ?", (RULES_META,)).fetchone()
    if row is not None and row[0] == current:
        return 0
    changed = []
    if row is not None:
        old = tuple((tag, tuple(words)) for tag, words in json.loads(row[0]))
        moved = {}  # id -> its tags now
        for entry_id, title, content, tags, stated in entry_rows.tag_texts(db):
            again = retagged_tags(title, content, tags, old, rules, stated)
            # the same tags in another order are no change: a stated tag an old rule
            # gave too lost its place first, and ~6,300 entries of a 30,000 site whose
            # tags a new rule did not reach were written again, every archive page
            if set(again) != set(tags):
                moved[entry_id] = again
        stored = published_rows.by_ids(db, list(moved))  # in chunks, not one query each
        changed = [(stored[i], tags) for i, tags in moved.items()]
        _store(db, changed, now)
        log.info("retagged entries=%d (the [tags] rules changed)", len(changed))
    put_meta(db, (RULES_META, current))
    return len(changed)


def _store(
    db: sqlite3.Connection, changed: list[tuple[Entry, tuple[str, ...]]], now: datetime
) -> None:
    """Each entry given its new tags, the tags it loses departures at ``now``."""
    entry_rows.lost_tags(db, changed, now)
    entry_rows.set_tags(db, [with_tags(entry, tags) for entry, tags in changed])


def restate(
    db: sqlite3.Connection, entry_id: str, stated: tuple[str, ...], rules: Rules, now: datetime
) -> bool:
    """In the caller's transaction: the stored entry re-tagged by the tags its release
    states, just learnt (``entry_rows.note_stated_tags``), and the current rules: a stated
    tag a rule removed before took with it comes back, as a re-tag (no new version,
    nothing delivered). Whether its tags changed."""
    stored = published_rows.by_ids(db, [entry_id]).get(entry_id)
    if stored is None:
        return False
    again = retagged_tags(stored.title, stored.content_html, stored.tags, rules, rules, stated)
    if set(again) == set(stored.tags):
        return False
    _store(db, [(stored, again)], now)
    log.info("retagged entries=1 id=%s (its stated tags read again)", entry_id)
    return True
