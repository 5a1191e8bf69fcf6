"""``/metrics``: what the daemon's store says, for Prometheus (its text format, written by
``prometheus_client``).

Every figure is read from the store at each scrape, as ``/healthz`` reads its facts:
``scofeed serve`` beside a ``scofeed run`` shows the same, and nothing is lost when the
daemon restarts. The counts are gauges (they go down as well as up: deliveries settle,
entries are withdrawn); the times are Unix seconds, so an alert is
``time() - scofeed_job_last_success_timestamp_seconds{job="scan"} > 3600``.

The route answers only with ``[serve] metrics_token`` set, and only to a request that
carries it (``Authorization: Bearer <token>``): the figures name webhook endpoints and
sources, and behind a reverse proxy every client comes from the proxy's address, so an
address allow-list would let the world in.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from scofeed import __version__
from scofeed.config import Config
from scofeed.store import Store, runs
from scofeed.store import activitypub as activitypub_rows
from scofeed.store import published as published_rows
from scofeed.store import sources as source_rows
from scofeed.store import status as status_rows
from scofeed.store import websub as websub_rows
from scofeed.store import withdrawals as withdrawal_rows

# the classic text format, which every Prometheus reads (newer clients label it 1.0.0,
# for metric names outside the classic characters, which no name here uses)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def allowed(cfg: Config, environ: Mapping[str, Any]) -> bool | None:
    """None: no ``metrics_token`` configured (no such route). Else whether the request
    carries the token (compared in constant time)."""
    token = cfg.serve.metrics_token
    if token is None or not token.value:
        return None
    given = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, credentials = given.partition(" ")
    if scheme.lower() != "bearer":
        return False
    # the header as its bytes came (WSGI gives them as Latin-1): a token in UTF-8, as
    # Prometheus sends its credentials file, was matched only when all ASCII
    sent = credentials.strip().encode("latin-1", "replace")
    return hmac.compare_digest(sent, token.value.encode())


def route_of(path: str, hub_path: str) -> str:
    """What ``scofeed_http_requests_total`` counts a request to ``path`` under: a few
    routes, whatever the path (a label per path would grow without end)."""
    if path == "/" or path.startswith("/page/"):
        return "index"
    if path in ("/healthz", "/metrics"):
        return path[1:]
    if path == hub_path:
        return "websub"
    if path.startswith(("/@", "/.well-known/", "/nodeinfo/")):
        return "activitypub"
    if path.startswith("/entries/"):
        return "entry"
    if path.endswith((".xml", ".json", ".opml")):
        return "feed"
    return "tag_page" if path.startswith("/tags/") else "other"


class Requests:
    """The requests this process answered, by route and status code: the one figure not
    read from the store, a counter of the serving process's own that starts from zero
    (Prometheus's ``rate()`` and ``increase()`` take a restart in their stride)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, int]] = Counter()

    def add(self, route: str, status: int) -> None:
        with self._lock:
            self._counts[(route, status)] += 1

    def counts(self) -> dict[tuple[str, int], int]:
        with self._lock:
            return dict(self._counts)


def exposition(cfg: Config, store: Store, requests: Requests | None = None) -> bytes:
    """The figures, in Prometheus's text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(cfg, store, requests or Requests()))
    return generate_latest(registry)


class _Figures(Collector):
    def __init__(self, cfg: Config, store: Store, requests: Requests) -> None:
        self.cfg = cfg
        self.store = store
        self.requests = requests

    def collect(self) -> Iterator[Metric]:
        cfg, db = self.cfg, self.store.db
        served = CounterMetricFamily(
            "scofeed_http_requests",
            "Requests this process answered, by route and status code (since it started).",
            labels=["route", "code"],
        )
        for (route, status), n in sorted(self.requests.counts().items()):
            served.add_metric([route, str(status)], n)
        yield served
        info = GaugeMetricFamily(
            "scofeed_info", "This scofeed: its version and its store's schema.",
            labels=["version", "schema"],
        )  # fmt: skip
        (schema,) = db.execute("PRAGMA user_version").fetchone()
        info.add_metric([__version__, str(schema)], 1)
        yield info

        entries = GaugeMetricFamily(
            "scofeed_entries", "Stored entries: published, or withdrawn.", labels=["state"]
        )
        entries.add_metric(["published"], published_rows.count(db))
        entries.add_metric(["withdrawn"], withdrawal_rows.count_withdrawn(db))
        yield entries
        rejected = status_rows.rejected(
            db, time.time(), cfg.limits.reject_ttl * 86400, cfg.polled()
        )
        yield GaugeMetricFamily(
            "scofeed_rejected_inputs",
            "Inputs refused and not accepted since (the quarantine `scofeed status` lists).",
            value=len(rejected),
        )
        yield GaugeMetricFamily(
            "scofeed_store_bytes",
            "The state store's size on disk, its write-ahead log included.",
            value=status_rows.size_on_disk(cfg.paths.state),
        )
        yield from _jobs(cfg, db)
        yield from _sources(cfg, db)
        yield from _webhooks(cfg, db)
        if cfg.activitypub.enabled:
            yield GaugeMetricFamily(
                "scofeed_activitypub_followers",
                "Fediverse accounts following the actor.",
                value=activitypub_rows.follower_count(db),
            )
            yield _by_status(
                "scofeed_activitypub_deliveries",
                "ActivityPub deliveries to followers' inboxes, by status.",
                activitypub_rows.counts(db),
            )
        if cfg.websub.enabled:
            hub = websub_rows.counts(db)
            yield GaugeMetricFamily(
                "scofeed_websub_subscriptions",
                "The WebSub hub's active subscriptions.",
                value=hub["subscriptions"],
            )
            yield GaugeMetricFamily(
                "scofeed_websub_pending_distributions",
                "Subscriptions with new content still to be delivered (some retrying).",
                value=hub["pending"],
            )


def _jobs(cfg: Config, db: Any) -> Iterator[Metric]:
    last = GaugeMetricFamily(
        "scofeed_job_last_run_timestamp_seconds",
        "When each daemon job (scan, poll, deliver...) last finished.",
        labels=["job"],
    )
    ok = GaugeMetricFamily(
        "scofeed_job_last_success_timestamp_seconds",
        "When each job last succeeded (absent: never).",
        labels=["job"],
    )
    failures = GaugeMetricFamily(
        "scofeed_job_consecutive_failures",
        "Failures of each job in a row, up to its last run (0: its last run succeeded).",
        labels=["job"],
    )
    for run in runs.of_sources(runs.all_runs(db), cfg.polled()):
        last.add_metric([run.name], run.finished)
        if run.last_ok is not None:
            ok.add_metric([run.name], run.last_ok)
        failures.add_metric([run.name], 0 if run.ok else max(run.failures, 1))
    yield from (last, ok, failures)


def _sources(cfg: Config, db: Any) -> Iterator[Metric]:
    last = GaugeMetricFamily(
        "scofeed_source_last_poll_timestamp_seconds",
        "When each remote source was last polled.",
        labels=["source"],
    )
    failures = GaugeMetricFamily(
        "scofeed_source_consecutive_failures",
        "Polls of each remote source that failed in a row, up to the last one.",
        labels=["source"],
    )
    for source in cfg.sources:
        state = source_rows.state(db, source.name)
        if state is None:
            continue
        if state.last_poll is not None:
            last.add_metric([source.name], state.last_poll)
        failures.add_metric([source.name], state.failures)
    yield from (last, failures)


def _webhooks(cfg: Config, db: Any) -> Iterator[Metric]:
    deliveries = GaugeMetricFamily(
        "scofeed_webhook_deliveries",
        "Webhook deliveries kept in the store, by endpoint and status (pending, failed, "
        "delivered: those `limits.delivered_days` has not dropped yet).",
        labels=["endpoint", "status"],
    )
    state = GaugeMetricFamily(
        "scofeed_webhook_endpoint_state",
        "Each endpoint's state: 1 for the one it is in (active, retrying, disabled; "
        "unconfigured: removed from the config, its deliveries still kept).",
        labels=["endpoint", "state"],
    )
    for ep in status_rows.endpoints(db, [w.name for w in cfg.webhooks]):
        for status, n in (("pending", ep.pending), ("failed", ep.failed)):
            deliveries.add_metric([ep.name, status], n)
        deliveries.add_metric([ep.name, "delivered"], ep.delivered)
        now = "disabled" if ep.disabled_at else "retrying" if ep.retrying else "active"
        now = now if ep.configured else "unconfigured"  # retried no more
        for name in ("active", "retrying", "disabled", "unconfigured"):
            state.add_metric([ep.name, name], 1 if name == now else 0)
    yield from (deliveries, state)


def _by_status(name: str, documentation: str, counts: Mapping[str, int]) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=["status"])
    for status, n in sorted(counts.items()):
        family.add_metric([status], n)
    return family
