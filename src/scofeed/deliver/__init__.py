"""Outbound pushes: signed Standard Webhooks deliveries with retries, from an outbox.

The daemon owns a ``DeliveryPool``: ``pool.run_due(cfg, store, wait=False)`` on its
schedule, ``pool.shutdown(timeout=...)`` on the way out; ``counts(store)`` feeds /healthz.
``run_due(cfg, store)`` sends what is due once and waits (``scofeed deliver``).
``planner_for(cfg, now)`` is the Planner the build and the pollers pass to ingest when
webhooks are configured.
"""

from scofeed.deliver.outbox import backfill, matches, planner, planner_for, register_endpoints
from scofeed.deliver.runner import DeliverReport, DeliveryPool, counts, run_due

__all__ = [
    "DeliverReport",
    "DeliveryPool",
    "backfill",
    "counts",
    "matches",
    "planner",
    "planner_for",
    "register_endpoints",
    "run_due",
]
