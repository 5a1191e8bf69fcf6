"""status: is a daemon running, each source's last and next poll, each webhook
endpoint's state, and the rejected inputs."""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

from scofeed import reading
from scofeed.cli.activitypub import summary as activitypub_summary
from scofeed.cli.common import Subparsers, command, load_config_file, open_store, table
from scofeed.config import Config
from scofeed.config.redact import input_name
from scofeed.errors import StoreError, shown
from scofeed.store import pages as page_rows
from scofeed.store import published as published_rows
from scofeed.store import runs
from scofeed.store import status as status_rows
from scofeed.store import websub as websub_rows
from scofeed.store import withdrawals as withdrawal_rows
from scofeed.store.lock import lock_path, running
from scofeed.store.status import EndpointStatus, iso

DAY = 86400


def register(sub: Subparsers) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        "status",
        "show the daemon, sources, webhooks and rejected inputs",
        description="Show whether a daemon is running on this state store (pid, uptime), "
        "each of its jobs whose last run failed, and why, "
        "the store's size and entries (and whether its files were read by another version), "
        "each source's last poll, entries, next poll and last result, each webhook "
        "endpoint's state and pending / failed deliveries, the official pages rechecked for "
        "corrections and those now answering 404/410 (kept, not withdrawn), and the "
        "rejected inputs (one "
        "refused by `scofeed add` drops out once added fine, or after limits.reject_ttl "
        "days). Needs a config file: it never creates a state store from the defaults.",
    )
    p.set_defaults(func=cmd_status)


def span_text(seconds: float) -> str:
    """``45s``, ``12m 03s``, ``5h 07m``, ``3d 4h``."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < DAY:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // DAY}d {s % DAY // 3600}h"


def daemon_line(cfg: Config, now: float) -> str:
    try:
        found = running(cfg.paths.state)
    except StoreError as exc:  # the rest of the status is still worth showing
        return f"daemon: unknown ({exc})"
    if found is None:
        return f"daemon: not running (no `scofeed run` holds {lock_path(cfg.paths.state)})"
    pid, started = found.pid, found.started
    line = f"daemon: running, pid {pid if pid is not None else 'unknown'}"
    if started is not None:
        line += f", up {span_text(now - started)} (since {iso(started)})"
    return line


def store_line(path: Path, db: sqlite3.Connection) -> str:
    """The state store's file, its size on disk (its write-ahead log included: it holds
    what a checkpoint has not copied yet) and the entries published."""
    size = status_rows.size_on_disk(path)
    return f"store: {path}, {size / 1e6:.1f} MB, published entries: {published_rows.count(db)}"


def reading_line(db: sqlite3.Connection) -> str | None:
    """A line when the stored files were read by another scofeed's code (``reading``)."""
    if not reading.older(db):
        return None
    return f"reading: the stored files were read by another version of scofeed; {reading.HINT}"


def failing_lines(db: sqlite3.Connection, cfg: Config) -> list[str]:
    """A line for each of the daemon's jobs whose last run failed (a scan that cannot
    write feeds/, a poll, a delivery tick), as /healthz says: the sources' table shows
    the last scan that worked, and nothing said the feeds were no longer written. A
    source's poll is said only while the config polls it: removing a broken source,
    the fix, left its record failing for ever."""
    lines = []
    for run in runs.failing(runs.of_sources(runs.all_runs(db), cfg.polled())):
        times = f"{run.failures} runs in a row" if run.failures > 1 else "its last run"
        ok = f"last ok {iso(run.last_ok)}" if run.last_ok else "never ok"
        lines.append(
            f"failing: job {run.name}, {times}, last at {iso(run.finished)} ({ok}): "
            f"{shown(run.error or 'no error kept')}"
        )
    return lines


def endpoint_state(ep: EndpointStatus) -> str:
    if not ep.configured:
        return "not configured"
    if ep.disabled_at is not None:
        return f"disabled since {iso(ep.disabled_at)}: {ep.disabled_reason or 'no reason kept'}"
    r = ep.retrying
    if r is not None:
        tries = f"{r.attempts} attempt" + ("s" if r.attempts != 1 else "")
        return f"retrying since {iso(r.since)}: {r.last_error}, {tries}, next {iso(r.next_attempt)}"
    return "active"


def _next_poll(when: float | None, polled: bool, now: float) -> str:
    if not polled:
        return "-"
    if when is None or when <= now:
        return "now"
    return iso(when) or "-"


def official_pages(cfg: Config, db: sqlite3.Connection, now: float) -> None:
    """Recent official pages watched for corrections, and those now answering 404/410
    (kept, not withdrawn: a person decides)."""
    watched, due = page_rows.counts(db, now, now - cfg.recheck.days * DAY)
    gone = page_rows.gone(db)
    if not watched and not gone:
        return
    state = "" if cfg.recheck.enabled else " (recheck disabled: `scofeed recheck` runs it)"
    print(f"official pages: {watched} rechecked for corrections, {due} due{state}")
    if gone:
        print(f"official pages gone: {len(gone)} (entries kept)")
        rows = [["SINCE", "STATUS", "ENTRY", "PAGE"]]
        for p in gone:
            status = str(p.last_status) if p.last_status in page_rows.GONE else "?"
            rows.append([iso(p.gone_since) or "-", status, p.entry_id, shown(p.url)])
        table(rows)
    print()


def cmd_status(args: argparse.Namespace) -> int:
    # no config file, or no store under it: refuse rather than create one (run from the
    # wrong folder, it left an empty store there and said "not running")
    cfg, store = open_store(args, load_config_file(args), existing=True, reading=True)
    db = store.db
    now = time.time()
    states = [status_rows.local_source(db, str(cfg.paths.sources))]
    configured = [(s.name, s.kind, s.enabled) for s in cfg.sources]
    states += status_rows.remote_sources(db, configured)
    enabled = {s.name for s in cfg.sources if s.enabled}
    rows = [["SOURCE", "KIND", "LAST POLL", "ENTRIES", "NEXT POLL", "LAST RESULT", "LAST ERROR"]]
    for s in states:
        rows.append(
            [
                s.name,
                s.kind,
                s.last_poll or "never",
                "-" if s.entries is None else str(s.entries),
                _next_poll(s.next_poll, s.name in enabled, now),
                s.last_result or "-",
                s.last_error or "-",
            ]
        )
    table(rows)
    print()
    print(daemon_line(cfg, now))
    for line in failing_lines(db, cfg):
        print(line)
    print(store_line(cfg.paths.state, db))
    reread = reading_line(db)
    if reread:
        print(reread)
    print()
    endpoints = status_rows.endpoints(db, [h.name for h in cfg.webhooks])
    if endpoints:
        rows = [["WEBHOOK", "PENDING", "FAILED", "STATE"]]
        for ep in endpoints:
            rows.append([ep.name, str(ep.pending), str(ep.failed), endpoint_state(ep)])
        table(rows)
    else:
        print("webhooks: none configured")
    hub = websub_rows.counts(db)
    if cfg.websub.enabled or hub["subscriptions"]:
        print(
            f"\nwebsub hub: {hub['subscriptions']} subscription(s) on {hub['topics']} topic(s), "
            f"{hub['verifying']} awaiting verification, {hub['pending']} distribution(s) "
            f"pending ({hub['retrying']} retrying)"
        )
    if cfg.activitypub.enabled:
        print(activitypub_summary(db))
    withdrawn = withdrawal_rows.count_withdrawn(db)
    if withdrawn:
        print(f"\nwithdrawn entries: {withdrawn} (scofeed list --withdrawn)")
    print()
    official_pages(cfg, db, now)
    rejected = status_rows.rejected(db, now, cfg.limits.reject_ttl * DAY, cfg.polled())
    if not rejected:
        print("rejected inputs: none")
        return 0
    print(f"rejected inputs: {len(rejected)}")
    rows = [["AT", "SOURCE", "INPUT", "REASON"]]
    own = {s.url for s in cfg.sources}
    for r in rejected:
        kept = f" (last good version of {r.kept} still published)" if r.kept else ""
        rows.append([r.at, r.source, shown(input_name(r.origin, own)), shown(r.reason + kept)])
    table(rows)
    return 0
