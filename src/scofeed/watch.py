"""Quick pickup: watch sources/ with watchdog and ask for a scan soon after a change.

Events are debounced (a burst of writes makes one scan, at most ``max_delay`` after
the first event). Only writes, creations, moves and deletions count: the scan itself
opens and reads files, and those events must not trigger another scan. The interval
scan stays the fallback: when watching is impossible (no inotify watches left, the
folder missing) the daemon still picks up changes, only later.
"""

from __future__ import annotations

import contextlib
import logging
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.utils import BaseThread

from scofeed.errors import memory_ran_out
from scofeed.sources.files import temporary

log = logging.getLogger(__name__)

_COUNTED = {"created", "modified", "moved", "deleted", "closed"}
# what the watch asks the kernel for: those kinds, not a file or folder opened or closed
# unwritten (watchdog's default). Every listing of a folder (a scan's, watchdog's own
# walk) opens and closes it: with ~5,000 folders under sources/ each walk overflowed
# inotify's queue, whose recovery walked the tree again, five times a second for good
_WATCHED = [
    FileCreatedEvent, DirCreatedEvent, FileDeletedEvent, DirDeletedEvent, FileMovedEvent,
    DirMovedEvent, FileModifiedEvent, FileClosedEvent,
]  # fmt: skip
# why ``ensure`` arms the watch, when it is not a failure to report
_UNARMED = "not watched yet"
_REPLACED = "another folder is at the path now"
MEMORY_PAUSE = 300.0  # seconds between tries to arm the watch while memory is short


def relevant(event: FileSystemEvent) -> bool:
    """Whether an event may change what a scan finds (hidden and temp files never do)."""
    if event.event_type not in _COUNTED:
        return False
    if event.is_directory and event.event_type == "modified":
        return False
    paths = [event.src_path, getattr(event, "dest_path", "") or ""]
    for p in paths:
        name = Path(str(p)).name
        if name and not name.startswith(".") and not temporary(name):
            return True
    return False


class _Handler(FileSystemEventHandler):
    def __init__(self, poke: Callable[[], None]) -> None:
        self._poke = poke
        self.failed: BaseException | None = None  # what ended the observer's thread, if so

    def on_any_event(self, event: FileSystemEvent) -> None:
        try:
            if relevant(event):
                self._poke()
        except BaseException as exc:
            # it ends the thread, quietly: Python prints a thread's traceback for all
            # but SystemExit, beside the one line ``ensure`` says of it as it re-arms
            self.failed = exc
            raise SystemExit(1) from None


class SourceWatcher:
    def __init__(
        self,
        root: Path,
        on_change: Callable[[], None],
        debounce: float = 0.3,
        max_delay: float = 3.0,
    ) -> None:
        self.root = root
        self.on_change = on_change
        self.debounce = debounce
        self.max_delay = max_delay
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._first: float | None = None
        self._observer: BaseObserver | None = None
        self._handler: _Handler | None = None  # the observer's, to tell why its thread ended
        self._watched: tuple[int, int] | None = None  # (device, inode) of the folder armed
        self._unavailable: str | None = None  # why the last try to arm failed, if it did
        self._threads: tuple[threading.Thread, ...] = ()  # the watch's own, but the observer
        self._pause_until = 0.0  # time.monotonic() before which no try is made

    def start(self) -> None:
        self.ensure(rescan=False)  # the daemon scans at start anyway

    def ensure(self, rescan: bool = True) -> None:
        """(Re)arm the watch when the folder exists and nothing is watching it, the
        watch is on another folder than the one there now, or the watch is dead.

        sources/ renamed away and made again, or a filesystem on it unmounted and
        another mounted, left the watch alive on the old one (or on nothing). The
        observer's own thread, which hands each event to the handler, ended (a handler
        raised, or it was stopped) while its emitters lived on: events were queued and
        never handed on; or the thread reading inotify ended, and the emitters waited
        for nothing. Either way new files waited for the interval scan with no word.
        Re-armed on a watch that had failed, it says why in one WARNING line.
        Armed on a folder made or put in place since, or on one whose watch had failed
        (``rescan``), it asks for a scan at once: what the folder already held (one
        full of releases renamed in as sources/, files written while the watch was
        dead) arrived unseen, and waited for the interval scan too."""
        here = _identity(self.root)
        fault = self._fault(here)
        if fault is None:
            return
        self._stop_observer()
        if here is None:
            return
        if time.monotonic() < self._pause_until:
            return  # memory was short at the last try (see below)
        handler = _Handler(self.poke)
        before = set(threading.enumerate())
        observer: BaseObserver | None = None
        try:
            # watchdog >= 7 opens inotify and starts its reader thread here already: a
            # spent inotify or open-files limit raised out of this line, past the
            # fallback below, and the daemon stopped (at start, or in its loop)
            observer = Observer()
            observer.schedule(handler, str(self.root), recursive=True, event_filter=_WATCHED)
            observer.daemon = True
            observer.start()
        except (OSError, RuntimeError) as exc:
            short = memory_ran_out(exc)
            if isinstance(exc, RuntimeError) and short is None:
                raise
            if observer is not None:  # what of it started: its emitters, its reader
                with contextlib.suppress(Exception):
                    observer.stop()
            if short is not None:
                # no thread to start (memory short: ``ulimit -v``): the loop ended with
                # the traceback. A reader that could not start keeps its inotify
                # descriptors (watchdog's, out of reach), so the next try waits longer
                self._pause_until = time.monotonic() + MEMORY_PAUSE
            # tried again every 5 s (``ensure``): said once while the reason stays the
            # same; a WARNING each time was 17,000 lines a day under a spent inotify limit
            again = str(exc) == self._unavailable
            self._unavailable = str(exc)
            log.log(
                logging.DEBUG if again else logging.WARNING,
                "watch_unavailable path=%s error=%r fallback=interval", self.root, str(exc),
            )  # fmt: skip
            return
        # every thread the watch started (its reader, emitters), for ``_fault``
        self._threads = tuple(
            t for t in threading.enumerate()
            if isinstance(t, BaseThread) and t not in before and t is not observer
        )  # fmt: skip
        self._observer = observer
        self._handler = handler
        self._watched = here
        self._unavailable = None
        if fault == _UNARMED:
            log.info("watching path=%s", self.root)
        else:
            level = logging.INFO if fault == _REPLACED else logging.WARNING
            log.log(level, "watch_rearmed path=%s reason=%r", self.root, fault)
        if rescan:
            self.poke()

    def _fault(self, here: tuple[int, int] | None) -> str | None:
        """Why the watch must be armed again, or None while it is sound."""
        observer = self._observer
        if observer is None:
            return _UNARMED
        if here != self._watched:
            return _REPLACED
        if observer.stopped_event.is_set():
            return "the observer thread was stopped; events since were not handed on"
        if not observer.is_alive():
            failed = self._handler.failed if self._handler is not None else None
            if failed is not None:
                return (
                    f"the observer thread died ({type(failed).__name__}: {failed}); "
                    "events since were not handed on"
                )
            return "the observer thread ended; events since were not handed on"
        for thread in self._threads:  # its inotify reader, its emitters
            if not thread.is_alive():
                name = type(thread).__name__
                return f"the watch's {name} thread ended; changes since were not seen"
        return None

    def retarget(self, root: Path) -> None:
        if root != self.root:
            self._stop_observer()
            self.root = root
            self.ensure()

    def poke(self) -> None:
        """Note a change: fire ``on_change`` once things settle (debounced, capped).
        With no thread to wait in (memory short: ``ulimit -v``), at once: the "can't
        start new thread" killed the watch's own thread, and quick pickup with it."""
        with self._lock:
            now = time.monotonic()
            if self._first is None:
                self._first = now
            fire_at = min(now + self.debounce, self._first + self.max_delay)
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(max(0.0, fire_at - now), self._fire)
            self._timer.daemon = True
            try:
                self._timer.start()
                return
            except RuntimeError as exc:
                if memory_ran_out(exc) is None:
                    raise
        log.debug("watch_timer_unavailable path=%s: the scan is asked for at once", self.root)
        self._fire()

    def _fire(self) -> None:
        with self._lock:
            self._first = None
            self._timer = None
        log.debug("sources_changed path=%s", self.root)
        self.on_change()

    def _stop_observer(self) -> None:
        if self._observer is not None:
            try:
                self._observer.stop()
                self._observer.join(timeout=2)
            except Exception as exc:  # a dead emitter may complain on stop
                log.debug("watch_stop_error error=%r", str(exc))
            self._observer = None
            self._handler = None
            self._threads = ()
            self._watched = None

    def stop(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._stop_observer()


def _identity(folder: Path) -> tuple[int, int] | None:
    """The folder's (device, inode), or None when it is not a folder now."""
    try:
        st = folder.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None
