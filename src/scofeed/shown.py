"""Releases the published feeds showed before this store was made: not pushed again.

A new state store beside a feeds folder that holds feeds it did not publish (a store
lost, or its disk not mounted: ``ingest.new_store_beside_feeds``) notes the ids of every
entry those feeds and their archive pages show (``note``). The outboxes' Planner
(``scofeed.outboxes``) then queues no ``release.published`` for an entry of one of those
ids: its webhooks and followers had it, and would have had each release a second time.
A correction of it is sent as any is. Ids are minted from what a release states (its
id, its address, else its title and first paragraph) and the site's authority, so the
same release read by the new store has the id the feeds show.

lxml loads by name at the first read: the outboxes load this module for every build and
poll, and only a store found new beside old feeds reads them (issue #9, start-up).
"""

from __future__ import annotations

import importlib
import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from scofeed.store import get_meta, put_meta

log = logging.getLogger(__name__)

META = "shown_before"  # the ids, a JSON list, in the ``meta`` table
ATOM = "{http://www.w3.org/2005/Atom}"


def note(db: sqlite3.Connection, feeds: Path) -> int:
    """In the caller's transaction: the ids the feeds in ``feeds`` show, kept; how many."""
    ids = sorted(set(_ids(feeds)))
    put_meta(db, (META, json.dumps(ids)))
    return len(ids)


def load(db: sqlite3.Connection) -> frozenset[str]:
    """The ids ``note`` kept (none on a store not made beside old feeds)."""
    raw = get_meta(db, META)
    return frozenset(json.loads(raw)) if raw else frozenset()


def _ids(feeds: Path) -> Iterator[str]:
    """The entry ids of every Atom and RSS document (feeds and archive pages) and JSON
    Feed under ``feeds``; a file that cannot be read is named and passed over."""
    etree = importlib.import_module("lxml.etree")
    for path in sorted(feeds.rglob("*")):
        try:
            if path.suffix == ".xml" and path.is_file():
                yield from _xml_ids(etree, path)
            elif path.suffix == ".json" and path.is_file():
                items = json.loads(path.read_bytes()).get("items", [])
                yield from (str(i["id"]) for i in items if isinstance(i, dict) and "id" in i)
        except (OSError, ValueError, AttributeError, etree.Error) as exc:
            log.warning("shown_before_unread path=%s reason=%s", path, exc)


def _xml_ids(etree: ModuleType, path: Path) -> Iterator[str]:
    """An Atom entry's ``id``, an RSS item's ``guid`` (``etree``: lxml's)."""
    for _, el in etree.iterparse(
        str(path), tag=(f"{ATOM}entry", "item"), resolve_entities=False, no_network=True
    ):
        found = el.find(f"{ATOM}id") if el.tag == f"{ATOM}entry" else el.find("guid")
        if found is not None and found.text:
            yield found.text.strip()
        el.clear()
