"""What one poll shares with each source it polls (``Run``), and each source's outcome
(``SourceResult``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from scofeed.config import Config, RemoteSource
from scofeed.config.redact import safe_url
from scofeed.errors import ScofeedError, StoreError, memory_ran_out, out_of_memory
from scofeed.model import Planner
from scofeed.pool import within_budget
from scofeed.sources.http import Fetcher, Response
from scofeed.store import Store, store_trouble

_T = TypeVar("_T")


@dataclass
class SourceResult:
    name: str
    kind: str
    status: str = "ok"  # ok | unchanged | error | skipped
    fetched: int = 0  # HTTP requests made
    new: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (origin, reason)
    repeats: int = 0  # of them, refused for that reason before (logged at DEBUG)
    error: str | None = None
    next_poll: datetime | None = None
    retry_after: str | None = None  # a 429 or 5xx's Retry-After: the next poll waits for it
    failures: int = 0  # polls of this source that failed in a row, this one included
    # the machine's trouble that failed the poll (the store, memory), not the source's:
    # the daemon's job fails with it, a line that stays the same while it lasts
    trouble: ScofeedError | None = None

    def summary(self) -> str:
        if self.status == "error":
            again = f" ({self.failures} polls in a row)" if self.failures > 1 else ""
            return f"error: {self.error}{again}"
        return (
            f"{self.status} fetched={self.fetched} new={self.new} updated={self.updated} "
            f"duplicates={self.duplicates} rejected={len(self.rejected)}"
        )

    def line(self) -> str:
        when = f" next={self.next_poll.isoformat(timespec='seconds')}" if self.next_poll else ""
        return f"{self.name} ({self.kind}): {self.summary()}{when}"


@dataclass(frozen=True)
class Run:
    """What one ``poll_due`` shares with each source it polls."""

    cfg: Config
    store: Store
    fetcher: Fetcher
    now: datetime
    force: bool
    planner: Planner | None

    def read(self, origin: str, reader: Callable[..., _T], *args: object) -> _T:
        """A reader's work on what was fetched, under the per-file time budget."""
        return within_budget(self.cfg.limits.file_seconds, origin, reader, *args)


def machine_trouble(run: Run, exc: BaseException, url: str) -> ScofeedError | None:
    """The machine's trouble in ``exc`` (the store, memory) as its one-line error, or
    None: a bug, or something the source sent that no reader foresaw."""
    if store_trouble(exc):  # as the daemon says it of every job's (``schedule``)
        return StoreError(f"{run.store.path}: {exc}")
    how = memory_ran_out(exc)
    return None if how is None else out_of_memory(how, safe_url(url))


def get(run: Run, src: RemoteSource, url: str, accept: tuple[str, ...], cond: bool) -> Response:
    return run.fetcher.get(
        url,
        accept=accept,
        timeout=src.timeout,
        max_bytes=src.max_bytes,
        delay=src.delay,
        conditional=cond,
    )
