"""Taking a subscription request in: validate it, apply the per-host and overall
limits, and queue its verification of intent (the hub answers ``202 Accepted`` and
verifies later).

``receive`` is what the HTTP layer calls with the request body; a refused request
raises ``HubRequestError`` carrying the 4xx status (or 503) and the plain-text reason.

The limits count subscriptions and the subscribe requests waiting for their
verification, never the one asked for: the renewal of a subscription (the same topic
and callback) and an unsubscribe always go through, so a limit reached, or lowered
below what there is, ends no subscription. Past ``websub.max_per_host`` a host gets
403: the count of its registrable domain (``hostkey.host_key``: ``a.evil.example`` and
``b.evil.example`` are both ``evil.example``, ``x.github.io`` and ``y.github.io`` two
people's), which their unsubscribes lower. Past ``websub.max_subscriptions``
anyone gets 503 with ``Retry-After``: the request is fine and the hub cannot take it
now (leases not renewed end, the operator may raise the limit); a subscriber tries a
5xx again later, a 4xx never. Each refusal is logged at most once per
``throttle.EVERY`` per limit, with the count held back: a flood of distinct
subscribers was a WARNING line each.
"""

from __future__ import annotations

import logging
import sqlite3

from scofeed.config import Config
from scofeed.errors import HubRequestError
from scofeed.hostkey import host_key
from scofeed.publish import published_sets
from scofeed.store import Store
from scofeed.store import websub as rows
from scofeed.throttle import Throttle
from scofeed.websub import hub

log = logging.getLogger(__name__)

FULL_RETRY_AFTER = 3600  # seconds: a 503 while the hub holds websub.max_subscriptions


class Refusals:
    """The throttles of the refusals' log lines, one per limit (held by the server)."""

    def __init__(self) -> None:
        self.per_host = Throttle()
        self.full = Throttle()


def receive(
    cfg: Config,
    store: Store,
    body: bytes,
    content_type: str,
    now: float,
    refusals: Refusals | None = None,
) -> rows.Intent:
    """Validate and queue one request; returns the intent queued for verification."""
    hub.check_content_type(content_type)
    if len(body) > cfg.websub.max_body:
        raise HubRequestError(f"the body is larger than {cfg.websub.max_body} bytes\n", 413)
    known = hub.topics(cfg, published_sets(cfg, store))
    intent = hub.parse(body, cfg, hub.new_challenge(), known)
    said = refusals or Refusals()
    with store.transaction() as db:
        if intent.mode == rows.SUBSCRIBE and not rows.subscribed(db, intent.topic, intent.callback):
            _check_limits(cfg, db, intent, said)
        rows.put_intent(db, intent, now)
    lease = f" lease={intent.lease_seconds}" if intent.mode == rows.SUBSCRIBE else ""
    log.info(
        "websub_request mode=%s topic=%s host=%s domain=%s%s secret=%s",
        intent.mode, intent.topic, intent.host, host_key(intent.host), lease,
        "yes" if intent.secret else "no",
    )  # fmt: skip
    return intent


def _check_limits(cfg: Config, db: sqlite3.Connection, intent: rows.Intent, said: Refusals) -> None:
    """HubRequestError when a new subscription would be one too many."""
    ws = cfg.websub
    domain = host_key(intent.host)
    if rows.host_load(db, domain, intent.topic, intent.callback) >= ws.max_per_host:
        held = said.per_host.due()
        if held is not None:
            log.warning(
                "websub_refused reason=per_host_limit host=%s domain=%s limit=%d held_back=%d",
                intent.host, domain, ws.max_per_host, held,
            )  # fmt: skip
        raise HubRequestError(
            f"too many subscriptions for {domain} (at most {ws.max_per_host}; a host counts "
            "as its registrable domain, an IPv6 address as its /64)\n",
            403,
        )
    if rows.total_load(db, intent.topic, intent.callback) >= ws.max_subscriptions:
        held = said.full.due()
        if held is not None:
            log.warning(
                "websub_refused reason=max_subscriptions limit=%d held_back=%d",
                ws.max_subscriptions, held,
            )  # fmt: skip
        raise HubRequestError(
            f"the hub takes no new subscriptions now (it holds {ws.max_subscriptions}): "
            "try again later\n",
            503,
            retry_after=FULL_RETRY_AFTER,
        )


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
