"""Re-linking: stored entries follow ``site.base_url`` and ``site.author`` when they change.

An entry without an address of its own (a file in ``sources/``, a feed item without a
link) links to its page here, ``<base_url>/entries/<slug>``, and every entry names
``site.author``. Both are written into the entry when its release is read, so a site
moved to its public address (``make run`` on the default, then ``base_url`` set) kept
linking every release it had read to the old one, in every feed and archive page, and
their relative links and images (resolved against that link when a feed is written)
with them. The values the stored entries carry are kept in the store (``meta`` row
``site_links``); the first transaction that finds them changed, a build's or an
ingest's (as for ``retag``), writes the new link and author into every entry. It is not
a new version of a release: revisions and dates stay, nothing is delivered, and the
feeds and pages the entries are in are written again.
"""

from __future__ import annotations

import json
import logging
import sqlite3

from scofeed.normalise import entry_page
from scofeed.store import put_meta

log = logging.getLogger(__name__)

SITE_META = "site_links"


def relink(db: sqlite3.Connection, base_url: str, author: str) -> int:
    """In the caller's transaction: the entries' own-page links and author made the
    site's, if they changed since the last build; how many entries changed."""
    now = json.dumps([base_url.rstrip("/"), author], ensure_ascii=False)
    row = db.execute("SELECT value FROM meta WHERE key = ?", (SITE_META,)).fetchone()
    if row is not None and row[0] == now:
        return 0
    # a store from before this row may hold either: only the entries that differ
    changed = []
    for entry_id, url, link, who in db.execute("SELECT id, url, link, author FROM entries"):
        own = link if url is not None else entry_page(base_url, entry_id)
        if (own, author) != (link, who):
            changed.append((own, author, entry_id))
    db.executemany("UPDATE entries SET link = ?, author = ? WHERE id = ?", changed)
    if changed:
        log.info("relinked entries=%d (site.base_url or site.author changed)", len(changed))
    put_meta(db, (SITE_META, now))
    return len(changed)
