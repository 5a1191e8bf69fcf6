"""Outbound pushes: signed Standard Webhooks deliveries with retries, from an outbox.

``outbox.planner(cfg, now)`` is the Planner the build and the pollers pass to ingest
when webhooks are configured (through ``scofeed.outboxes``); ``outbox.backfill``
queues old entries. ``runner`` sends:
the daemon owns a ``runner.DeliveryPool`` (``pool.run_due(cfg, store, wait=False)`` on
its schedule, ``pool.shutdown(timeout=...)`` on the way out); ``runner.counts(store)``
feeds /healthz; ``runner.run_due(cfg, store)`` sends what is due once and waits
(``scofeed deliver``).

This package's ``__init__`` imports nothing on purpose: the build imports ``outbox``
and must not pull in ``runner`` and with it ``requests`` (issue #9, start-up).
"""
