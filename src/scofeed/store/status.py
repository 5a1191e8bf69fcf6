"""What ``scofeed status`` and ``scofeed webhook list`` show: each source's last and next
poll, the quarantine, and each webhook endpoint's state and delivery counts."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from scofeed.errors import shown
from scofeed.store import deliveries as delivery_rows
from scofeed.store import files as file_rows
from scofeed.store.trouble import beside

ADD = "add"  # the quarantine's source name for inputs refused by ``scofeed add``
LOCAL = "local"  # and for files in sources/ a build refused


@dataclass(frozen=True)
class SourceStatus:
    name: str
    kind: str
    last_poll: str | None  # RFC 3339
    last_result: str | None
    last_error: str | None
    entries: int | None  # None when the store cannot tell
    next_poll: float | None = None  # Unix time the store says it is due; None: at once


@dataclass(frozen=True)
class EndpointStatus:
    name: str
    configured: bool
    disabled_at: float | None
    disabled_reason: str | None
    pending: int
    failed: int
    delivered: int
    # the oldest pending delivery once an attempt at it failed: every other one waits
    # behind it, so this is the endpoint's state (a receiver down for a day)
    retrying: Retrying | None = None


@dataclass(frozen=True)
class Retrying:
    since: float  # its first attempt
    attempts: int
    last_error: str
    next_attempt: float | None


@dataclass(frozen=True)
class Rejected:
    origin: str
    source: str
    reason: str
    at: str  # RFC 3339, UTC
    kept: str | None


def size_on_disk(path: Path) -> int:
    """The store file's size with its write-ahead log (it holds what a checkpoint has
    not copied yet)."""
    size = 0
    for part in (path, beside(path, "-wal")):
        try:
            size += os.path.getsize(part)
        except OSError:  # no WAL right now (checkpointed and removed at close)
            pass
    return size


def iso(ts: float | None) -> str | None:
    """A stored Unix time as RFC 3339 in UTC, to the second (None stays None)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")


def local_source(db: sqlite3.Connection, folder: str) -> SourceStatus:
    meta = dict(
        db.execute(
            "SELECT key, value FROM meta WHERE key IN (?, ?)",
            (file_rows.LAST_SCAN, file_rows.LAST_RESULT),
        )
    )
    entries = db.execute(
        "SELECT COUNT(DISTINCT entry_id) FROM entry_origins "
        "WHERE origin NOT LIKE '%://%' AND origin NOT LIKE '<%'"
    ).fetchone()[0]
    rejects = file_rows.rejects(db, "local")  # newest first
    error = None
    if rejects:
        latest = rejects[0]
        error = (
            f"{len(rejects)} rejected; latest {shown(latest['origin'])}: {shown(latest['reason'])}"
        )
    return SourceStatus(
        name=f"local ({folder})",
        kind="folder",
        last_poll=meta.get(file_rows.LAST_SCAN),
        last_result=meta.get(file_rows.LAST_RESULT),
        last_error=error,
        entries=int(entries),
    )


def remote_sources(
    db: sqlite3.Connection, configured: Sequence[tuple[str, str, bool]] = ()
) -> list[SourceStatus]:
    """Every configured source (``(name, kind, enabled)``, in config order), polled or
    not yet, then any source the store remembers that is no longer configured."""
    rows = {
        r["name"]: r
        for r in db.execute(
            "SELECT name, kind, last_poll, next_poll, last_result, last_error, entries, "
            "failures FROM sources"
        )
    }
    out: list[SourceStatus] = []
    for name, kind, enabled in configured:
        r = rows.pop(name, None)
        if r is None:
            result = "not polled yet" if enabled else "disabled"
            out.append(SourceStatus(name, kind, None, result, None, 0))
            continue
        result = r["last_result"]
        if r["failures"] > 1:  # the next poll is backed off (poll_times.backoff)
            result += f" ({r['failures']} polls in a row)"
        result = result if enabled else f"disabled; last: {result}"
        out.append(
            SourceStatus(
                name,
                kind,
                iso(r["last_poll"]),
                result,
                r["last_error"],
                r["entries"],
                r["next_poll"] if enabled else None,
            )
        )
    for name in sorted(rows):
        r = rows[name]
        out.append(
            SourceStatus(
                name,
                r["kind"],
                iso(r["last_poll"]),
                f"not configured; last: {r['last_result']}",
                r["last_error"],
                r["entries"],
            )
        )
    return out


def rejected(
    db: sqlite3.Connection,
    now: float | None = None,
    add_ttl: float | None = None,
    polled: Collection[str] | None = None,
) -> list[Rejected]:
    """The quarantine, newest first. An input refused by ``scofeed add`` lies outside
    sources/, so no scan ever finds it fixed: it drops out once a later ``add`` of it
    succeeds (``add`` clears it) or, given ``now`` and ``add_ttl`` (seconds), once it is
    older than that. Local files and remote pages stay until fixed or gone, and, given
    the sources ``polled``, those of a source no longer polled (removed or disabled:
    no poll will find them fixed) are left out."""
    cutoff = None if now is None or add_ttl is None else now - add_ttl
    return [
        Rejected(r["origin"], r["source"], r["reason"], iso(r["at"]) or "", r["kept"])
        for r in file_rows.rejects(db)
        if (cutoff is None or r["source"] != ADD or r["at"] >= cutoff)
        and (polled is None or r["source"] in (ADD, LOCAL) or r["source"] in polled)
    ]


def endpoints(db: sqlite3.Connection, configured: Sequence[str]) -> list[EndpointStatus]:
    """Every configured endpoint (in config order), then any the store still holds
    deliveries for that is no longer configured, each with its delivery counts."""
    counts: dict[str, dict[str, int]] = {}
    for name, status, n in db.execute(
        "SELECT endpoint, status, COUNT(*) FROM deliveries GROUP BY endpoint, status"
    ):
        counts.setdefault(name, {})[status] = n
    names = list(configured) + sorted(set(counts) - set(configured))
    out = []
    for name in names:
        ep = delivery_rows.endpoint(db, name)
        c = counts.get(name, {})
        head = delivery_rows.head(db, name) if c.get(delivery_rows.PENDING) else None
        retrying = None
        if head is not None and head.attempts:
            tries = delivery_rows.attempts(db, head.id)
            last = head.last_error or f"HTTP {head.last_status}"
            since = tries[0].at if tries else head.created
            retrying = Retrying(since, head.attempts, last, head.next_attempt)
        out.append(
            EndpointStatus(
                name,
                name in configured,
                ep.disabled_at,
                ep.disabled_reason,
                c.get(delivery_rows.PENDING, 0),
                c.get(delivery_rows.FAILED, 0),
                c.get(delivery_rows.DELIVERED, 0),
                retrying,
            )
        )
    return out
