"""ActivityPub as one service: ``Service.open(cfg, store)`` ties key pair, remote, inbox,
deliverer and routes together for the daemon and serve; ``counts`` feeds /healthz."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from scofeed.activitypub.delivery import Deliverer
from scofeed.activitypub.documents import Urls
from scofeed.activitypub.inbox import Inbox
from scofeed.activitypub.keys import KeyPair, load_or_create
from scofeed.activitypub.outbox import planner, queue_delete
from scofeed.activitypub.remote import Remote
from scofeed.activitypub.routes import Routes
from scofeed.config import Config
from scofeed.store import Store
from scofeed.store import activitypub as rows

__all__ = ["Service", "counts", "enabled", "planner", "queue_delete"]


def enabled(cfg: Config) -> bool:
    return cfg.activitypub.enabled


def counts(store: Store) -> dict[str, object]:
    """Followers and deliveries by status (for /healthz and ``scofeed status``)."""
    return {"followers": rows.follower_count(store.db), "deliveries": rows.counts(store.db)}


@dataclass
class Service:
    keypair: KeyPair
    remote: Remote
    inbox: Inbox
    deliverer: Deliverer
    routes: Routes

    @classmethod
    def open(
        cls,
        cfg: Config,
        store: Store,
        clock: Callable[[], float] = time.time,
        on_queued: Callable[[], None] | None = None,
    ) -> Service:
        ap = cfg.activitypub
        keypair = load_or_create(ap.key_path(cfg.paths.state))
        remote = Remote(
            store, keypair, Urls.of(cfg).key_id, ap.allow_private, ap.timeout, clock, ap.max_keys
        )
        inbox = Inbox(cfg, store, remote, clock, on_queued)
        deliverer = Deliverer(cfg, store, keypair, clock)
        return cls(keypair, remote, inbox, deliverer, Routes(cfg, store, keypair, inbox))

    def close(self, wait: bool = True) -> None:
        self.deliverer.shutdown(wait)
        self.remote.close()
