"""What each scheduled job did last: kept in the ``meta`` table as ``job:<name>`` rows.

The daemon writes one record per run (scan, poll, deliver); ``/healthz`` and the CLI
read them back. Living in SQLite, they survive restarts and are visible to
``scofeed serve`` running as another process.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass

from scofeed.store import put_meta

_PREFIX = "job:"


@dataclass(frozen=True)
class Run:
    name: str
    started: float  # epoch seconds
    finished: float
    ok: bool
    summary: str  # key=value facts of the outcome, or "" when it failed
    error: str | None = None
    last_ok: float | None = None  # when it last succeeded, failures included
    failures: int = 0  # consecutive failures up to this run


def record(db: sqlite3.Connection, run: Run) -> Run:
    """Store ``run``, carrying over ``last_ok`` and counting consecutive failures."""
    previous = get(db, run.name)
    if run.ok:
        full = Run(**{**asdict(run), "last_ok": run.finished, "failures": 0})
    else:
        full = Run(
            **{
                **asdict(run),
                "last_ok": previous.last_ok if previous else None,
                "failures": (previous.failures if previous else 0) + 1,
            }
        )
    put_meta(db, (_PREFIX + run.name, json.dumps(asdict(full), sort_keys=True)))
    return full


def get(db: sqlite3.Connection, name: str) -> Run | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (_PREFIX + name,)).fetchone()
    return _parse(row[0]) if row else None


def all_runs(db: sqlite3.Connection) -> list[Run]:
    rows = db.execute(
        "SELECT value FROM meta WHERE key >= ? AND key < ? ORDER BY key", (_PREFIX, "job;")
    )
    return [r for r in (_parse(row[0]) for row in rows) if r is not None]


def _parse(value: str) -> Run | None:
    try:
        return Run(**json.loads(value))
    except (ValueError, TypeError):
        return None  # a record from another version: ignore rather than fail health
