"""What each scheduled job did last: kept in the ``meta`` table as ``job:<name>`` rows.

The daemon writes one record per run (scan, poll, deliver); ``/healthz`` and the CLI
read them back. Living in SQLite, they survive restarts and are visible to
``scofeed serve`` running as another process.

A run the store cannot take (locked by another process past the busy timeout, the
disk full) is held in this process's memory instead, and read back in place of the
stored one until a later record lands: /healthz then says the job failed, and why,
rather than what it last managed to write.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from dataclasses import asdict, replace

from scofeed.frozen import frozen
from scofeed.store import put_meta

POLL_PREFIX = "poll:"  # a source's poll job: "poll:NAME"

_PREFIX = "job:"
RELOAD_JOB = "reload"  # the daemon's last reload (SIGHUP, `scofeed reload`): a run too
BUILD_JOB = "build"  # the last `scofeed build` (a cron job beside `scofeed serve`)
SCAN_JOB = "scan"
# (store file, job name) -> its last run, when the store could not take it
_held: dict[tuple[str, str], Run] = {}


@frozen  # made once a job's run: no compiled methods (scofeed.frozen)
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
    key = (_file(db), run.name)
    try:
        put_meta(db, (_PREFIX + run.name, json.dumps(asdict(full), sort_keys=True)))
    except sqlite3.OperationalError:
        _held[key] = full  # read back by get() and all_runs() until a record lands
        raise
    _held.pop(key, None)
    return full


def forget(db: sqlite3.Connection, name: str) -> None:
    """Drop ``name``'s record (a daemon starting drops its last reload's)."""
    db.execute("DELETE FROM meta WHERE key = ?", (_PREFIX + name,))
    _held.pop((_file(db), name), None)


def get(db: sqlite3.Connection, name: str) -> Run | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (_PREFIX + name,)).fetchone()
    return _newer(_parse(row[0]) if row else None, _held.get((_file(db), name)))


def back_to(db: sqlite3.Connection, now: float) -> int:
    """Every recorded run dated after ``now`` (the wall clock was ahead when it ran, and
    is put right) dated ``now`` instead, in the caller's transaction: a clock jump is
    told once by the runs ahead of the clock (``daemon.clock_behind_store``); kept, the
    next of them, its job not run again since, told it at the next start as well, and
    the due times went back twice. How many."""
    moved = 0
    for run in all_runs(db):
        if run.finished > now:
            last_ok = None if run.last_ok is None else min(run.last_ok, now)
            fixed = replace(run, started=min(run.started, now), finished=now, last_ok=last_ok)
            put_meta(db, (_PREFIX + run.name, json.dumps(asdict(fixed), sort_keys=True)))
            _held.pop((_file(db), run.name), None)
            moved += 1
    return moved


def all_runs(db: sqlite3.Connection) -> list[Run]:
    rows = db.execute(
        "SELECT value FROM meta WHERE key >= ? AND key < ? ORDER BY key", (_PREFIX, "job;")
    )
    found = {r.name: r for r in (_parse(row[0]) for row in rows) if r is not None}
    file = _file(db)
    for (held_file, name), run in list(_held.items()):  # other threads record meanwhile
        stored = found.get(name)
        if held_file == file and (stored is None or stored.finished < run.finished):
            found[name] = run
    return [found[name] for name in sorted(found)]


def of_sources(every: list[Run], polled: Collection[str]) -> list[Run]:
    """The runs of ``every`` but the polls of a source no longer ``polled`` (removed
    from the config, or disabled): removing a broken source, the fix, left its last
    poll failing for ever, in /healthz, /metrics and ``scofeed status``."""
    return [
        r
        for r in every
        if not r.name.startswith(POLL_PREFIX) or r.name.removeprefix(POLL_PREFIX) in polled
    ]


def failing(every: list[Run]) -> list[Run]:
    """The runs of ``every`` (``all_runs``) that failed and are not past: a failed
    ``scofeed build`` is, once the daemon's scan has worked since (it did the work)."""
    scan = next((r for r in every if r.name == SCAN_JOB), None)
    return [
        r
        for r in every
        if not r.ok
        and not (
            r.name == BUILD_JOB and scan is not None and scan.ok and scan.finished > r.finished
        )
    ]


def feeds_run(every: list[Run]) -> Run | None:
    """The run that says whether the feeds are being written: the daemon's scan, else
    (``scofeed serve`` beside a cron job) the last ``scofeed build``."""
    by_name = {r.name: r for r in every}
    return by_name.get(SCAN_JOB) or by_name.get(BUILD_JOB)


def _newer(stored: Run | None, held: Run | None) -> Run | None:
    if held is None or (stored is not None and stored.finished >= held.finished):
        return stored
    return held


def _file(db: sqlite3.Connection) -> str:
    """The store's file, as SQLite names it (the key of the runs held in memory)."""
    return str(db.execute("PRAGMA database_list").fetchone()[2])


def _parse(value: str) -> Run | None:
    try:
        return Run(**json.loads(value))
    except (ValueError, TypeError):
        return None  # a record from another version: ignore rather than fail health
