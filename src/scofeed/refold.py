"""Refolding: stored entries get the folded fingerprint their copies are matched by.

Two copies of one release that differ only in Unicode form (full-width letters,
composed or decomposed ones, compatibility characters) or in "ё" written "е" are one
entry: ingest matches a release by its folded fingerprint too
(``normalise.folded_fingerprint``), stored beside the fingerprint where the two differ
(migration 34). An entry stored before has none: the first transaction that finds the
store unfolded (``meta`` row ``folded``), a build's or an ingest's (as for ``relink``),
works it out from what is stored, title and first paragraph (the summary, else the
content's first paragraph), each checked against the stored fingerprint, which they must
make (a summary cut short makes another): one that cannot be told gets its own when a
release with its fingerprint is read again (``entries.note_folded``). Nothing else
changes: no id, revision or date, nothing is delivered, no feed is written again.

Re-keying, likewise once per store (``meta`` row ``url_keys``): the URL keys of stored
entries made again where ``normalise.ids.url_key`` now leaves out a tracking parameter
it kept before (``ysclid``, ``gbraid``...: the trackers an entry is shown without),
so that a copy of the release without it is the same entry, not a second one.
"""

from __future__ import annotations

import logging
import re
import sqlite3

from scofeed.normalise import fingerprint, folded_fingerprint, url_key
from scofeed.normalise.text import plain
from scofeed.patterns import later
from scofeed.store import get_meta, put_meta

log = logging.getLogger(__name__)

FOLD_META = "folded"
FOLD_VERSION = "1"  # of ``normalise.text.fold_key``: another one refolds every entry
KEY_META = "url_keys"
KEY_VERSION = "2"  # of ``normalise.ids.url_key``'s trackers: another one re-keys
_FIRST_P = later(r"<p(?:\s[^>]*)?>(.*?)</p>", re.DOTALL)


def refold(db: sqlite3.Connection) -> int:
    """In the caller's transaction: the stored entries' folded fingerprints worked out,
    once per store; how many entries have one."""
    if get_meta(db, FOLD_META) == FOLD_VERSION:
        return 0
    found = []
    rows = db.execute("SELECT id, title, summary, content_html, fingerprint FROM entries")
    for entry_id, title, summary, content_html, fp in rows:
        if title.isascii() and summary.isascii() and content_html.isascii():
            continue  # nothing to fold (every English release)
        first = _first_paragraph(title, summary, content_html, fp)
        if first is not None and (folded := folded_fingerprint(title, first)) != fp:
            found.append((folded, entry_id))
    db.executemany("UPDATE entries SET folded = ? WHERE id = ?", found)
    if found:
        log.info("refolded entries=%d (copies differing in Unicode form or ё/е match)", len(found))
    put_meta(db, (FOLD_META, FOLD_VERSION))
    return len(found)


def _first_paragraph(title: str, summary: str, content_html: str, fp: str) -> str | None:
    """The first paragraph the entry's fingerprint was made from, when what is stored
    tells it: its summary (the first paragraph, unless cut), the text of its content's
    first paragraph, or none (a release that is only its title)."""
    m = _FIRST_P().search(content_html)
    for candidate in (summary, plain(m.group(1)) if m else None, ""):
        if candidate is not None and fingerprint(title, candidate) == fp:
            return candidate
    return None


def rekey(db: sqlite3.Connection) -> int:
    """In the caller's transaction: the stored entries' URL keys made again by this
    version's rules, once per store; how many changed. Only a key with a query can."""
    if get_meta(db, KEY_META) == KEY_VERSION:
        return 0
    found = []
    rows = db.execute("SELECT id, url_key FROM entries WHERE instr(url_key, '?') > 0")
    for entry_id, key in rows:
        if (new := url_key(key)) != key:  # a key is its own address: the same key again
            found.append((new, entry_id))
    db.executemany("UPDATE entries SET url_key = ? WHERE id = ?", found)
    if found:
        log.info(
            "rekeyed entries=%d (addresses differing by a tracking parameter match)", len(found)
        )
    put_meta(db, (KEY_META, KEY_VERSION))
    return len(found)
