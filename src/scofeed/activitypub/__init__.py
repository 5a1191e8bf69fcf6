"""ActivityPub: scofeed as a followable fediverse actor (``@releases@host``).

One module per job:

    documents   pure: WebFinger, NodeInfo, host-meta, the actor, Notes, activities
    httpsig     pure: HTTP signatures (draft-cavage with Digest; RFC 9421 accepted)
    keys        the RSA key pair file (0600), made once
    remote      signed, guarded GETs of other servers' actors and keys (cached)
    inbox       POSTs from other servers: verified, then Follow / Undo / Delete
    delivery    the outbox: Create / Update / Delete / Accept, per-host, with retries
    routes      the HTTP surface, for serve to mount

``Service.open(cfg, store)`` ties them together for the daemon and serve; ``enabled``
says whether the configuration turns it on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from scofeed.activitypub.delivery import Deliverer, planner, queue_delete
from scofeed.activitypub.documents import Urls
from scofeed.activitypub.inbox import Inbox
from scofeed.activitypub.keys import KeyPair, load_or_create
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
        remote = Remote(store, keypair, Urls.of(cfg).key_id, ap.allow_private, ap.timeout, clock)
        inbox = Inbox(cfg, store, remote, clock, on_queued)
        deliverer = Deliverer(cfg, store, keypair, clock)
        return cls(keypair, remote, inbox, deliverer, Routes(cfg, store, keypair, inbox))

    def close(self, wait: bool = True) -> None:
        self.deliverer.shutdown(wait)
        self.remote.close()
