"""The Planner ingest is given: what queues an entry revision's outbound messages.

The webhooks' outbox (``deliver.outbox``) when webhooks are configured, then
ActivityPub's (``activitypub.outbox``) when it is enabled; nothing when neither is. A
release the feeds showed before the store was made (``scofeed.shown``) is not
published to them again. Each
is loaded by name when it is configured and not before: a build with neither (the
default config) does not import the outboxes, their payload and document builders and
their tables' modules (issue 9, start-up). The build, the pollers, the page recheck and
withdrawals all take their Planner from here.
"""

from __future__ import annotations

import importlib
import sqlite3
from datetime import datetime

from scofeed import shown
from scofeed.config import Config
from scofeed.model import Entry, Planner


def planner(cfg: Config, now: datetime) -> Planner | None:
    """The configured outboxes' Planners as one, in that order (None: none configured)."""
    planners: list[Planner] = []
    if cfg.webhooks:
        planners.append(importlib.import_module("scofeed.deliver.outbox").planner(cfg, now))
    if cfg.activitypub.enabled:
        planners.append(importlib.import_module("scofeed.activitypub.outbox").planner(cfg, now))
    if not planners:
        return None
    before: frozenset[str] | None = None  # read at the first release published

    def plan_all(db: sqlite3.Connection, entry: Entry, event: str) -> int:
        nonlocal before
        if event == "release.published":
            before = shown.load(db) if before is None else before
            if entry.id in before:
                return 0  # its subscribers had it (a store lost beside its feeds)
        return sum(plan(db, entry, event) for plan in planners)

    return plan_all
