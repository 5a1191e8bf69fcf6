"""Releases the published feeds showed before this store was made: not pushed again.

A new state store beside a feeds folder that holds feeds it did not publish (a store
lost, or its disk not mounted: ``new_store_beside_feeds``) notes the ids of every
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

from scofeed.config import FEED_FILES, Config
from scofeed.store import get_meta, put_meta

log = logging.getLogger(__name__)

META = "shown_before"  # the ids, a JSON list, in the ``meta`` table
ATOM = "{http://www.w3.org/2005/Atom}"


def new_store_beside_feeds(cfg: Config, db: sqlite3.Connection) -> None:
    """A warning when a store that holds no release and has published nothing meets
    feeds/ holding feeds it did not publish: a store lost, or its disk not mounted, more
    often than a site started over on purpose. Every release is new to it; those the
    feeds show are noted (``note``), so that they do not go to every webhook and
    follower again. The rest do, and WebSub subscribers and followers are the new
    store's (none)."""
    if db.execute("SELECT 1 FROM feed_files LIMIT 1").fetchone() is not None:
        return  # it has published
    if db.execute("SELECT 1 FROM entries LIMIT 1").fetchone() is not None:
        return  # it stored releases: its first build was stopped before it noted its files
    there = [name for name in FEED_FILES.values() if (cfg.paths.feeds / name).is_file()]
    if there:
        held = note(db, cfg.paths.feeds)
        log.warning(
            "store_new_beside_feeds state=%s feeds=%s shown=%d: the state store is new, "
            "but the feeds folder holds feeds published before (%s): the releases they "
            "show are not pushed again, any other is taken as new. If the store was "
            "lost, stop and restore it from a backup (docs/operations.md)",
            cfg.paths.state, cfg.paths.feeds, held, ", ".join(there),
        )  # fmt: skip


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
