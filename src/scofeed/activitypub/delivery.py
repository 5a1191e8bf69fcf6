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
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import requests

from scofeed.activitypub import httpsig
from scofeed.activitypub.documents import ACTIVITY_JSON, Urls
from scofeed.activitypub.keys import KeyPair
from scofeed.activitypub.outbox import EVENTS as EVENTS
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
    ) -> None:
        self.cfg = cfg
        self.store = store
        self.keypair = keypair
        self.clock = clock
        self.rng = rng or random.Random()
        self.owner = outbox_rows.new_owner()
        self._pool = ThreadPoolExecutor(
            workers_for_open_files(MAX_WORKERS), thread_name_prefix="scofeed-ap"
        )
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._writes = threading.Lock()
        self._stop = threading.Event()
        self.trouble = StoreTrouble("activitypub_worker")  # until a worker gets through

    def run_due(self, wait: bool = True) -> Report:
        report = Report()
        futures: list[Future[None]] = []
        if wait:
            self.trouble.line = None  # this run's alone
        for host in rows.due_hosts(self.store.db, self.clock()):
            with self._lock:
                if host in self._busy or self._stop.is_set():
                    continue
                self._busy.add(host)
            report.hosts += 1
            try:
                futures.append(self._pool.submit(self._drain, host, report))
            except RuntimeError:  # shut down meanwhile
                with self._lock:
                    self._busy.discard(host)
        if wait:
            for f in futures:
                f.result()
            if report.hosts:
                log.info("activitypub_deliver %s", report.line())
        self.trouble.check(bool(futures))  # this run's workers', or (wait=False) the last's
        return report

    def shutdown(self, wait: bool = True) -> None:
        self._stop.set()
        self._pool.shutdown(wait=wait, cancel_futures=True)

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
                with self._lock:
                    self._busy.discard(host)

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
            d.attempts + 1, sent.result, t, ap.retry_schedule, self.rng, refusals_final=True
        )
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
        return decision.outcome
