"""The hub's work loop: what the daemon's ``websub`` job runs on each tick.

``Hub.run_due(cfg, store)``, in order:

1. expired leases are removed; subscriptions to a topic that no longer exists are
   removed and their subscribers told (``hub.mode=denied``);
2. each topic's published file is compared with the body last distributed (by hash,
   kept in the store): a changed feed is recorded and queued for every subscriber of
   the topic, and a ping queued for each external hub of ``[websub] hubs`` (in the
   same transaction);
3. every due verification of intent, distribution and ping goes to a worker of the
   hub's bounded thread pool; a hanging callback holds only its own worker, and one
   host (its registrable domain: ``a.evil.example`` and ``b.evil.example`` are one)
   at most ``PER_HOST`` at once: its other work waits behind those requests and
   starts as each ends (it stays due in the store meanwhile, and is read from the
   store again as it starts: what changed or was settled meanwhile is not sent as it
   was read). A host may hold 50
   subscriptions (``websub.max_per_host``), each its own distribution: one that
   answered slowly (up to the timeout) took every worker, and every other subscriber
   waited behind it.

A distribution that gets no 2xx is retried on ``[websub] retry_schedule`` (the
webhooks' policy: ``Retry-After`` on 429/503, 410 removes the subscription, a refused
address fails at once); so is a ping (410 or the end of the schedule drops it).
Everything due lives in the store: a restart loses nothing.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from scofeed.config import Config
from scofeed.deliver import policy
from scofeed.deliver.policy import Result
from scofeed.deliver.runner import StoreTrouble, workers_for_open_files
from scofeed.hostkey import request_key
from scofeed.publish import published_sets
from scofeed.store import Store
from scofeed.store import websub as rows
from scofeed.websub import hub, send

log = logging.getLogger(__name__)

MAX_WORKERS = 64
# requests in flight to one host (callback or external hub) at most, counted by its
# registrable domain (``_host``)
PER_HOST = 4


@dataclass
class HubReport:
    expired: int = 0
    denied: int = 0
    changed: list[str] = field(default_factory=list)  # topics whose feed changed
    queued: int = 0
    verifications: int = 0
    distributions: int = 0
    pings: int = 0  # to external hubs

    def line(self) -> str:
        return (
            f"expired={self.expired} denied={self.denied} changed={len(self.changed)} "
            f"queued={self.queued} verifying={self.verifications} "
            f"distributing={self.distributions} pinging={self.pings}"
        )

    def __bool__(self) -> bool:
        return any((self.expired, self.denied, self.changed, self.verifications,
                    self.distributions, self.pings))  # fmt: skip


class Hub:
    """The built-in hub's sender: owns its worker pool (the daemon creates one and shuts
    it down on the way out). ``clock`` and ``rng`` are injectable for tests."""

    def __init__(
        self,
        max_workers: int = MAX_WORKERS,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        per_host: int = PER_HOST,
    ) -> None:
        self.clock = clock
        self.per_host = per_host
        self._hosts: Counter[str] = Counter()  # requests in flight by host
        # what waits behind a host's requests in flight, by host (``_start``); it starts
        # with the latest tick's config (``_config``): a reload applies to it too
        self._queued: dict[
            str, deque[tuple[tuple[str, object], Callable[..., None], Store, object]]
        ] = {}
        self._config: Config | None = None
        self.rng = rng or random.Random()
        self._pool = ThreadPoolExecutor(
            workers_for_open_files(max_workers), thread_name_prefix="scofeed-websub"
        )
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._writes = threading.Lock()  # workers' writes one at a time (see deliver.runner)
        self._busy: set[tuple[str, object]] = set()
        self._running: dict[Future[None], str] = {}
        self._seen: dict[str, tuple[int, int]] = {}  # topic -> (mtime_ns, size) checked
        self.trouble = StoreTrouble("websub_worker")  # raised by run_due, then forgotten

    # -- the tick ------------------------------------------------------------------------

    def run_due(self, cfg: Config, store: Store, wait: bool = False) -> HubReport:
        report = HubReport()
        now = self.clock()
        self._config = cfg
        known = hub.topics(cfg, published_sets(cfg, store))
        self._prune(store, known, now, report)
        self._detect_changes(cfg, store, known, now, report)
        tried = self._take_due(cfg, store, now, report)
        if wait:  # all of it, what waited behind its host's requests too
            while True:
                with self._lock:
                    running, queued = list(self._running), any(self._queued.values())
                if self._stop.is_set() or not (running or queued):
                    break
                wait_futures(running)  # an ending request starts its host's next first
        try:  # this run's workers', or (wait=False) the last's
            self.trouble.check(tried)
        finally:
            self.trouble.line = None  # said once
        return report

    def _take_due(self, cfg: Config, store: Store, now: float, report: HubReport) -> bool:
        """Every due verification, distribution and ping to a worker, or behind its
        host's requests in flight (``_start``); whether any was taken."""
        tried = False
        for intent in rows.due_intents(store.db, now):
            if self._start(("intent", intent.id), _host(intent.callback), self._verify, cfg,
                           store, intent):  # fmt: skip
                report.verifications += 1
                tried = True
        for d in rows.due_distributions(store.db, now):
            if self._start(("sub", d.subscription_id), _host(d.callback), self._distribute, cfg,
                           store, d):  # fmt: skip
                report.distributions += 1
                tried = True
        for p in rows.due_pings(store.db, now):
            if self._start(("ping", (p.hub, p.topic)), _host(p.hub), self._ping, cfg, store, p):
                report.pings += 1
                tried = True
        return tried

    def _prune(
        self, store: Store, known: dict[str, hub.Topic], now: float, report: HubReport
    ) -> None:
        """Expired leases go; subscriptions to a topic no longer published go, denied."""
        if not rows.stale(store.db, now, list(known)):  # a read: no write lock per tick
            return
        with self._writes, store.transaction() as db:
            for sub in rows.expire(db, now):
                report.expired += 1
                log.info("websub_expired topic=%s host=%s", sub.topic, sub.host)
            for sub in rows.subscriptions(db):
                if sub.topic not in known:
                    rows.remove(db, sub.id)
                    reason = "the topic is no longer published"
                    denial = rows.Intent(rows.DENIED, sub.topic, sub.callback, sub.host, None,
                                         0, hub.new_challenge(), reason,
                                         topic_given=sub.topic_given)  # fmt: skip
                    rows.put_intent(db, denial, now)
                    report.denied += 1
                    log.info("websub_denied topic=%s host=%s", sub.topic, sub.host)

    def _detect_changes(
        self, cfg: Config, store: Store, known: dict[str, hub.Topic], now: float, report: HubReport
    ) -> None:
        for topic in known.values():
            try:
                st = topic.path.stat()
                if self._seen.get(topic.url) == (st.st_mtime_ns, st.st_size):
                    continue
                body = topic.path.read_bytes()
            except OSError:
                continue  # not published yet
            digest = hashlib.sha256(body).hexdigest()
            with self._writes, store.transaction() as db:
                if rows.last_hash(db, topic.url) != digest:
                    n = rows.add_content(db, topic.url, digest, topic.content_type, body, now)
                    rows.queue_pings(db, cfg.websub.hubs, topic.url, now)  # in one go
                    report.changed.append(topic.url)
                    report.queued += n
                    log.log(  # INFO only when a subscriber gets it
                        logging.INFO if n else logging.DEBUG,
                        "websub_changed topic=%s bytes=%d queued=%d",
                        topic.url,
                        len(body),
                        n,
                    )
            self._seen[topic.url] = (st.st_mtime_ns, st.st_size)

    # -- workers -------------------------------------------------------------------------

    def _start(
        self,
        key: tuple[str, object],
        host: str,
        fn: Callable[..., None],
        cfg: Config,
        store: Store,
        item: object,
    ) -> bool:
        """Take ``key``: ``fn`` on ``item`` in a worker now, or, with ``per_host``
        requests in flight to ``host``, queued behind them: it starts as soon as one of
        them ends (``_release``), in this process; it stays due in the store meanwhile,
        so a restart loses nothing. False when ``key`` is taken (or the hub stops)."""
        with self._lock:
            if key in self._busy or self._stop.is_set():
                return False
            self._busy.add(key)
            if self._hosts[host] >= self.per_host:
                self._queued.setdefault(host, deque()).append((key, fn, store, item))
                return True
            self._hosts[host] += 1
        self._submit(fn, cfg, store, item)
        return True

    def _release(self, key: tuple[str, object], host: str) -> None:
        """``key``'s request ended: its host's next queued one takes its place."""
        with self._lock:
            self._busy.discard(key)
            waiting = self._queued.get(host)
            following = waiting.popleft() if waiting and not self._stop.is_set() else None
            if not waiting:
                self._queued.pop(host, None)
            if following is None:
                self._hosts[host] -= 1
                if self._hosts[host] <= 0:
                    del self._hosts[host]
        if following is not None:
            _key, fn, store, item = following
            assert self._config is not None  # run_due sets it before it queues anything
            try:
                self._submit(fn, self._config, store, item)
            except RuntimeError:
                # the pool shut down meanwhile: it stays due in the store. Else no thread
                # could start (memory short): the pool has it queued all the same and it
                # releases itself when it ends; released here too, a tick took it again
                # while it ran, and its host held one more than its share
                if self._stop.is_set():
                    self._release(_key, host)

    def _submit(
        self, fn: Callable[..., None], cfg: Config, store: Store, item: object
    ) -> Future[None]:
        future = self._pool.submit(self._guarded, fn, cfg, store, item)
        with self._lock:
            self._running[future] = fn.__name__.strip("_")
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._running.pop(future, None)

    def _guarded(self, fn: Callable[..., None], cfg: Config, store: Store, item: object) -> None:
        if self._stop.is_set():
            return
        try:
            fn(cfg, store, item)
        except Exception as exc:
            # the machine's trouble is said once by the websub job (run_due)
            if not self.trouble.caught(store, exc, f"job={fn.__name__}"):
                log.exception("websub_worker_failed job=%s", fn.__name__)
        finally:
            # the worker holds the store only while it works: each of the 64 kept its
            # connection for the life of the daemon (see deliver.runner)
            store.close()

    def _verify(self, cfg: Config, store: Store, queued: rows.Intent) -> None:
        try:
            # as the store has it now: it may have waited behind its host's requests
            # (``_start``), and a newer request for its callback (an unsubscribe, a new
            # secret or lease) replaced it meanwhile: the stale one was sent, then found
            # superseded, and the newer one waited for the next tick
            intent = rows.current_intent(store.db, queued)
            if intent is None:
                return
            with send.session(cfg.websub.allow_private) as s:
                ok, reason = send.verify(s, intent, cfg.websub.timeout)
            now = self.clock()
            with self._writes, store.transaction() as db:
                current = rows.finish_intent(db, intent)
                if ok and current and intent.mode == rows.SUBSCRIBE:
                    rows.activate(db, intent, now)
                elif ok and current and intent.mode == rows.UNSUBSCRIBE:
                    rows.unsubscribe(db, intent.topic, intent.callback)
            outcome = "verified" if ok else "refused"
            if intent.mode == rows.DENIED:  # a notice: the subscriber has nothing to verify
                outcome = "denial_sent" if ok else "denial_unanswered"
            if not current:
                outcome = "superseded"
            # a lease only where one is asked for: an unsubscribe or a denial has none
            lease = f" lease={intent.lease_seconds}" if intent.mode == rows.SUBSCRIBE else ""
            log.info(
                "websub_%s mode=%s topic=%s host=%s%s reason=%r",
                outcome, intent.mode, intent.topic, intent.host, lease, reason,
            )  # fmt: skip
        finally:
            self._release(("intent", queued.id), _host(queued.callback))

    def _distribute(self, cfg: Config, store: Store, queued: rows.Distribution) -> None:
        try:
            # as the store has it now: it may have waited behind its host's requests
            # (``_start``) for minutes, meanwhile unsubscribed (it was still sent), its
            # secret renewed or a newer body queued
            d = rows.current(store.db, queued)
            if d is None:
                return
            body = rows.content(store.db, d.content_id)
            if body is None:
                return
            with send.session(cfg.websub.allow_private) as s:
                sent = send.distribute(s, cfg, d, body, cfg.websub.timeout)
            now = self.clock()
            decision = policy.decide(
                d.attempts + 1, sent.result, now, cfg.websub.retry_schedule, self.rng,
                begun=policy.begun(d.first_attempt, d.attempts, now),
            )  # fmt: skip
            if decision.outcome == policy.GONE:  # the subscriber's word: not an endpoint's
                decision = replace(decision, reason="HTTP 410 Gone: the subscription is ended")
            error = None if decision.outcome == policy.DELIVERED else decision.reason
            with self._writes, store.transaction() as db:
                rows.settle(db, d, now, sent.result.status, error, decision.next_attempt)
                if decision.outcome == policy.GONE:
                    rows.remove(db, d.subscription_id)
            # one given up is content a subscriber will never get: WARNING, as a webhook's
            # dead letter (``delivery_failed``) and an ActivityPub delivery's
            failed = decision.outcome == policy.FAILED
            log.log(
                logging.WARNING if failed else logging.INFO,
                "websub_distribution subscription=%d topic=%s host=%s attempt=%d outcome=%s "
                "status=%s reason=%r duration=%.3f",
                d.subscription_id, d.topic, urlsplit(d.callback).hostname, d.attempts + 1,
                decision.outcome, sent.result.status, decision.reason, sent.duration,
            )  # fmt: skip
        finally:
            self._release(("sub", queued.subscription_id), _host(queued.callback))

    def _ping(self, cfg: Config, store: Store, p: rows.Ping) -> None:
        try:
            # as the store has it now (see ``_verify``): a one-shot build beside the
            # daemon may have pinged the hub meanwhile (a second ping for one change),
            # or a newer change queued it again (sent as the older, it settled nothing)
            current = rows.current_ping(store.db, p, self.clock())
            if current is not None:
                ping_due(cfg, store, current, self.clock, self.rng, self._writes)
        finally:
            self._release(("ping", (p.hub, p.topic)), _host(p.hub))

    # -- stopping ------------------------------------------------------------------------

    def shutdown(self, timeout: float | None = None) -> list[str]:
        """No new request starts; requests in flight may finish within ``timeout``.
        What was not settled stays due in the store. Returns the unfinished jobs' kinds."""
        self._stop.set()
        with self._lock:
            running = dict(self._running)
            self._queued.clear()  # due in the store: the next daemon takes them
        self._pool.shutdown(wait=False, cancel_futures=True)
        _done, left = wait_futures(list(running), timeout)
        return sorted({f"websub:{running[f]}" for f in left})


def _host(url: str) -> str:
    """The host a request to ``url`` goes to, as ``PER_HOST`` counts it: its registrable
    domain (``hostkey.host_key``). Counted by the exact name, a subscriber with wildcard
    DNS had ``PER_HOST`` workers for each name it made up (``a.evil.example``,
    ``b.evil.example``, ...), all answered by one slow server: every worker of the hub."""
    return request_key(url) or ""  # as the client reads it (``hostkey.url_host``)


def counts(store: Store) -> dict[str, int]:
    """Hub figures for /healthz and ``scofeed status``."""
    return rows.counts(store.db)


def _send_ping(cfg: Config, hub_url: str, topic: str) -> Result:
    # the pushes' session (the attempt deadline, the CA bundle); hubs the operator
    # configured are trusted, so no address guard
    with send.session(allow_private=True) as s:
        return send.ping(s, hub_url, topic, cfg.websub.timeout)


def ping(cfg: Config, hub_url: str, topic: str) -> bool:
    """One ping, nothing stored: whether ``hub_url`` answered 2xx."""
    status = _send_ping(cfg, hub_url, topic).status
    return status is not None and 200 <= status < 300


def ping_due(
    cfg: Config,
    store: Store,
    p: rows.Ping,
    clock: Callable[[], float],
    rng: random.Random,
    writes: AbstractContextManager[object] | None = None,
) -> bool:
    """Tell one external hub that ``p.topic`` changed; whether it answered 2xx (logged).
    Otherwise the ping stays due again on ``retry_schedule``, as a distribution does
    (WebSub 6: the publisher MUST inform its hubs; a hub's 503 lost the change), until
    the schedule runs out or the hub answers 410. ``writes``: held while writing."""
    if p.hub not in cfg.websub.hubs:  # no longer configured: dropped unsent
        with writes or nullcontext(), store.transaction() as db:
            rows.settle_ping(db, p, None, "hub no longer configured", None)
        return False
    result = _send_ping(cfg, p.hub, p.topic)
    now = clock()
    # a ping is sent when queued (or queued again, its attempts counted afresh)
    decision = policy.decide(
        p.attempts + 1, result, now, cfg.websub.retry_schedule, rng, begun=min(p.queued, now)
    )
    ok = decision.outcome == policy.DELIVERED
    with writes or nullcontext(), store.transaction() as db:
        rows.settle_ping(db, p, result.status, None if ok else decision.reason,
                         decision.next_attempt)  # fmt: skip
    log.log(
        logging.INFO if ok else logging.WARNING,
        "websub_ping hub=%s topic=%s attempt=%d outcome=%s reason=%r",
        urlsplit(p.hub).hostname, p.topic, p.attempts + 1, decision.outcome, decision.reason,
    )  # fmt: skip
    return ok


def ping_hubs(
    cfg: Config, store: Store, written: list[str], clock: Callable[[], float] = time.time
) -> list[tuple[str, str, bool]]:
    """After a one-shot build: ping every external hub for each topic whose file was
    written (``written``: paths under feeds/), and again those an earlier build (or a
    daemon on this store) could not make whose retry is due. Returns (hub, topic, ok)
    for each ping."""
    paths = {cfg.paths.feeds / w for w in written}
    topics = hub.topics(cfg, published_sets(cfg, store)).values()
    changed = [t.url for t in topics if t.path in paths]
    now = clock()
    with store.transaction() as db:
        for topic in changed:
            rows.queue_pings(db, cfg.websub.hubs, topic, now)
    rng = random.Random()
    due = rows.due_pings(store.db, now)
    return [(p.hub, p.topic, ping_due(cfg, store, p, clock, rng)) for p in due]
