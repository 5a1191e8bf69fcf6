"""Delivering activities to followers: planned in the entry's transaction, sent later.

``planner(cfg, now)`` is a pipeline Planner: a new entry queues ``Create{Note}``, a
correction ``Update{Note}``, one row per distinct target inbox (a follower's shared
inbox when it has one, so a server with a thousand followers gets one POST).
``queue_delete`` does the same with ``Delete{Tombstone}`` for a withdrawn entry, and
``queue_accept`` answers a Follow (``queue_reject`` refuses one).

``Deliverer.run_due`` sends what is due like the webhook runner does: one worker per
remote host, that host's deliveries strictly in order, under the host's lease in the
store; the retry policy is the webhooks' (``deliver/policy.py``), except that a refusal
(a 4xx other than 401, 408, 429; a 501) is final at once, as Mastodon's own deliveries
have it, instead of holding up the host's later deliveries for a day of retries; a 410
Gone removes the followers behind that inbox. Each POST is signed (draft-cavage: ``(request-target)
host date digest``) at send time, so the Date is always fresh.

The hosts of one registrable domain (``hostkey.host_key``: ``a.evil.example`` and
``b.evil.example`` are ``evil.example``) hold at most ``PER_DOMAIN`` workers at once:
with wildcard DNS, anyone may follow from a server on every name of their domain
(``activitypub.max_servers_per_domain`` of them), each a host with a lease of its own,
and a set of inboxes that never answer took every worker, each until its timeout,
while every other follower's deliveries waited. A host due while its domain's workers
are all busy waits for one of them, and starts as it ends (it stays due in the store
meanwhile). The lease stays by the server's name: the order of one server's
deliveries is its own, not its domain's.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, replace

import requests

from scofeed.activitypub import httpsig
from scofeed.activitypub.documents import ACTIVITY_JSON, Urls
from scofeed.activitypub.keys import KeyPair
from scofeed.activitypub.outbox import EVENTS as EVENTS
from scofeed.activitypub.outbox import LEASE_KEYS, domain_of, host_of
from scofeed.activitypub.outbox import plan as plan
from scofeed.activitypub.outbox import planner as planner
from scofeed.activitypub.outbox import queue_accept as queue_accept
from scofeed.activitypub.outbox import queue_delete as queue_delete
from scofeed.activitypub.outbox import queue_reject as queue_reject
from scofeed.activitypub.remote import session
from scofeed.config import Config
from scofeed.deliver import policy, sender
from scofeed.deliver.runner import StoreTrouble, workers_for_open_files
from scofeed.store import Store, store_trouble
from scofeed.store import activitypub as rows
from scofeed.store import outbox as outbox_rows

log = logging.getLogger(__name__)

MAX_WORKERS = 32
PER_DOMAIN = 4  # hosts of one registrable domain delivered to at once, at most
LEASE_MARGIN = 1.0


@dataclass
class Report(policy.Tally):
    hosts: int = 0

    def line(self) -> str:
        return f"hosts={self.hosts} {self.counted()} gone={len(self.gone)}"


class Deliverer:
    """Owns the worker pool; the daemon makes one, ticks ``run_due`` and shuts it down."""

    def __init__(
        self,
        cfg: Config,
        store: Store,
        keypair: KeyPair,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        max_workers: int = MAX_WORKERS,
        per_domain: int = PER_DOMAIN,
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.keypair = keypair
        self.clock = clock
        self.rng = rng or random.Random()
        self.per_domain = max(1, per_domain)
        self.owner = outbox_rows.new_owner()
        self._pool = ThreadPoolExecutor(
            workers_for_open_files(max_workers), thread_name_prefix="scofeed-ap"
        )
        self._busy: set[str] = set()  # hosts draining, or waiting behind their domain's
        self._domains: Counter[str] = Counter()  # drains in flight by domain
        self._waiting: dict[str, deque[tuple[str, Report]]] = {}  # by domain, in due order
        self._running: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._writes = threading.Lock()
        self._stop = threading.Event()
        self.trouble = StoreTrouble("activitypub_worker")  # until a worker gets through
        self._rehosted = False  # the pending deliveries' hosts checked (``_rehost``)

    def run_due(self, wait: bool = True) -> Report:
        report = Report()
        tried = False
        if wait:
            self.trouble.line = None  # this run's alone
        if not self._rehosted:
            self._rehost()
        self._free_dead()
        for host in rows.due_hosts(self.store.db, self.clock()):
            domain = domain_of(host)
            with self._lock:
                if host in self._busy or self._stop.is_set():
                    continue
                self._busy.add(host)
                report.hosts += 1
                tried = True
                if self._domains[domain] >= self.per_domain:  # started as one of them ends
                    self._waiting.setdefault(domain, deque()).append((host, report))
                    continue
                self._start(host, domain, report)
        if wait:  # all of it, what waited behind its domain's drains too
            while True:
                with self._lock:
                    running = list(self._running)
                    waiting = any(self._waiting.values())
                if self._stop.is_set() or not (running or waiting):
                    break
                wait_futures(running)  # an ending drain starts its domain's next first
            if report.hosts:
                log.info("activitypub_deliver %s", report.line())
        self.trouble.check(tried)  # this run's workers', or (wait=False) the last's
        return report

    def _rehost(self) -> None:
        """Once a process, before its first delivery: the pending deliveries an older
        version stored under another key of their server take this version's
        (``rows.rehost``, once per rule), so that one lease holds all of a server's, in
        order. After that first time, a read of ``meta``: no write lock, no scan."""
        if not rows.leases_keyed(self.store.db, LEASE_KEYS):
            with self._writes, self.store.transaction() as db:
                moved = rows.rehost(db, host_of, LEASE_KEYS)
            if moved:
                log.info("activitypub_rehosted deliveries=%d", moved)
        self._rehosted = True

    def _free_dead(self) -> None:
        """The hosts' leases a sender of this host left when its process died (see
        ``outbox_rows.dead_leases``): given back before the due hosts are read."""
        dead = outbox_rows.dead_leases(self.store.db, outbox_rows.AP_HOSTS, self.clock())
        if not dead:
            return
        with self._writes, self.store.transaction() as db:
            for host, gone in dead:
                outbox_rows.release(db, outbox_rows.AP_HOSTS, host, gone)
                log.info("lease_freed host=%s owner=%s (its process is gone)", host, gone)

    def shutdown(self, wait: bool = True) -> None:
        self._stop.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def _start(self, host: str, domain: str, report: Report) -> None:
        """A worker drains ``host`` (the caller holds ``_lock`` and has marked it busy)."""
        try:
            future = self._pool.submit(self._drain, host, report)
        except RuntimeError:  # shut down meanwhile
            self._busy.discard(host)
            return
        self._domains[domain] += 1
        self._running.add(future)
        future.add_done_callback(self._running.discard)  # one call on a set: atomic

    def _ended(self, host: str) -> None:
        """``host``'s drain ended: its domain's next waiting host starts in its place."""
        domain = domain_of(host)
        with self._lock:
            self._busy.discard(host)
            self._domains[domain] -= 1
            if self._domains[domain] <= 0:
                del self._domains[domain]
            queue = self._waiting.get(domain)
            if queue and not self._stop.is_set():
                waiting, report = queue.popleft()
                self._start(waiting, domain, report)
            if queue is not None and not queue:
                del self._waiting[domain]

    def _drain(self, host: str, report: Report) -> None:
        s: requests.Session | None = None
        db: sqlite3.Connection | None = None
        try:
            # inside the try: a worker that could not open the store (no descriptor
            # left) raised past the finally that frees its host, which then stayed
            # "busy" and got nothing more until a restart
            db = self.store.db
            while not self._stop.is_set():
                t = self.clock()
                with self._writes:
                    until = t + 2 * self.cfg.activitypub.timeout + LEASE_MARGIN
                    if not rows.claim(db, host, self.owner, until, t):
                        break
                self.trouble.line = None  # the store took the lease: it can be written
                d = rows.head(db, host)
                if d is None or d.next_attempt is None or d.next_attempt > t:
                    break
                s = s or session(self.cfg.activitypub.allow_private)
                outcome = self._attempt(s, d)
                report.add(outcome, d.inbox)
                if outcome == policy.RETRY:
                    break
        except Exception as exc:
            # the machine's trouble is said once by the job (run_due), not here
            if not self.trouble.caught(self.store, exc, f"host={host}"):
                log.exception("activitypub_worker_failed host=%s", host)
        finally:
            try:
                if db is not None:
                    with self._writes:
                        rows.release(db, host, self.owner)
            except Exception as exc:
                if not store_trouble(exc):
                    raise  # the lease otherwise runs out by itself
            finally:
                # the worker holds the store only while it drains (as deliver.runner)
                self.store.close()
                if s is not None:
                    s.close()
                self._ended(host)

    def _attempt(self, s: requests.Session, d: rows.Delivery) -> str:
        ap = self.cfg.activitypub
        key_id = Urls.of(self.cfg).key_id
        key = self.keypair.private
        try:
            url = sender.wire_url(d.inbox)  # signed as sent: requests re-encodes the URL
        except (ValueError, requests.RequestException):  # stored before the inbox checked it
            url = None
        if url is None:  # failed, not retried: it raised at every tick, for ever
            sent = sender.Sent(policy.Result(None, "not a valid URL", blocked=True), "", 0.0)
        else:
            headers = httpsig.sign_cavage("POST", url, d.body, key_id, key, time.time())
            headers["Content-Type"] = ACTIVITY_JSON
            sent = sender.post_outcome(s, url, d.body, headers, ap.timeout)  # no answer: None
        t = self.clock()
        decision = policy.decide(
            d.attempts + 1, sent.result, t, ap.retry_schedule, self.rng, refusals_final=True,
            begun=policy.begun(d.first_attempt, d.attempts, t),
        )  # fmt: skip
        if decision.outcome == policy.GONE:  # an inbox has no endpoint to disable
            decision = replace(decision, reason="HTTP 410 Gone: its followers are removed")
        error = None if decision.outcome == policy.DELIVERED else decision.reason
        with self._writes, self.store.transaction() as db:
            rows.settle(
                db,
                d,
                policy.STORED[decision.outcome],
                decision.next_attempt,
                sent.result.status,
                error,
                t,
            )
            removed = rows.remove_target(db, d.inbox) if decision.outcome == policy.GONE else 0
        log.info(
            "activitypub_delivery id=%d kind=%s inbox=%s attempt=%d outcome=%s status=%s "
            "reason=%r duration=%.3f",
            d.id, d.kind, d.inbox, d.attempts + 1, decision.outcome, sent.result.status,
            decision.reason, sent.duration,
        )  # fmt: skip
        if removed:
            log.warning("activitypub_inbox_gone inbox=%s followers_removed=%d", d.inbox, removed)
        elif decision.outcome == policy.FAILED:  # never sent: seen at log.level WARNING too
            log.warning(
                "activitypub_delivery_failed id=%d kind=%s inbox=%s reason=%r",
                d.id, d.kind, d.inbox, decision.reason,
            )  # fmt: skip
        return decision.outcome
