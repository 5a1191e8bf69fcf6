"""Preparing changed files for the build: read, parse and normalise each one, in this
process or, for a large batch (a cold build), in a pool of forked worker processes.

Preparing is pure apart from reading the file: the result of each file is its releases
with their entries, or a ``Rejection`` saying why not. Nothing here touches the store;
``scofeed.build`` stores the results in order as they come.

``concurrent.futures``, ``multiprocessing`` and the process pool (~20 ms of imports)
load by name (``importlib``) only when a batch is large enough for workers, on purpose: a
one-shot ``scofeed build`` of a few files and the daemon's rebuilds never need them
(issue #9).

The worker processes die with their parent, even when it is killed with SIGKILL
(Linux: ``prctl(PR_SET_PDEATHSIG)``; elsewhere they exit at their next task once
their parent is gone), and they hold /dev/null, not the parent's stdin, stdout and
stderr: a caller reading the build's output sees it end when the build does.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

from scofeed import sources
from scofeed.errors import (
    NormaliseError,
    OverTimeBudget,
    RejectedInput,
    memory_ran_out,
    out_of_memory,
    unexpected,
)
from scofeed.frozen import frozen
from scofeed.model import Entry, Release
from scofeed.normalise import Settings, normalise
from scofeed.sources import files as scanner

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

log = logging.getLogger(__name__)

POOL_MIN_FILES = 400  # below this, starting worker processes costs more than it saves
POOL_CHUNK = 200  # files a worker prepares per task
READ_AHEAD_BYTES = 4 << 20  # files a worker reads before parsing them (see prepare_many)
FILE_SECONDS = 5.0  # the default per-file time budget (limits.file_seconds)


@frozen
class Rejection:
    """A file (or input) refused, and why."""

    origin: str
    reason: str
    kept: str | None = None  # entry id whose last good version stays published
    earlier: bool = False  # refused by an earlier build, not changed since: still refused


Outcome = list[tuple[Release, Entry]] | Rejection
Prepared = tuple[scanner.Changed, Outcome]
# what a worker sends back for each file: digest, size and mtime of what it read, outcome
Done = tuple[str, int, int, Outcome]

_T = TypeVar("_T")
_A = TypeVar("_A")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large batch is prepared and stored (the
    workers fork with it off too): the records made are acyclic, and the collector
    kept re-scanning them, ~15% of the time spent unpickling results."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _without(obj: _T, **changes: object) -> _T:
    """``dataclasses.replace`` for the plain frozen records here (no __post_init__, no
    slots), without re-running __init__: a cold build strips every file's records."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new


PR_SET_PDEATHSIG = 1


def _worker_init(parent: int) -> None:
    """In each worker as it starts: die with the parent, let go of its stdio."""
    if sys.platform.startswith("linux"):
        try:
            ctypes = importlib.import_module("ctypes")  # in workers only, like multiprocessing
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _watched(parent: int, fn: Callable[..., _T], *args: object) -> _T:
    """Run a task, unless the parent is gone (platforms without PDEATHSIG)."""
    if os.getppid() != parent:
        os._exit(1)
    return fn(*args)


def worker_pool(workers: int) -> ProcessPoolExecutor:
    """Forked worker processes that die with this one and hold none of its stdio.
    OpenSSL's SHA-256 is loaded first: each worker hashes thousands of files, and
    would load it after its first few (``scofeed.digest``), each at its own cost."""
    importlib.import_module("hashlib")
    ctx = importlib.import_module("multiprocessing").get_context("fork")  # see the docstring
    return importlib.import_module("concurrent.futures").ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),)
    )


def fan_out(fn: Callable[..., _T], first: object, batches: list[_A]) -> list[_T]:
    """``fn(first, batch)`` for every batch, on every core when there are several
    batches and cores and this process has no other thread (fork is safe); else here."""
    workers = min(os.cpu_count() or 1, 8, len(batches))
    if workers < 2 or threading.active_count() != 1:
        return [fn(first, b) for b in batches]
    me = os.getpid()
    with contextlib.ExitStack() as stack:
        jobs = started(workers, [(_watched, (me, fn, first, b)) for b in batches], stack)
        if jobs is None:
            return [fn(first, b) for b in batches]
        return [job.result() for job in jobs]


def started(
    workers: int,
    calls: list[tuple[Callable[..., _T], tuple[object, ...]]],
    stack: contextlib.ExitStack,
) -> list[Future[_T]] | None:
    """Each call handed to a pool of ``workers`` (shut down when ``stack`` closes); None
    when the workers cannot be started (no process, thread or pipe to be had: a pids
    limit such as systemd's TasksMax, a low open-files limit): said in one line, the
    workers that did start are killed, and the caller does the work in this process.
    It was a traceback, and the workers already started waited for work for ever, and
    the process at its exit with them."""
    try:
        pool = worker_pool(workers)
    except OSError as exc:
        _unavailable(exc)
        return None
    try:  # the first submit forks the workers, then starts the pool's own thread
        jobs = [pool.submit(fn, *args) for fn, args in calls]
    except BaseException as exc:  # whatever it was, no started worker is left waiting
        for child in importlib.import_module("multiprocessing").active_children():
            child.kill()  # the pool's, which wait for work that never comes
            child.join(5)
        pool.shutdown(wait=False, cancel_futures=True)  # (its thread may never have run)
        refused = isinstance(exc, OSError) or (
            isinstance(exc, RuntimeError) and memory_ran_out(exc) is not None
        )
        if not refused:
            raise
        _unavailable(exc)
        return None
    stack.callback(pool.shutdown, wait=True, cancel_futures=True)
    return jobs


def _unavailable(exc: BaseException) -> None:
    log.warning("worker_processes_unavailable error=%r: working in this process", str(exc))


def interrupted_after(seconds: float, fn: Callable[..., _T], *args: object) -> _T:
    """``fn(*args)``, interrupted with ``OverTimeBudget`` after ``seconds`` and again
    every tenth of the budget until it returns: by SIGALRM in a process's main thread
    (``scofeed build``, a worker process, ``scofeed add``), by this thread's watchdog
    elsewhere (the daemon's scan, poll and recheck jobs). Either takes effect at the
    next Python instruction, so a long call into C (lxml, nh3) ends first; ``prepare``
    also rejects by the clock, for that.

    A function, not a context manager, on purpose: the deadline is cleared by the first
    instruction of the ``finally`` in the frame that called ``fn``, where no interruption
    can land before it. A context manager's ``__exit__`` is a call of its own, and one
    landing as it began skipped the clearing: the deadline stayed, and the process went
    on being interrupted after the file (``scofeed add`` with a tiny budget died of its
    own alarm at exit)."""
    if seconds <= 0:
        return fn(*args)
    if threading.current_thread() is not threading.main_thread():
        watchdog = getattr(_local, "watchdog", None)
        if watchdog is None:
            watchdog = _local.watchdog = Watchdog(threading.current_thread())
        try:
            watchdog.start(seconds)
            return fn(*args)
        finally:
            watchdog.due = None  # first: a plain store, after which it fires no more
            time.sleep(0)  # one it fired before lands here at the latest, ending the call
    if not _clock.ticking:  # one file alone: a clock of its own, stopped after the
        with ticking(seconds):  # deadline is cleared, so no tick can land in its exit
            return interrupted_after(seconds, fn, *args)
    _clock.deadline = time.monotonic() + seconds
    try:
        return fn(*args)
    finally:
        _clock.deadline = None  # first, as above


TICKS = 10  # a clock ticks this many times in one file's budget
TICK_FLOOR = 0.002  # and no oftener than this: a budget of 0.5 ms flooded it with signals


class _Clock:
    """The main thread's clock while it prepares files (``ticking``)."""

    ticking = False
    deadline: float | None = None  # of the file being prepared (time.monotonic)


_clock = _Clock()


def _tick(_signum: int, _frame: object) -> None:
    """Interrupt the file past its deadline, on every tick until ``interrupted_after``
    clears the deadline: an interruption can land where it is swallowed (a gc callback,
    a parser's own ``except Exception``), and the file would then run to its end."""
    deadline = _clock.deadline
    if deadline is not None and time.monotonic() >= deadline:
        raise OverTimeBudget  # ``prepare`` names the file and its budget


def _every(seconds: float) -> float:
    return max(seconds / TICKS, TICK_FLOOR)


class _Quiet:
    """``sys.unraisablehook`` that drops an ``OverTimeBudget`` and hands on the rest.
    An interruption landing where Python cannot raise it (a weakref or gc callback, a
    ``__del__``) is "ignored" there, printed with its traceback on stderr, the daemon's
    log: a hostile file printed one for each, and the next tick interrupts the file
    again anyway."""

    def __init__(self, previous: Callable[[sys.UnraisableHookArgs], object]) -> None:
        self.previous = previous

    def __call__(self, unraisable: sys.UnraisableHookArgs) -> None:
        if not isinstance(unraisable.exc_value, OverTimeBudget):
            self.previous(unraisable)


def _quietly() -> None:
    """Install ``_Quiet`` over the hook there is, once."""
    if not isinstance(sys.unraisablehook, _Quiet):
        sys.unraisablehook = _Quiet(sys.unraisablehook)


@contextlib.contextmanager
def ticking(seconds: float) -> Iterator[None]:
    """While files are prepared in the main thread (a batch, or one alone): SIGALRM
    every tenth of ``seconds``, and a tick past the current file's deadline interrupts
    it (``interrupted_after`` sets and clears the deadline). A file over budget is
    interrupted within a tenth of the budget after it; a tick between files does
    nothing. Arming a timer for each file instead (two system calls, two signal
    handler swaps) was ~8% of a worker's time."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    _quietly()
    old = signal.signal(signal.SIGALRM, _tick)
    try:  # from here on: a Ctrl-C landing as the timer is armed leaves none armed
        signal.setitimer(signal.ITIMER_REAL, _every(seconds), _every(seconds))
        _clock.ticking = True
        yield
    finally:
        _clock.deadline = None
        _clock.ticking = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


_local = threading.local()  # the Watchdog of each thread that prepares files


class Watchdog:
    """One daemon thread that interrupts one other thread's file when it runs past its
    deadline, with ``OverTimeBudget``, and again every tenth of the budget until the
    file is done (an interruption can be swallowed where it lands, as with ``_tick``).
    Starting a file costs a lock, not a thread: the watchdog is woken only when it was
    idle, and otherwise wakes at the old time, sees the new one and sleeps on.

    The thread watched ends a file by storing None in ``due`` and making one call: the
    watchdog fires only while ``due`` is still the deadline it read, tested with no call
    between the test and the firing (so no switch to the thread watched), and an
    interruption fired lands at that thread's next call. The thread watched never takes
    the watchdog's lock as a file ends: an interruption landing just after it took the
    lock (in ``Condition.__enter__``) left it held for good, the watchdog stuck and the
    thread without a budget. Nor is one fired ever cancelled: on CPython 3.11 the API's
    way (NULL) left every thread's eval loop flagged for good, and a thread under a
    trace function (a debugger, coverage) then hung at its next call."""

    def __init__(self, owner: threading.Thread) -> None:
        self.owner = owner
        self.thread_id = owner.ident or threading.get_ident()
        ctypes = importlib.import_module("ctypes")  # in threads that prepare files only
        # CPython's documented C API for this: raise the exception in that thread at its
        # next Python instruction. Bound here, so firing is one call into C, no Python
        self._fire = functools.partial(
            ctypes.pythonapi.PyThreadState_SetAsyncExc,
            ctypes.c_ulong(self.thread_id),
            ctypes.py_object(OverTimeBudget),
        )
        _quietly()
        self._cond = threading.Condition()
        self.due: float | None = None  # when to interrupt next (time.monotonic)
        self._again = 0.0  # and after that, every this many seconds
        self._idle = True
        self._until = 0.0  # the deadline the watchdog is asleep until (while not idle)
        threading.Thread(target=self._watch, name="scofeed-file-budget", daemon=True).start()

    def start(self, seconds: float) -> None:
        with self._cond:
            self._again = _every(seconds)
            self.due = time.monotonic() + seconds
            # asleep with nothing to watch, or until a later deadline than this one (the
            # file before had a longer budget: a config reload lowered it)
            if self._idle or self.due < self._until:
                self._cond.notify()

    def _watch(self) -> None:
        with self._cond:
            while True:
                due = self.due
                self._idle = due is None
                if due is None:
                    if not self._cond.wait(30) and not self.owner.is_alive():
                        return  # the thread it watched is gone
                    continue
                now = time.monotonic()
                if due > now:
                    self._until = due
                    self._cond.wait(due - now)
                    continue
                if self.due is due:  # no call from this test into the firing
                    self._fire()
                    if self.due is due:  # nor from this one to the store
                        self.due = now + self._again


def within_budget(seconds: float, origin: str, read: Callable[..., _T], *args: object) -> _T:
    """``read(*args)`` (a polled feed, listing or page read) under the per-file time
    budget: past it, refused as a file is, ``RejectedInput`` for ``origin``. A feed item
    of 16,000 categories (feedparser checks each against those before it) took ~2.4 s,
    80,000 (2 MB) ~170 s, in the daemon's poll job with no budget. As ``prepare``, it
    also refuses by the clock: feedparser swallows the interruption and answers with
    what it had read ("not a feed", or a feed cut short)."""
    start = time.monotonic()

    def past() -> bool:
        return seconds > 0 and time.monotonic() - start > seconds

    try:
        done = interrupted_after(seconds, read, *args)
    except OverTimeBudget:
        raise RejectedInput(origin, over_budget(seconds)) from None
    except Exception as exc:
        # an interruption landing in a library's own ``except`` can come out as another
        # error of its (an import compiling a regular expression: ``re.error``)
        if past() and memory_ran_out(exc) is None:
            raise RejectedInput(origin, over_budget(seconds)) from None
        raise
    if past():
        raise RejectedInput(origin, over_budget(seconds))
    return done


def over_budget(seconds: float) -> str:
    return f"took longer than {seconds:g}s"


def prepare(
    item: scanner.Changed,
    settings: Settings,
    max_bytes: int,
    now: datetime,
    seconds: float = FILE_SECONDS,
) -> Prepared:
    """Read, parse and normalise one changed file: pure apart from reading it. Parsing
    and normalising get ``seconds`` at most (the per-file time budget)."""
    item = scanner.loaded(item, max_bytes)
    if item.error or item.data is None:
        return item, Rejection(item.rel, item.error or "unreadable")
    name = item.rel.rsplit("/", 1)[-1]
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    start = time.monotonic()
    try:
        outcome: Outcome = interrupted_after(
            seconds, _read_and_normalise, item, suffix, settings, max_bytes, now
        )
    except OverTimeBudget:  # raised by a watchdog or a batch's clock
        outcome = Rejection(item.rel, over_budget(seconds))
    except RejectedInput as exc:
        outcome = Rejection(item.rel, exc.reason)
    except NormaliseError as exc:
        outcome = Rejection(item.rel, str(exc).removeprefix(item.rel + ": "))
    except Exception as exc:  # noqa: BLE001 - any failure on one file rejects that file only
        # RecursionError, UnicodeError, a parser's bug: the build goes on. Memory running
        # out is the machine's trouble (a file is at most limits.max_file_bytes): the
        # build stops there, naming the file, which is read again by the next one
        # (quarantined, a good release stayed out of the feeds until it was edited)
        how = memory_ran_out(exc)
        if how is not None:
            raise out_of_memory(how, item.rel) from None
        outcome = Rejection(item.rel, unexpected(exc))
    if seconds > 0 and time.monotonic() - start > seconds:  # not interrupted, still over
        outcome = Rejection(item.rel, over_budget(seconds))
    return _without(item, data=None), outcome


def _read_and_normalise(
    item: scanner.Changed, suffix: str, settings: Settings, max_bytes: int, now: datetime
) -> list[tuple[Release, Entry]]:
    assert item.data is not None
    releases = sources.read(item.rel, suffix, item.data, item.mtime, max_bytes)
    # only what ingest needs travels on: the raw text and file date stay behind
    return [
        (
            _without(r, text="", html=None, context_date=None),
            _without(normalise(r, settings, now), paragraphs=()),
        )
        for r in releases
    ]


def prepare_many(
    items: list[scanner.Changed],
    settings: Settings,
    max_bytes: int,
    now: datetime,
    read_ahead: int = READ_AHEAD_BYTES,
    seconds: float = FILE_SECONDS,
) -> Iterator[Prepared]:
    """``prepare`` each item in turn, reading several files (up to ``read_ahead`` bytes)
    before parsing any: parsing right after a file's system calls ran ~6% slower
    (caches cold from the kernel), so the calls are bunched."""
    batch: list[scanner.Changed] = []
    held = 0
    with ticking(seconds):
        for n, item in enumerate(items, start=1):
            item = scanner.loaded(item, max_bytes)
            batch.append(item)
            held += len(item.data or b"")
            if held >= read_ahead or n == len(items):
                for ready in batch:
                    yield prepare(ready, settings, max_bytes, now, seconds)
                batch, held = [], 0


def _prepare_chunk(
    items: list[scanner.Changed],
    settings: Settings,
    max_bytes: int,
    now: datetime,
    read_ahead: int,
    seconds: float,
) -> list[Done]:
    """In a worker: each file's outcome and what reading it found. The item itself is
    not sent back: the parent still holds it."""
    return [
        (done.sha256, done.size, done.mtime_ns, outcome)
        for done, outcome in prepare_many(items, settings, max_bytes, now, read_ahead, seconds)
    ]


def prepare_all(
    items: list[scanner.Changed],
    settings: Settings,
    max_bytes: int,
    now: datetime,
    progress: Callable[[int, int], None] | None,
    stack: contextlib.ExitStack,
    min_files: int = POOL_MIN_FILES,
    chunk: int = POOL_CHUNK,
    read_ahead: int = READ_AHEAD_BYTES,
    seconds: float = FILE_SECONDS,
) -> Iterator[Prepared]:
    """Prepare every changed file, in order; a batch of ``min_files`` or more uses every
    core, and its results can be consumed while the rest are still being prepared
    (the worker pool is shut down when ``stack`` closes)."""
    workers = min(os.cpu_count() or 1, 8)

    def here() -> Iterator[Prepared]:
        out = []
        for prepared in prepare_many(items, settings, max_bytes, now, read_ahead, seconds):
            out.append(prepared)
            if progress:
                progress(len(out), len(items))
        return iter(out)

    # fork is cheap and re-imports nothing, but is only safe with no other threads
    # (the daemon has some): there the batch is prepared in this process, up front
    alone = threading.active_count() == 1
    if len(items) < min_files or workers < 2 or not alone:
        return here()
    chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    me = os.getpid()
    args = (settings, max_bytes, now, read_ahead, seconds)
    jobs = started(workers, [(_watched, (me, _prepare_chunk, c, *args)) for c in chunks], stack)
    if jobs is None:
        return here()
    return _collect(list(zip(chunks, jobs, strict=True)), len(items), progress)


def _collect(
    jobs: list[tuple[list[scanner.Changed], Future[list[Done]]]],
    total: int,
    progress: Callable[[int, int], None] | None,
) -> Iterator[Prepared]:
    done = 0
    for items, job in jobs:
        for item, (digest, size, mtime_ns, outcome) in zip(items, job.result(), strict=True):
            yield _without(item, data=None, sha256=digest, size=size, mtime_ns=mtime_ns), outcome
        done += len(items)
        if progress:
            progress(done, total)
