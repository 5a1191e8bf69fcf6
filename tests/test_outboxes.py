"""scofeed.outboxes: the Planner a build uses by default queues each new release for
every configured push (webhooks, ActivityPub followers) and for none that is not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scofeed import outboxes
from scofeed.build import build
from scofeed.store import Store
from scofeed.store import activitypub as ap_rows
from scofeed.store import deliveries as hook_rows
from tests.conftest import Site, webhook_toml

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ACTIVITYPUB = "\n[activitypub]\nenabled = true\nallow_private = true\n"


def queued(cfg_site: Site, extra: str) -> tuple[int, int, bool]:
    """(webhook deliveries, ActivityPub deliveries, whether a planner was made) after a
    build of the seed with ``extra`` config and one follower."""
    cfg_site.write_config(extra)
    cfg = cfg_site.config()
    store = Store(cfg.paths.state)
    try:
        with store.transaction() as db:
            ap_rows.add_follower(db, "http://remote/users/1", "http://remote/inbox", None, "f1", 1)
        report = build(cfg, store, NOW)  # no planner given: the configured outboxes'
        assert report.new == 1
        return (
            len(hook_rows.listing(store.db)),
            len(ap_rows.listing(store.db)),
            outboxes.planner(cfg, NOW) is not None,
        )
    finally:
        store.close()


HOOK = webhook_toml("hook", "http://127.0.0.1:9/hook")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (HOOK + ACTIVITYPUB, (1, 1, True)),
        (HOOK, (1, 0, True)),
        (ACTIVITYPUB, (0, 1, True)),
        ("", (0, 0, False)),
    ],
    ids=["both", "webhooks", "activitypub", "neither"],
)
def test_each_configured_push_and_no_other_gets_the_new_release(site: Site, extra, expected):
    assert queued(site, extra) == expected
