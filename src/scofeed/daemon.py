"""Lifecycle: the lock, signals, starting the scheduler and server, ordered shutdown.

One daemon per state store: ``<state>.lock`` beside the SQLite file is held with
``fcntl.flock`` for the daemon's life and holds its pid and start time (Unix seconds),
one per line, so a second ``scofeed run`` stops at once naming the first, ``scofeed
reload`` knows whom to signal and ``scofeed status`` shows the uptime.

The daemon owns the delivery workers (a ``DeliveryPool``) its deliver job hands work to.
Signals: SIGTERM and SIGINT stop taking new work, let running jobs, in-flight
deliveries and the stop hooks finish within ``schedule.stop_seconds`` in all, stop the
server and return 0. SIGHUP re-reads the config; a config that does not load is logged
and the running one kept.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import signal
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from scofeed import reading, websub
from scofeed.activitypub.service import Service as ActivityPub
from scofeed.config import FEED_FILES, Config
from scofeed.deliver.outbox import register_endpoints, retry_corrected
from scofeed.deliver.runner import DeliveryPool
from scofeed.errors import AlreadyRunning, ConfigError, PublishError, StoreError
from scofeed.logs import use_format
from scofeed.schedule import JobContext, PlannerFactory, Scheduler, job_table
from scofeed.serve import App, HealthExtras, HttpServer, raise_fd_limit, trusted_peer
from scofeed.store import Store, due, runs
from scofeed.store.lock import PidLock, StateFiles, already_running, lock_path, running
from scofeed.store.trouble import allowed, refuse_unwritable, whose
from scofeed.watch import SourceWatcher

log = logging.getLogger(__name__)


# seconds the wall clock may fall behind the monotonic one between two looks (every
# 5 s) before the jobs are rescheduled; NTP's small steps stay below it
CLOCK_SLACK = 2.0
# queued from the first moment (``Daemon.run``); Ctrl-C (SIGINT) is queued once the
# daemon is up, so that before (a long migration) it still interrupts at once
STOP_AND_RELOAD = (signal.SIGTERM, signal.SIGHUP)
# signals some daemons take (nginx reopens its logs on USR1), which killed this one
# without a word (their default action): told in the log and ignored
IGNORED = (signal.SIGUSR1, signal.SIGUSR2)
LAST_LOOK = 0.05  # seconds each part of a stop gets past stop_seconds, at most
# bytes of body a request to a path other than the hub and the inboxes may carry (a GET
# or a 405 has no use for one): each held connection kept the largest route's, 256 KiB
OTHER_BODY = 4096


def refuse_unwritable_feeds(feeds: Path) -> None:
    """``scofeed run`` publishes into ``feeds`` at every scan that changes a feed: a
    folder it cannot write there (its mode or owner, a read-only mount, a file in its
    place) let the daemon say "serving" and "started", then fail each such scan
    ("scan_failed ... cannot write (Permission denied)"). Refused at the start instead,
    in one line, before anything is bound or made. Not there yet: the first publish
    makes it, in the nearest folder above that is there, which must take it."""
    there = feeds
    while not there.exists() and there != there.parent:
        there = there.parent
    if not there.is_dir():
        raise PublishError(
            f"{feeds}: cannot write the feeds folder ({there} is a file, not a folder)"
        )
    if not allowed(there, os.W_OK | os.X_OK):
        why = whose(there, f"folder {there}")
        raise PublishError(f"{feeds}: cannot write the feeds folder ({why})")


def clock_behind_store(store: Store) -> int:
    """At the start: the wall clock behind the last run the store recorded, as when a
    clock a day fast was put right while the daemon was stopped. Every due time in the
    store was set by the fast clock and would wait out the difference (a failed
    delivery retried "tomorrow", every newer one to its endpoint queued behind it, each
    source polled a day late): they are moved back by it, as ``_check_clock`` moves
    them when the clock goes back while the daemon runs. How many moved."""
    now = time.time()
    back = max((r.finished for r in runs.all_runs(store.db)), default=now) - now
    if back <= CLOCK_SLACK:
        return 0
    with store.transaction() as tx:
        moved = due.clock_went_back(tx, back, now)
    log.warning(
        "clock_behind_store seconds=%.0f due_moved=%d: the clock is behind the last run "
        "the store recorded (set back while the daemon was stopped)",
        back,
        moved,
    )
    return moved


def apply_log_level(level: str) -> None:
    """The configured level on the root logger. APScheduler's per-run chatter and waitress's
    busy-queue notices only show at DEBUG. APScheduler's warnings too: a tick that finds
    its job still running ("skipped: maximum number of running instances reached") or
    comes late ("was missed by") is how coalescing works, and a job held up (a store
    locked for 30 s, a long cold build) wrote one every tick without saying why; the
    job's own line says that."""
    logging.getLogger().setLevel(level)
    logging.getLogger("apscheduler").setLevel("DEBUG" if level == "DEBUG" else "ERROR")
    logging.getLogger("waitress.queue").setLevel("DEBUG" if level == "DEBUG" else "ERROR")


def largest_body(cfg: Config) -> int:
    """The largest request body any route takes (WebSub requests, ActivityPub inbox
    posts): the server refuses one larger before reading it."""
    return max(cfg.websub.max_body, cfg.activitypub.max_body)


def feed_urls(cfg: Config, base: str) -> list[str]:
    return [base + FEED_FILES[fmt] for fmt in cfg.feeds.formats]


class Daemon:
    """``scofeed run`` (schedule=True) and ``scofeed serve`` (schedule=False)."""

    def __init__(
        self,
        cfg: Config,
        reload_config: Callable[[], Config],
        *,
        schedule: bool = True,
        health_extras: HealthExtras | None = None,
        planner: PlannerFactory | None = None,
        on_stop: Sequence[Callable[[float], object]] = (),
        set_log_level: bool = True,
        signals: queue.SimpleQueue[int] | None = None,
    ) -> None:
        """``signals``: where SIGHUP and SIGTERM were queued since the process began
        (``scofeed.cli``: systemd signals the pid it forked, before this is made)."""
        self.cfg = cfg
        self.reload_config = reload_config
        self.schedule = schedule
        self.health_extras = health_extras
        self.planner = planner
        # after the jobs and in-flight deliveries: each hook gets the seconds left of
        # schedule.stop_seconds and returns what it left unfinished (a list of names)
        self.on_stop = list(on_stop)
        self.set_log_level = set_log_level
        self._signals: queue.SimpleQueue[int] = signals or queue.SimpleQueue()
        self.scheduler: Scheduler | None = None
        self.activitypub: ActivityPub | None = None
        self.watcher: SourceWatcher | None = None
        self.lock: PidLock | None = None  # the daemon's, once taken (scofeed run)
        self.http: HttpServer | None = None  # bound in ``run``
        self._kept: list[str] = []  # what the last reload changed that needs a restart
        self.deliveries = DeliveryPool()
        self.hub: websub.Hub | None = None

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals.put(signum)  # SimpleQueue.put is safe inside a signal handler

    def run(self, on_ready: Callable[[list[str]], None] | None = None) -> int:
        # queued from the first moment: the lock names our pid at once (`scofeed
        # reload`, `systemctl reload` signal it), and a SIGHUP or SIGTERM before the store
        # opened, the key was made and the server bound (seconds, on an upgrade) killed
        # the daemon with no word; each is acted on once the daemon is up
        before = {sig: signal.signal(sig, self._on_signal) for sig in (*STOP_AND_RELOAD, *IGNORED)}
        before[signal.SIGINT] = signal.getsignal(signal.SIGINT)
        lock = PidLock(lock_path(self.cfg.paths.state)) if self.schedule else None
        try:
            server = self._listen()
            try:
                if lock:
                    lock.acquire()
                self.lock = lock
                try:
                    return self._run(server, on_ready)
                finally:
                    if lock:
                        lock.release()
            finally:
                server.stop()  # stopped by _shutdown, unless the start failed
        finally:
            for sig, handler in before.items():
                signal.signal(sig, handler)

    def _listen(self) -> HttpServer:
        """The server, bound before anything is made: a busy port (or a host that does
        not resolve) failed the start after the state folder, the lock and a new store
        were made. A daemon already running on this store (often on that very port) is
        named first, from its lock file, which is only read; then a store or a feeds
        folder the daemon cannot write (``refuse_unwritable``, ``_feeds``)."""
        try:
            holder = running(self.cfg.paths.state) if self.schedule else None
        except StoreError:  # a lock that cannot be read: taking it says why, once bound
            holder = None
        if holder is not None:
            raise AlreadyRunning(already_running(holder.pid, lock_path(self.cfg.paths.state)))
        if self.schedule:  # `scofeed serve` only reads (a replica's may be read-only)
            refuse_unwritable(self.cfg.paths.state)  # before its lock file is made
            refuse_unwritable_feeds(self.cfg.paths.feeds)
        raise_fd_limit()  # room for many held connections (see serve/limits.py)
        self.http = HttpServer(
            None, self.cfg.serve.host, self.cfg.serve.port, max_body=largest_body(self.cfg),
            trusted=lambda peer: trusted_peer(self.cfg, peer),  # as last (re)loaded
            body_limit=self._body_limit,
        )  # fmt: skip
        return self.http

    def _body_limit(self, path: str) -> int:
        """The largest request body ``path`` takes: the hub's and the inboxes' their own
        (``max_body``), any other path's ``OTHER_BODY``."""
        cfg = self.cfg
        if cfg.websub.enabled and path == cfg.websub.hub_path:
            return cfg.websub.max_body
        ap = cfg.activitypub
        if ap.enabled and path in (f"/@{ap.username}/inbox", "/inbox"):
            return ap.max_body
        return OTHER_BODY

    def _run(self, server: HttpServer, on_ready: Callable[[list[str]], None] | None) -> int:
        # `scofeed serve` may run on a read-only host; the daemon must write
        store = Store(
            self.cfg.paths.state,
            read_only_ok=not self.schedule,
            immutable_ok=False,
            daemon=self.schedule,  # `scofeed run` holds the lock; `serve` does not
            wait=self.cfg.limits.store_wait,
        )
        # the WebSub hub takes requests where the websub job verifies them: here, or
        # (``scofeed serve``) in the ``scofeed run`` daemon sharing this store, if any
        on_hub = self._hub_request if self.schedule else None
        hub_unavailable = None if self.schedule else self._hub_unavailable
        # ActivityPub (its key, inbox, outbox) is set up at start: a reload does not change it
        self.activitypub = (
            ActivityPub.open(self.cfg, store, on_queued=lambda: self._wake("activitypub"))
            if self.cfg.activitypub.enabled
            else None
        )
        routes = self.activitypub.routes if self.activitypub else None
        app = App(
            lambda: self.cfg,
            store,
            self.health_extras,
            on_hub,
            activitypub=routes,
            hub_unavailable=hub_unavailable,
        )
        server.mount(app)
        if self.schedule:
            clock_behind_store(store)
            # endpoints first, on a clock read before any job's: the first scan's
            # entries go to every endpoint in the config (none counts as back catalogue)
            register_endpoints(self.cfg, store, time.time())
            runs.forget(store.db, runs.RELOAD_JOB)  # a failed reload of an earlier run is past
            self.hub = websub.Hub()
            ctx = JobContext(
                self.cfg,
                store,
                planner=self.planner,
                deliveries=self.deliveries,
                hub=self.hub,
                activitypub=self.activitypub,
            )
            self.scheduler = Scheduler(ctx)
            self.scheduler.load(job_table(self.cfg))
            self.scheduler.start()
            self.watcher = SourceWatcher(self.cfg.paths.sources, self._sources_changed)
            self.watcher.start()
        server.start()
        signal.signal(signal.SIGINT, self._on_signal)
        log.info("started pid=%d mode=%s", os.getpid(), "run" if self.schedule else "serve")
        if sys.getfilesystemencoding().lower() not in ("utf-8", "utf8"):
            log.warning(
                "locale_not_utf8 encoding=%s: a name outside it (a Cyrillic or Chinese tag's "
                "feeds folder) cannot be written; run with PYTHONUTF8=1 or a UTF-8 locale",
                sys.getfilesystemencoding(),
            )
        if self.schedule and reading.older(store.db):
            log.info("reread_suggested reason=%r", "files read by another version; " + reading.HINT)
        if not self.schedule and self._hub_unavailable():
            log.warning(
                "websub: the feeds advertise the hub at %s, which answers 503 until "
                "`scofeed run` runs on this store (%s); or set [websub] enabled = false",
                self.cfg.websub.hub_path,
                self.cfg.paths.state,
            )
        if on_ready:
            on_ready(server.base_urls())
        clock = (time.time(), time.monotonic())
        files = StateFiles(self.cfg.paths.state) if self.schedule else None
        while True:
            try:
                signum = self._signals.get(timeout=5)
            except queue.Empty:
                if self.watcher:
                    self.watcher.ensure()  # re-arm after sources/ was removed and restored
                if self.lock:
                    self.lock.ensure()  # made again after it was removed
                clock = self._check_clock(clock)
                changed = files.changed() if files else None
                if changed is None:
                    continue
                # stopped cleanly, what SQLite holds in the file it has open reaches the
                # store; a daemon started again (systemd's Restart=on-failure) makes new ones
                log.error(
                    "state_file_gone path=%s: removed or replaced while the daemon runs; "
                    "stopping, so that what it holds is written to the store",
                    changed,
                )
                self._shutdown(server, store)
                return 1
            if signum == signal.SIGHUP:
                self.reload()
                continue
            if signum in IGNORED:
                log.warning(
                    "signal_ignored signal=%s: SIGHUP re-reads the config, SIGTERM stops",
                    signal.Signals(signum).name,
                )
                continue
            log.info(
                "stopping signal=%s within=%gs",
                signal.Signals(signum).name,
                self.cfg.schedule.stop_seconds,
            )
            break
        return self._shutdown(server, store)

    def _check_clock(self, then: tuple[float, float]) -> tuple[float, float]:
        """Reschedule every job when the wall clock went back (a clock set by hand, a
        VM restored): the scheduler's next run times are wall-clock times, and every
        job not woken by hand would wait out the jump (an hour back: no poll, delivery
        or interval scan for an hour); so would the due times and leases in the store,
        which move back by the jump. Returns the clock readings for the next look."""
        now = (time.time(), time.monotonic())
        back = (now[1] - then[1]) - (now[0] - then[0])  # seconds the wall clock lost
        if back > CLOCK_SLACK and self.scheduler:
            moved = 0
            try:  # a connection of its own: the server's threads use the daemon's
                store = Store(
                    self.cfg.paths.state, read_only_ok=False, wait=self.cfg.limits.store_wait
                )
                try:
                    with store.transaction() as tx:
                        moved = due.clock_went_back(tx, back, now[0])
                finally:
                    store.close()
            except (StoreError, sqlite3.Error) as exc:  # the jobs are rescheduled anyway
                log.error("clock_went_back_store_failed error=%s", exc)
            log.warning("clock_went_back seconds=%.0f jobs=rescheduled due_moved=%d", back, moved)
            self.scheduler.load(job_table(self.cfg))
        return now

    def _hub_unavailable(self) -> str | None:
        """In ``scofeed serve``: why the hub the feeds advertise cannot take a request
        now (no ``scofeed run`` on this store verifies it), or None."""
        if not self.cfg.websub.enabled:
            return None
        try:
            if running(self.cfg.paths.state):
                return None
        except StoreError:  # cannot tell: the request is taken, as when one runs
            return None
        return "the hub is not running now (it runs in `scofeed run`); try again later"

    def _hub_request(self) -> None:
        if self.scheduler:
            self.scheduler.wake("websub")  # verify the intent now, not at the next tick

    def _sources_changed(self) -> None:
        self._wake("scan")

    def _wake(self, job: str) -> None:
        if self.scheduler:
            self.scheduler.wake(job)

    def _shutdown(self, server: HttpServer, store: Store) -> int:
        unfinished: list[str] = []
        budget = self.cfg.schedule.stop_seconds  # as last (re)loaded
        deadline = time.monotonic() + budget
        # no new webhook request from now on, not even while the jobs below finish
        self.deliveries.halt()
        if self.watcher:
            self.watcher.stop()
        if self.scheduler:
            unfinished = self.scheduler.stop(budget)

        def left() -> float:
            """What is left of the stop time, or a blink (LAST_LOOK) to collect what has
            just ended: half a second each, the stop ran ~1.5 s past stop_seconds."""
            return max(LAST_LOOK, deadline - time.monotonic())

        # in-flight deliveries get what is left of the stop time; unsent ones stay pending
        unfinished += self.deliveries.shutdown(timeout=left())
        if self.hub:  # requests in flight may finish; what was not settled stays due
            unfinished += self.hub.shutdown(left())
        if self.activitypub:  # requests in flight are dropped; they stay pending in the store
            self.activitypub.close(wait=False)
        for fn in self.on_stop:
            try:
                still = fn(left())
                if isinstance(still, list | tuple | set):
                    unfinished += [str(x) for x in still]
            except Exception as exc:  # stopping goes on whatever one part says
                log.error(
                    "stop_hook_failed hook=%s error=%r", getattr(fn, "__name__", fn), str(exc)
                )
        if not server.stop(left()):  # a request still at work (its store write waits)
            unfinished.append("http")
        store.close()
        if unfinished:
            # their SQLite transactions roll back; what was due stays due in the store (an
            # unsettled delivery goes out again after its lease, with the same webhook-id)
            log.warning("stopped_with_work_running unfinished=%s", ",".join(unfinished))
            logging.shutdown()
            os._exit(0)
        log.info("stopped")
        return 0

    def reload(self) -> None:
        """Re-read the config; its outcome is recorded as the ``reload`` job's run, which
        ``scofeed reload`` waits for (it said "reload sent" and exit 0 while the daemon,
        in its own environment, kept its previous config), and ``scofeed status`` and
        /healthz show while it failed."""
        started = time.time()
        self._kept = []
        error = self._reload()
        if self.scheduler is None:
            return
        summary = "" if error else f"config={self.cfg.path or 'defaults'}"
        if not error and self._kept:  # said where `scofeed reload` prints it (exit 0 said
            summary += f"; not applied until a restart: {', '.join(self._kept)}"  # all)
        try:
            runs.record(self.scheduler.ctx.store.db, runs.Run(
                runs.RELOAD_JOB, started, time.time(), error is None, summary, error
            ))  # fmt: skip
        except Exception as exc:  # held in memory: /healthz still shows it
            log.error("job_record_failed job=%s error=%r", runs.RELOAD_JOB, str(exc))

    def _reload(self) -> str | None:
        """The reload itself: None once the new config is taken, else why it was not."""
        old = self.cfg
        try:
            new = self.reload_config()
        except ConfigError as exc:
            use_format(old.log.format)  # the loader applied the new one: it is not taken
            log.error("reload_failed error=%r keeping=previous_config", str(exc))
            return str(exc)
        except Exception as exc:  # a reload must never take the running daemon down
            use_format(old.log.format)
            # the kind only: an unforeseen message might quote what it read (a secret)
            log.error("reload_failed error=%s keeping=previous_config", type(exc).__name__)
            return type(exc).__name__
        if self.schedule and new.paths.feeds != old.paths.feeds:
            try:  # as at the start: a folder it cannot write took every feed away (404)
                refuse_unwritable_feeds(new.paths.feeds)
            except (PublishError, OSError) as exc:  # OSError: a folder on the way it
                # cannot enter (Path.exists raises), which stopped the daemon
                why = str(exc) if isinstance(exc, PublishError) else f"{new.paths.feeds}: {exc}"
                use_format(old.log.format)
                log.error("reload_failed error=%r keeping=previous_config", why)
                return why
        if new.paths.state != old.paths.state:  # the store is open, its lock held
            log.warning("reload state_unchanged reason='restart to move the store'")
            self._kept.append("paths.state")
            new = dataclasses.replace(
                new, paths=dataclasses.replace(new.paths, state=old.paths.state)
            )
        if (new.serve.host, new.serve.port) != (old.serve.host, old.serve.port):
            # the socket is bound; the rest of [serve] (trusted_proxies, client_header,
            # metrics_token) is read per request and applies (it was all kept as it was)
            log.warning("reload serve_address_unchanged reason='restart to listen elsewhere'")
            self._kept.append("serve.host/serve.port")
            new = dataclasses.replace(
                new, serve=dataclasses.replace(new.serve, host=old.serve.host, port=old.serve.port)
            )
        if new.activitypub != old.activitypub:  # its key, routes and inbox are made at start
            log.warning("reload activitypub_unchanged reason='restart to apply [activitypub]'")
            self._kept.append("[activitypub]")
            new = dataclasses.replace(new, activitypub=old.activitypub)
        if self.activitypub is not None and new.site.base_url != old.site.base_url:
            # the actor's id, WebFinger account and key id are made at start from it
            log.warning(
                "reload activitypub_unchanged reason='the actor keeps its address until a "
                "restart: restart to move it with site.base_url'"
            )
            self._kept.append("the ActivityPub actor's address (site.base_url)")
        self.cfg = new
        if self.http is not None:  # a raised websub.max_body applies now (it took a restart)
            self.http.set_max_body(largest_body(new))
        if self.set_log_level:
            apply_log_level(new.log.level)
        use_format(new.log.format)
        if self.scheduler:
            try:
                register_endpoints(new, self.scheduler.ctx.store, time.time())
            except Exception as exc:  # the planner stamps them itself; never fatal here
                log.error("register_endpoints_failed error=%s", type(exc).__name__)
            # the jobs' store waits for the write lock as the new config says (it waited as
            # at the start: a raised store_wait said "reloaded", and scans kept failing)
            self.scheduler.ctx.store.set_wait(new.limits.store_wait)
            self.scheduler.ctx.cfg = new
            retry_corrected(old, new, self.scheduler.ctx.store)
            self.scheduler.load(job_table(new))
        if self.watcher:
            self.watcher.retarget(new.paths.sources)
        log.info("reloaded config=%s", new.path or "defaults")
        return None
