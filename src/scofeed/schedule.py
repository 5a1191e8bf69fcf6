"""APScheduler wiring only: what runs when.

Jobs come from one small table, ``job_table(cfg)``: a name, a trigger and a function
``fn(ctx, now)`` returning the run's facts as key=value text: a ``str`` when something
happened (logged at INFO and recorded), an ``Idle`` when the job ran and found nothing
to do (recorded, so /healthz shows a fresh ``last_scan``, but logged at DEBUG: an idle
daemon writes nothing at INFO), or None when it was not due (DEBUG, not recorded; a
``Waiting`` when it was not due after a failure: no recovery either). The scheduler
only ticks; what is due (changed files, sources to poll, deliveries to send) is
decided by the store, so a restart loses nothing.

Every job runs one instance at a time, coalesced, with a misfire grace time. A job
that raises is logged, recorded (``store/runs.py``) and simply runs again at its next
tick: it never takes the daemon down. Any job can wake another at once by name
(``ctx.wake("deliver")``); a wake that arrives while the job runs makes it run again
right after, so no change is lost to the one-instance rule.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scofeed import websub
from scofeed.activitypub.service import Service as ActivityPub
from scofeed.build import build
from scofeed.config import Config
from scofeed.deliver.runner import DeliveryPool
from scofeed.errors import (
    ConfigError,
    ScofeedError,
    SourceError,
    locale_trouble,
    memory_ran_out,
    out_of_memory,
)
from scofeed.model import Planner
from scofeed.poll import poll_due
from scofeed.poll_times import next_poll
from scofeed.recheck import recheck_due
from scofeed.store import Store, runs, store_trouble
from scofeed.store import outbox as outbox_rows
from scofeed.store import sources as source_rows

log = logging.getLogger(__name__)


RECHECK_TICK = 60  # seconds between two looks at the pages due for a recheck
# a job failing again with the same error (a full disk, a store held by another
# process) is logged at ERROR again only after this many seconds, DEBUG meanwhile: the
# deliver job's tick (5 s) wrote two lines each time, ~35,000 a day onto the full disk
REPEAT_EVERY = 600
PRUNE_EVERY = 3600  # seconds between two prunes of old delivered deliveries

# planner(cfg, now) -> the Planner a build or poll uses to queue outbound deliveries
PlannerFactory = Callable[[Config, datetime], Planner]


@dataclass
class JobContext:
    """What a job sees: the current config (replaced on reload), the store, ``wake``,
    and the delivery workers (the daemon's, which it shuts down on the way out)."""

    cfg: Config
    store: Store
    wake: Callable[..., None] = lambda name, delay=0.0: None  # (job name, delay in s)
    planner: PlannerFactory | None = None
    deliveries: DeliveryPool = field(default_factory=DeliveryPool)
    hub: websub.Hub | None = None  # the WebSub hub's sender (the daemon owns it)
    activitypub: ActivityPub | None = None  # made by the daemon when enabled

    def plan(self, now: datetime) -> Planner | None:
        return self.planner(self.cfg, now) if self.planner else None


# a job returns its facts as key=value text, or None when nothing was due: such a tick
# is logged at DEBUG only and not recorded, so a frequent tick costs no log line or write
@dataclass(frozen=True)
class Idle:
    """A job's result when it ran and nothing changed: recorded, logged only at DEBUG."""

    summary: str


class Said(str):
    """A job's result when something happened and the job's own module said so in its
    own line (a poll's ``poll source=...``, a recheck's ``recheck ...``, at the level
    it chose): recorded as any ``str``, and the scheduler's line only at DEBUG (it said
    every poll and recheck that brought something twice at INFO)."""

    __slots__ = ()


class Waiting:
    """A job's result when its work is not due yet and its last run failed (a source
    polled again later, after a failure): nothing logged or recorded, and no recovery."""


WAITING = Waiting()

JobFn = Callable[[JobContext, datetime], "str | Said | Idle | Waiting | None"]


POLLS = "polls"  # the executor of the poll jobs
POLL_WORKERS = 8  # threads the polls may hold at once (made as they are needed)


@dataclass(frozen=True)
class JobSpec:
    name: str
    trigger: BaseTrigger
    func: JobFn
    run_at_start: bool = True  # also runs at once when the daemon starts or reloads
    # seconds a late run may still start (misfire); None: however late
    grace: int | None = field(default=60)
    # the threads it runs on: the polls have their own, so that slow sites (a body
    # trickling in for the whole timeout) never hold the scans and the pushes
    executor: str = "default"


def trigger_for(every: int | None = None, cron: str | None = None, tz: str = "UTC") -> BaseTrigger:
    """An interval (seconds) or a crontab expression ("*/15 * * * *"), for table rows."""
    if cron:
        try:
            return CronTrigger.from_crontab(cron, timezone=tz)
        except ValueError as exc:
            raise ConfigError(f"cron {cron!r}: {exc}") from None
    if not every or every <= 0:
        raise ConfigError("a job needs an interval above 0 seconds or a cron expression")
    return IntervalTrigger(seconds=every, timezone=tz)


def scan_job(ctx: JobContext, now: datetime) -> str | Idle:
    """Scan sources/, ingest what changed, re-render; wake the deliver job if it queued any.
    A scan that changed nothing (no new, updated or newly rejected file, no feed
    written) is Idle."""
    report = build(ctx.cfg, ctx.store, now, planner=ctx.plan(now))
    if report.deferred:  # files still being written: scan again once the first has settled
        ctx.wake("scan", min(left for _rel, left in report.deferred) + 0.05)
    if report.deliveries:
        ctx.wake("deliver")
        ctx.wake("activitypub")
    if report.written:
        ctx.wake("websub")  # a feed changed: its subscribers get the new body now
    unreadable = report.unreadable_line()
    if unreadable:  # the rest was done; the job fails so /healthz and the log say so
        raise SourceError(unreadable)
    summary = (
        f"found={report.files} new={report.new} updated={report.updated} "
        f"rejected={len(report.rejected)} entries={report.entries} "
        f"written={len(report.written)} deliveries={report.deliveries}"
    )
    if report.deferred:
        summary += f" deferred={len(report.deferred)}"
    # files rejected before and unchanged since are in the summary, but no change
    changed = report.new or report.updated or report.fresh_rejects or report.written
    return summary if changed or report.deliveries else Idle(summary)


def poll_job(name: str) -> JobFn:
    """Poll one remote source when the store says it is due (its interval or cron).
    A poll whose outcome the store could not take (a full disk) left the source due,
    and it was fetched again at every tick while the disk stayed full: the job then
    holds it back itself until its next time."""
    held_until = 0.0  # Unix time: a poll the store could not record, not again before

    def run(ctx: JobContext, now: datetime) -> str | Idle | Waiting | None:
        nonlocal held_until
        if now.timestamp() < held_until:
            return WAITING
        try:
            report = poll_due(ctx.cfg, ctx.store, now, only=name, planner=ctx.plan(now))
        except Exception as exc:
            src = next((s for s in ctx.cfg.sources if s.name == name), None)
            if store_trouble(exc) and src is not None:
                held_until = next_poll(src, now, ctx.cfg.site.timezone).timestamp()
            raise
        if report.changed:
            ctx.wake("deliver")
            ctx.wake("activitypub")
            ctx.wake("websub")
        failed = [r for r in report.results if r.status == "error"]
        if failed:  # the store or memory failing: a line that stays the same while it
            if failed[0].trouble is not None:  # lasts (said once)
                raise failed[0].trouble
            # the source's own error: its line counts the polls in a row and names the
            # next one, which change at each poll: the same error is said once while it
            # lasts by its words alone (it was an ERROR at every poll)
            error = SourceError(failed[0].line())
            error.gist = f"{failed[0].name}: {failed[0].error}"
            raise error
        summary = "; ".join(r.line() for r in report.results)
        if not summary:
            # not due; after a failed poll, waiting for the next one is no recovery (each
            # failed poll was followed by `poll:x_recovered` a tick later)
            state = source_rows.state(ctx.store.db, name)
            return WAITING if state is not None and state.failures else None
        return Said(summary) if report.changed or report.failed else Idle(summary)

    return run


def recheck_job(ctx: JobContext, now: datetime) -> str | Idle | None:
    """Fetch again the official pages the store says are due (``[recheck]``); a
    correction wakes the senders."""
    report = recheck_due(ctx.cfg, ctx.store, now, planner=ctx.plan(now))
    if report.updated:
        ctx.wake("deliver")
        ctx.wake("activitypub")
        ctx.wake("websub")
    if not report.checked:
        return None  # none was due
    summary = f"recheck {report.line()}"
    return Said(summary) if report.eventful else Idle(summary)


def deliver_job(ctx: JobContext, now: datetime) -> str | Idle | None:
    """Hand each endpoint with a due delivery to a worker. The workers log (and store)
    every attempt themselves; the job only says how many endpoints it handed over, as
    their outcomes are not known yet when it returns. A tick that hands none over sends
    nothing: only DEBUG (an endpoint waiting for its retry is not due at all)."""
    report = ctx.deliveries.run_due(ctx.cfg, ctx.store, wait=False)  # the outbox says what is due
    summary = f"sending endpoints={report.endpoints} busy={report.busy}"
    if report.endpoints:
        return summary
    return Idle(summary) if report.busy else None  # busy: another worker is on them


def activitypub_job(ctx: JobContext, now: datetime) -> str | None:
    """Hand each remote host with a due ActivityPub delivery to a worker."""
    if ctx.activitypub is None:
        return None
    report = ctx.activitypub.deliverer.run_due(wait=False)
    return f"sending hosts={report.hosts}" if report.hosts else None


def websub_job(ctx: JobContext, now: datetime) -> str | None:
    """The WebSub hub's tick: leases, denials, changed feeds, verifications, distributions
    (handed to the hub's workers, which log each outcome)."""
    if ctx.hub is None:
        return None
    report = ctx.hub.run_due(ctx.cfg, ctx.store)
    return report.line() if report else None


def prune_job(ctx: JobContext, now: datetime) -> str | None:
    """Drop what deliveries delivered more than ``limits.delivered_days`` ago hold
    (``store.outbox.prune``): the store would otherwise grow by every body sent, for
    ever (~5 kB an entry for each webhook and each follower's server)."""
    days = ctx.cfg.limits.delivered_days
    hooks, activities = outbox_rows.prune(ctx.store, now.timestamp(), days)
    if not (hooks or activities):
        return None
    return f"pruned webhook_bodies={hooks} activitypub_deliveries={activities} days={days}"


def job_table(cfg: Config) -> list[JobSpec]:
    """Every job the daemon runs, built from the config (again on each reload)."""
    interval = cfg.schedule.scan_interval
    jobs = [JobSpec("scan", trigger_for(every=interval), scan_job, grace=max(interval, 30))]
    for src in cfg.sources:
        if src.enabled:  # cron: its own trigger; interval: a tick, poll_times.next_poll decides
            tick = trigger_for(cron=src.cron, tz=cfg.site.timezone) if src.cron else None
            tick = tick or trigger_for(every=max(1, min(src.interval // 5, 60)))
            # a cron source's tick is the only one it has: one missed (the machine
            # asleep past it, the poll threads busy) ran a whole period late, though the
            # store had it due; its run decides by the store, however late it starts
            grace = None if src.cron else 60
            name = runs.POLL_PREFIX + src.name
            jobs.append(JobSpec(name, tick, poll_job(src.name), grace=grace, executor=POLLS))
    if cfg.recheck.enabled:  # a tick: store.pages says which page is due
        tick = trigger_for(every=min(RECHECK_TICK, cfg.recheck.interval))
        jobs.append(JobSpec("recheck", tick, recheck_job, grace=RECHECK_TICK))
    if cfg.webhooks:
        jobs.append(
            JobSpec("deliver", trigger_for(every=cfg.schedule.deliver_interval), deliver_job)
        )
    if cfg.websub.enabled or cfg.websub.hubs:
        every = trigger_for(every=cfg.schedule.deliver_interval)
        jobs.append(JobSpec("websub", every, websub_job))
    if cfg.activitypub.enabled:
        every = trigger_for(every=cfg.schedule.deliver_interval)
        jobs.append(JobSpec("activitypub", every, activitypub_job))
    if cfg.limits.delivered_days:  # also with no webhook left: what the old ones sent
        jobs.append(JobSpec("prune", trigger_for(every=PRUNE_EVERY), prune_job))
    return jobs


class Scheduler:
    """A BackgroundScheduler running the job table against one ``JobContext``: the
    polls on threads of their own (four slow sites held all four shared threads: no
    scan, no delivery, for as long as each one's timeout)."""

    def __init__(self, ctx: JobContext, workers: int = 4) -> None:
        self.ctx = ctx
        ctx.wake = self.wake
        self._aps = BackgroundScheduler(
            timezone=UTC,
            executors={
                "default": ThreadPoolExecutor(workers),
                POLLS: ThreadPoolExecutor(POLL_WORKERS),
            },
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 60},
        )
        self._specs: dict[str, JobSpec] = {}
        self._cond = threading.Condition()
        self._running: set[str] = set()
        self._again: set[str] = set()
        self._accepting = True
        # a failing job (or its record, "record:<job>"): (the error last logged, when,
        # monotonic; the failures in a row)
        self._said: dict[str, tuple[str, float, int]] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self._specs)

    @property
    def running(self) -> set[str]:
        with self._cond:
            return set(self._running)

    def load(self, specs: Sequence[JobSpec]) -> None:
        """Install the job table, replacing the previous one (start and reload). A job
        running now that runs at once on a reload runs again right after (as ``wake``
        has it): APScheduler skips a run due while one is under way, and the reload's
        "at once with the new config" waited for the next tick (a scan: minutes)."""
        wanted = {s.name: s for s in specs}
        with self._cond:
            for name in set(self._specs) - set(wanted):
                self._remove(name)
            self._specs = wanted
            self._again.update(n for n in self._running if n in wanted and wanted[n].run_at_start)
        now = datetime.now(UTC)
        for spec in specs:
            self._aps.add_job(
                self._run,
                trigger=spec.trigger,
                args=[spec.name],
                id=spec.name,
                name=spec.name,
                replace_existing=True,
                misfire_grace_time=spec.grace,
                executor=spec.executor,
                **({"next_run_time": now} if spec.run_at_start else {}),
            )
        log.info("jobs_loaded jobs=%s", ",".join(sorted(wanted)))

    def _remove(self, name: str) -> None:
        try:
            self._aps.remove_job(name)
        except JobLookupError:
            pass

    def start(self) -> None:
        # a job whose last run failed before a restart is recorded once it runs fine,
        # even with nothing due, as one that failed since (``_run``)
        for run in runs.all_runs(self.ctx.store.db):
            if not run.ok:
                # not yet said by this process: its first failure is an ERROR line
                # (0.0 for "said" was within REPEAT_EVERY of a monotonic clock that
                # starts at boot, and a daemon started then failed at DEBUG alone)
                never = -REPEAT_EVERY
                self._said.setdefault(run.name, (run.error or "", never, run.failures))
        self._aps.start()

    def wake(self, name: str, delay: float = 0.0) -> None:
        """Run job ``name`` now (or after ``delay`` s); again right after if it is running."""
        if delay > 0:  # a timer of its own: a job may ask for its own later run
            timer = threading.Timer(delay, self.wake, args=(name,))
            timer.daemon = True
            timer.start()
            return
        with self._cond:
            if not self._accepting or name not in self._specs:
                log.debug("wake_ignored job=%s", name)
                return
            if name in self._running:
                self._again.add(name)
                return
        try:
            self._aps.modify_job(name, next_run_time=datetime.now(UTC) + timedelta(seconds=delay))
        except JobLookupError:
            log.debug("wake_ignored job=%s reason=removed", name)

    def _run(self, name: str) -> None:
        with self._cond:
            spec = self._specs.get(name)
            if spec is None or not self._accepting:
                return
            self._running.add(name)
        started = time.time()
        ok, summary, idle, error, waiting = False, "", False, None, False
        gist = None  # the error without what moves from run to run: said once while it lasts
        try:
            result = spec.func(self.ctx, datetime.now(UTC))
            if isinstance(result, Waiting):
                waiting, result = True, None
            idle = isinstance(result, Idle)
            ok, summary = True, (result.summary if isinstance(result, Idle) else result or "")
        except ScofeedError as exc:
            error, gist = str(exc), exc.gist
        except Exception as exc:  # a job's bug must not take the daemon down
            how = memory_ran_out(exc)
            if store_trouble(exc):  # the machine's, not a bug: one line naming the store
                error = f"{self.ctx.store.path}: {exc}"
            elif how is not None:  # the machine's too (ulimit -v): one line
                error = str(out_of_memory(how))
            elif (locale := locale_trouble(exc)) is not None:  # how it was started
                error = locale
            else:
                error = f"{type(exc).__name__}: {exc}"
                log.exception("job_crashed job=%s", name)
        finished = time.time()
        ms = round((finished - started) * 1000)
        if ok and not summary:
            log.debug("%s nothing_due ms=%d", name, ms)
        elif ok and idle:
            log.debug("%s idle %s ms=%d", name, summary, ms)
        elif ok and isinstance(summary, Said):
            log.debug("%s %s ms=%d", name, summary, ms)
        elif ok:
            log.info("%s %s ms=%d", name, summary, ms)
        said = self._said.pop(name, None) if ok and not waiting else None
        recovered = said is not None
        if said is not None:
            log.info("%s_recovered failures=%d last_error=%r", name, said[2], said[0])
        elif not ok:
            level = logging.ERROR if self._loud(name, gist or str(error)) else logging.DEBUG
            log.log(level, "%s_failed error=%r ms=%d retry=next_tick", name, error, ms)
        # recorded when it recovers even with nothing due: /healthz (its job, last_errors)
        # went on showing the failure until it next had work, a deliver job for days
        if summary or not ok or recovered:
            try:
                run = runs.Run(name, started, finished, ok, summary, error)
                runs.record(self.ctx.store.db, run)
                self._said.pop(f"record:{name}", None)
            except Exception as exc:  # held in memory: /healthz still shows this run
                path = self.ctx.store.path
                level = logging.ERROR if self._loud(f"record:{name}", str(exc)) else logging.DEBUG
                log.log(level, "job_record_failed job=%s store=%s error=%r", name, path, str(exc))
        with self._cond:
            self._running.discard(name)
            again = name in self._again
            self._again.discard(name)
            self._cond.notify_all()
        if again:
            self.wake(name)

    def _loud(self, key: str, error: str) -> bool:
        """Whether this failure is worth an ERROR line: a new error, or the same one
        ``REPEAT_EVERY`` seconds after it was last logged (DEBUG meanwhile)."""
        now = time.monotonic()
        error_was, logged, failures = self._said.get(key, ("", 0.0, 0))
        if failures and error == error_was and now - logged < REPEAT_EVERY:
            self._said[key] = (error, logged, failures + 1)
            return False
        self._said[key] = (error, now, failures + 1)
        return True

    def stop(self, timeout: float) -> list[str]:
        """Take no new work, wait up to ``timeout`` s for running jobs; return the unfinished."""
        with self._cond:
            self._accepting = False
        if self._aps.running:
            self._aps.pause()
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._running and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            unfinished = sorted(self._running)
        if self._aps.running:
            self._aps.shutdown(wait=False)
        return unfinished
