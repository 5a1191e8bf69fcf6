"""Sending what is due: every endpoint in parallel, each endpoint's deliveries in order.

``DeliveryPool.run_due`` asks the store which endpoints have a due delivery at their head and drains
each one in a worker of a bounded thread pool: strictly oldest first, stopping at the
first delivery that must wait for a retry, so a later entry never overtakes an earlier
one. A hanging endpoint holds only its own worker. The endpoint's lease in the store
keeps two senders (a daemon and ``scofeed deliver``) from sending to it at once: a
worker takes the lease first and only then reads the endpoint's head, so it never
sends a delivery another sender settled meanwhile. A sender killed mid-way leaves a
lease that runs out, and its delivery is sent again with the same ``webhook-id``.

The workers belong to a ``DeliveryPool`` owned by the sender (the daemon, or a one-shot
command through ``run_due``). ``DeliveryPool.shutdown(timeout)`` stops taking new work
at once: each worker finishes the request it is in and stops; what it did not send
stays pending in the store for the next run.
"""

from __future__ import annotations

import logging
import random
import resource
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from datetime import datetime

from scofeed.config import Config, Webhook
from scofeed.deliver import outbox, policy, sender
from scofeed.errors import OutOfMemory, StoreError, memory_ran_out, out_of_memory
from scofeed.store import Store, store_trouble
from scofeed.store import deliveries as rows
from scofeed.store import outbox as outbox_rows

log = logging.getLogger(__name__)

MAX_WORKERS = 64
# under a low open-files limit (``ulimit -n``) a pool of senders takes fewer workers:
# each holds a store connection (the file and its WAL; SQLite keeps the file's
# descriptor open after the connection closes, for the next one to take) and a socket
# while it works, and the rest of the daemon (the server, a scan, the logs) must still
# open files. With 64 workers and 64 files, the scans failed for want of one.
FILES_PER_WORKER = 4
FILES_KEPT = 48
CHAT_FORMATS = ("slack", "discord")  # their answers are judged as final (policy.decide)
# an attempt ends by its endpoint's timeout in all (sender's deadline); the lease,
# renewed before each one, lasts twice that plus this margin, so it never runs out
# while a request is in flight and no webhook-id is ever sent twice at once
LEASE_MARGIN = 1.0


@dataclass
class DeliverReport(policy.Tally):
    endpoints: int = 0
    busy: int = 0  # endpoints another sender was draining

    @property
    def disabled(self) -> list[str]:
        """The endpoints an answer disabled (a 410 Gone; a chat webhook removed)."""
        return self.gone

    def add(self, outcome: str, endpoint: str) -> None:
        if outcome != "busy":
            super().add(outcome, endpoint)
            return
        with self._lock:
            self.busy += 1

    def line(self) -> str:
        return f"endpoints={self.endpoints} {self.counted()} disabled={len(self.gone)}"


@dataclass(frozen=True)
class _Run:
    """What one ``run_due`` shares with the drains it starts, one per endpoint."""

    store: Store
    clock: Callable[[], float]
    rng: random.Random
    owner: str  # who holds the endpoints' leases
    report: DeliverReport

    def busy_key(self, endpoint: str) -> tuple[str, str]:
        return (str(self.store.path), endpoint)


class DeliveryPool:
    """The worker threads that drain endpoints, owned by whoever sends: the daemon for
    its life, or a one-shot command (``with DeliveryPool() as pool``, or ``run_due``).
    A pool shut down starts afresh (new workers, a new stop flag) when used again."""

    def __init__(self, max_workers: int = MAX_WORKERS, lease_margin: float = LEASE_MARGIN):
        self.max_workers = max_workers
        self.lease_margin = lease_margin
        self._executor: ThreadPoolExecutor | None = None
        self._stop = threading.Event()  # set by shutdown(): the workers stop draining
        self._halted = False  # set by halt(): nothing new starts until shutdown() returns
        self._running: dict[Future[None], str] = {}  # drains -> endpoint name
        self._busy: set[tuple[str, str]] = set()  # (store path, endpoint) being drained
        self._lock = threading.Lock()
        # the workers' writes go one at a time: SQLite would serialise them anyway, but
        # through its busy handler's sleeps, which cost more than the writes
        self._writes = threading.Lock()
        self.trouble = StoreTrouble("delivery_worker")  # until a worker gets through

    def __enter__(self) -> DeliveryPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    @property
    def stopping(self) -> bool:
        """Whether a shutdown has told the current workers to stop."""
        return self._stop.is_set()

    def lease_for(self, hook: Webhook) -> float:
        """Seconds an endpoint's lease lasts: longer than its worst attempt."""
        return 2 * hook.timeout + self.lease_margin

    def run_due(
        self,
        cfg: Config,
        store: Store,
        now: datetime | None = None,
        wait: bool = True,
        rng: random.Random | None = None,
    ) -> DeliverReport:
        """Send every due delivery. ``now`` fixes the clock (tests); ``wait=False``
        returns once the work is handed to the workers (the daemon's tick), the report
        then being filled in as they finish."""
        fixed = now.timestamp() if now is not None else None
        clock: Callable[[], float] = (lambda: fixed) if fixed is not None else time.time  # type: ignore[assignment,return-value]
        rng = rng or random.Random()
        t = clock()
        with store.transaction() as db:
            outbox.register(cfg, db, t)
            for name, gone in outbox_rows.dead_leases(db, outbox_rows.WEBHOOK_ENDPOINTS, t):
                outbox_rows.release(db, outbox_rows.WEBHOOK_ENDPOINTS, name, gone)
                log.info("lease_freed endpoint=%s owner=%s (its process is gone)", name, gone)
        hooks = {h.name: h for h in cfg.webhooks}
        owner = outbox_rows.new_owner()
        report = DeliverReport()
        run = _Run(store, clock, rng, owner, report)
        futures: list[Future[None]] = []
        if wait:
            self.trouble.line = None  # this run's alone
        for name in rows.due_endpoints(store.db, t):
            hook = hooks.get(name)
            if hook is None:
                log.debug("delivery_skipped endpoint=%s reason=not_configured", name)
                continue
            with self._lock:
                if self._halted:
                    break
                if run.busy_key(name) in self._busy:
                    report.busy += 1
                    continue
                self._busy.add(run.busy_key(name))
            report.endpoints += 1
            futures.append(self._submit(hook, run))
        if wait:
            for f in futures:
                f.result()
            log.info("deliver %s", report.line())
        self.trouble.check(bool(futures))  # this run's workers', or (wait=False) the last's
        return report

    def halt(self) -> None:
        """Start no request from now on (the daemon's first step on SIGTERM, before it
        waits for its jobs): each worker finishes the request it is in and stops, and
        ``run_due`` hands out nothing until ``shutdown`` has returned."""
        with self._lock:
            self._halted = True
            self._stop.set()

    def shutdown(self, wait: bool = True, timeout: float | None = None) -> list[str]:
        """Stop the workers (the daemon calls this on the way out): no new request
        starts; requests in flight may finish within ``timeout`` seconds (None: however
        long they take). Returns the endpoints still in a request when the time ran
        out; what they had not settled stays pending and goes out on the next run,
        same webhook-id."""
        with self._lock:
            executor, self._executor = self._executor, None
            stop, running = self._stop, dict(self._running)
        try:
            if executor is None:
                return []
            stop.set()
            executor.shutdown(wait=False, cancel_futures=True)
            if not wait:
                return sorted(set(running.values()))
            _done, left = wait_futures(list(running), timeout)
        finally:
            with self._lock:
                self._halted = False
        unfinished = sorted({running[f] for f in left})
        if unfinished:
            log.warning("deliver_stop_timeout endpoints=%s left=pending", ",".join(unfinished))
        return unfinished

    def _submit(self, hook: Webhook, run: _Run) -> Future[None]:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    workers_for_open_files(self.max_workers), thread_name_prefix="scofeed-deliver"
                )
                self._stop = threading.Event()  # fresh workers, a fresh flag
            future = self._executor.submit(self._drain, hook, run, self._stop)
            self._running[future] = hook.name
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._running.pop(future, None)

    def _drain(self, hook: Webhook, run: _Run, stop: threading.Event) -> None:
        session = None
        db: sqlite3.Connection | None = None
        try:
            # inside the try: a worker that could not open the store (no descriptor
            # left, a full disk) raised past the finally that frees its endpoint, which
            # then stayed "busy" and got nothing more until a restart
            db = run.store.db
            while not stop.is_set():
                t = run.clock()
                # the lease first, then the head: a head read before taking the lease may
                # have been settled by another sender in between, and would go out twice
                with self._writes:
                    until = t + self.lease_for(hook)
                    claimed = rows.claim(db, hook.name, run.owner, until, t)
                if not claimed:
                    run.report.add("busy", hook.name)
                    break
                self.trouble.line = None  # the store took the lease: it can be written
                d = rows.head(db, hook.name)
                if d is None or d.next_attempt is None or d.next_attempt > t:
                    break
                session = session or sender.session_for(hook)
                decision = self._attempt(hook, run, session, d)
                run.report.add(decision.outcome, hook.name)
                if decision.outcome in (policy.RETRY, policy.GONE, policy.PAUSED):
                    break
                if decision.hold is not None:  # its rate-limit bucket is empty
                    with self._writes, run.store.transaction() as tx:
                        rows.hold(tx, hook.name, decision.hold)
                    break
        except Exception as exc:
            # the machine's trouble is said once by the deliver job (run_due), not here
            if not self.trouble.caught(run.store, exc, f"endpoint={hook.name}"):
                log.exception("delivery_worker_failed endpoint=%s", hook.name)
        finally:
            try:
                if db is not None:
                    with self._writes:
                        rows.release(db, hook.name, run.owner)
            except Exception as exc:
                if not store_trouble(exc):
                    raise  # the lease otherwise runs out by itself (lease_for)
            finally:
                # the worker holds the store only while it drains: an idle worker that
                # kept its connection (two open files) for good took, with 64 of them,
                # every descriptor a low ``ulimit -n`` leaves, and no scan could open a
                # file again
                run.store.close()
                if session is not None:
                    session.close()
                with self._lock:
                    self._busy.discard(run.busy_key(hook.name))

    def _attempt(
        self, hook: Webhook, run: _Run, session: sender.requests.Session, d: rows.Delivery
    ) -> policy.Decision:
        stamp = int(time.time())  # the wire timestamp is real time: receivers check it
        sent = sender.sign_and_post(session, hook, d.webhook_id, d.body, stamp)
        t = run.clock()
        spent = d.attempts + 1 >= len(hook.retry_schedule)  # the first attempt then matters
        begun = (rows.first_attempt_at(run.store.db, d) if spent else None) or t
        decision = policy.decide(
            d.attempts + 1,
            sent.result,
            t,
            hook.retry_schedule,
            run.rng,
            hook.retry_after_max,
            chat=hook.format in CHAT_FORMATS,
            begun=begun,
        )
        disables = decision.outcome in (policy.GONE, policy.PAUSED)
        error = None if decision.outcome == policy.DELIVERED else decision.reason
        attempt = rows.Attempt(
            d.id, 0, t, sent.result.status, decision.outcome, error, sent.response, sent.duration
        )
        try:
            with self._writes, run.store.transaction() as db:
                settled = rows.settle(
                    db, d, attempt, policy.STORED[decision.outcome], decision.next_attempt
                )
                if disables:
                    rows.disable(db, hook.name, t, _disabled_because(decision, sent.response))
        except sqlite3.Error as exc:
            if store_trouble(exc):  # sent, but not written down: it goes out again later
                log.warning(
                    "delivery_unrecorded endpoint=%s delivery=%d webhook_id=%s outcome=%s "
                    "error=%r next=sent_again_once_the_store_takes_it",
                    hook.name, d.id, d.webhook_id, decision.outcome, f"{run.store.path}: {exc}",
                )  # fmt: skip
            raise
        if not settled:  # a redeliver (or a sender whose lease ran out) changed it meanwhile
            log.warning(
                "delivery_changed_meanwhile endpoint=%s delivery=%d webhook_id=%s outcome=%s "
                "kept=store",
                hook.name, d.id, d.webhook_id, decision.outcome,
            )  # fmt: skip
        log.info(
            "delivery endpoint=%s delivery=%d webhook_id=%s attempt=%d outcome=%s status=%s "
            "reason=%r next_attempt=%s duration=%.3f response=%r",
            hook.name, d.id, d.webhook_id, d.attempts + 1, decision.outcome, sent.result.status,
            decision.reason, _when(decision.next_attempt), sent.duration, sent.response[:200],
        )  # fmt: skip
        if disables:
            log.warning(
                "endpoint_disabled endpoint=%s reason=%r hint='scofeed webhook enable %s'",
                hook.name, _disabled_because(decision, sent.response), hook.name,
            )  # fmt: skip
        elif decision.outcome == policy.FAILED:
            log.warning(
                "delivery_failed endpoint=%s delivery=%d webhook_id=%s reason=%r",
                hook.name, d.id, d.webhook_id, decision.reason,
            )  # fmt: skip
        return decision


class StoreTrouble:
    """What kept the last worker that met it from the store (a full disk, a lock held
    past the busy timeout), or stopped it short of memory, for a pool of senders
    (webhooks here, ActivityPub, the WebSub hub): the pool's run raises it (``check``),
    so its job fails in /healthz in one line instead of a traceback from each worker at
    each tick while it says "ok"."""

    def __init__(self, worker: str) -> None:
        self.worker = worker  # the log event's prefix: delivery_worker, websub_worker...
        self.line: str | None = None
        self.memory = False  # the line says memory ran out (ulimit -v), not the store

    def caught(self, store: Store, exc: BaseException, where: str) -> bool:
        """In a worker's ``except``: whether ``exc`` is the machine's trouble (the
        store's, or memory running out), noted (the caller logs anything else with its
        traceback)."""
        how = memory_ran_out(exc)
        if store_trouble(exc):
            self.line, self.memory = f"{store.path}: {exc}", False
        elif how is not None:
            self.line, self.memory = str(out_of_memory(how)), True
        else:
            return False
        log.debug("%s_stopped %s error=%r", self.worker, where, str(exc))
        return True

    def check(self, tried: bool) -> None:
        """At the end of a run: raise what a worker met, if any ran (none tried: none
        to speak of, and forgotten)."""
        if not tried:
            self.line = None
        elif self.line is not None:
            raise OutOfMemory(self.line) if self.memory else StoreError(self.line)


def workers_for_open_files(most: int) -> int:
    """``most`` workers, or as many as the open-files limit leaves room for (at least
    one): 64 under the usual 1,024, 4 under 64."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return most
    return max(1, min(most, (soft - FILES_KEPT) // FILES_PER_WORKER))


def _disabled_because(decision: policy.Decision, response: str) -> str:
    """The reason an endpoint is disabled, as ``status`` shows it: the answer, with the
    chat service's own word for it (Slack's ``no_service``, Discord's message)."""
    if decision.outcome == policy.GONE:
        return "HTTP 410 Gone"
    said = " ".join(response.split())[:100]
    return f"{decision.reason}: {said}" if said else decision.reason


def counts(store: Store) -> dict[str, int]:
    """Deliveries by status: {"pending": n, "failed": n, "delivered": n} (for /healthz)."""
    return rows.counts(store.db)


def run_due(
    cfg: Config, store: Store, now: datetime | None = None, rng: random.Random | None = None
) -> DeliverReport:
    """Send every due delivery with a pool of its own and wait (``scofeed deliver``)."""
    with DeliveryPool() as pool:
        return pool.run_due(cfg, store, now, wait=True, rng=rng)


def _when(t: float | None) -> str:
    if t is None:
        return "-"
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")
