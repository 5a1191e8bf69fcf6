"""Outbound pushes: signed Standard Webhooks deliveries with retries, from an outbox.

The daemon calls ``run_due(cfg, store, wait=False)`` on its schedule, ``counts(store)``
for /healthz and ``shutdown()`` on the way out. ``planner(cfg, now)`` is the Planner the
build and the pollers use when webhooks are configured.
"""

from scofeed.deliver.outbox import backfill, matches, planner
from scofeed.deliver.runner import DeliverReport, counts, run_due, shutdown

__all__ = ["DeliverReport", "backfill", "counts", "matches", "planner", "run_due", "shutdown"]
