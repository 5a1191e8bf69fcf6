"""Taking a subscription request in: validate it, apply the per-host limit, and queue
its verification of intent (the hub answers ``202 Accepted`` and verifies later).

``receive`` is what the HTTP layer calls with the request body; a refused request
raises ``HubRequestError`` carrying the 4xx status and the plain-text reason.
"""

from __future__ import annotations

import logging

from scofeed.config import Config
from scofeed.errors import HubRequestError
from scofeed.publish import published_sets
from scofeed.store import Store
from scofeed.store import websub as rows
from scofeed.websub import hub

log = logging.getLogger(__name__)


def receive(cfg: Config, store: Store, body: bytes, content_type: str, now: float) -> rows.Intent:
    """Validate and queue one request; returns the intent queued for verification."""
    hub.check_content_type(content_type)
    if len(body) > cfg.websub.max_body:
        raise HubRequestError(f"the body is larger than {cfg.websub.max_body} bytes\n", 413)
    known = hub.topics(cfg, published_sets(cfg, store))
    intent = hub.parse(body, cfg, hub.new_challenge(), known)
    with store.transaction() as db:
        if intent.mode == rows.SUBSCRIBE:
            load = rows.host_load(db, intent.host, intent.topic, intent.callback)
            if load >= cfg.websub.max_per_host:
                log.warning(
                    "websub_refused reason=per_host_limit host=%s limit=%d",
                    intent.host, cfg.websub.max_per_host,
                )  # fmt: skip
                raise HubRequestError(
                    f"too many subscriptions for {intent.host} "
                    f"(at most {cfg.websub.max_per_host})\n",
                    403,
                )
        rows.put_intent(db, intent, now)
    log.info(
        "websub_request mode=%s topic=%s host=%s lease=%d secret=%s",
        intent.mode, intent.topic, intent.host, intent.lease_seconds,
        "yes" if intent.secret else "no",
    )  # fmt: skip
    return intent


def drop(store: Store, subscription_id: int, reason: str, now: float) -> rows.Subscription | None:
    """Remove a subscription (``scofeed websub remove``) and queue a ``hub.mode=denied``
    to tell its subscriber; None when there is no such subscription."""
    with store.transaction() as db:
        sub = rows.remove(db, subscription_id)
        if sub is not None:
            denial = rows.Intent(rows.DENIED, sub.topic, sub.callback, sub.host, None, 0,
                                 hub.new_challenge(), reason,
                                 topic_given=sub.topic_given)  # fmt: skip
            rows.put_intent(db, denial, now)
    if sub is not None:
        log.info("websub_removed subscription=%d topic=%s host=%s", sub.id, sub.topic, sub.host)
    return sub
