"""What the two delivery outboxes share, by table: the webhook one (``deliveries``, an
endpoint's lease in ``webhook_endpoints``) and the ActivityPub one (``ap_deliveries``,
a host's lease in ``ap_hosts``).

- A target's lease: one sender at a time sends to it. ``claim`` takes it when it is
  free, run out, or already the caller's (a renewal); ``release`` gives it back only
  if the caller still holds it. ``new_owner`` names a sender (host, process, random);
  ``dead_leases`` finds those of a sender of this host whose process is gone.
- ``settle``: one attempt's outcome written to its delivery only while the delivery is
  as the sender read it (pending, same attempt count), so an attempt made stale by
  another sender or a redeliver never overwrites what they did.
- ``counts``: deliveries by status.
- ``prune``: what a delivered delivery holds, once it is old enough not to be needed.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import uuid
from dataclasses import dataclass

from scofeed.store import Store

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class Targets:
    """A table of lease holders: its name, its key column, and which of its rows may be
    leased at all (an SQL condition; "" for every row)."""

    table: str
    key: str
    open: str = ""


WEBHOOK_ENDPOINTS = Targets("webhook_endpoints", "name", "disabled_at IS NULL")
AP_HOSTS = Targets("ap_hosts", "host")
QUEUES = ("deliveries", "ap_deliveries")  # the tables ``settle`` and ``counts`` may name


def new_owner() -> str:
    """A sender's name in the leases it holds: unique to this process and this sender;
    its last part names the boot and the pid namespace its pid is of (``_scope``)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_MINE}{uuid.uuid4().hex[:8]}:{_scope()}"


_MINE = uuid.uuid4().hex[:8]  # begins the name of every owner this process makes


def _scope() -> str:
    """This machine's boot and this process's pid namespace (Linux): a pid means a
    process only there. Two containers of one host name, or a container started again
    (its daemon pid 1 each time), are not each other's pids. "" where it cannot tell."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            boot = fh.read().strip()[:8]
        return f"{boot}-{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return ""


def claim(
    db: sqlite3.Connection, targets: Targets, key: str, owner: str, until: float, now: float
) -> bool:
    """Take (or renew) the target's lease until ``until``; False while another sender
    holds it (or the target may not be leased)."""
    usable = f"AND {targets.open} " if targets.open else ""
    cur = db.execute(
        f"UPDATE {targets.table} SET lease_until = ?, lease_owner = ? WHERE {targets.key} = ? "
        f"{usable}AND (lease_until IS NULL OR lease_until <= ? OR lease_owner = ?)",
        (until, owner, key, now, owner),
    )
    return cur.rowcount > 0


def dead_leases(db: sqlite3.Connection, targets: Targets, now: float) -> list[tuple[str, str]]:
    """(key, owner) of each lease held by a sender of this host whose process is gone
    (a daemon killed with SIGKILL, a ``scofeed deliver`` interrupted): ``release`` them.
    They ran out only at their time (twice the timeout and a second: half a minute by
    default, with nothing sent and nothing said). A read, cheap while none is held."""
    here = socket.gethostname() + ":"
    rows = db.execute(
        f"SELECT {targets.key}, lease_owner FROM {targets.table} "
        "WHERE lease_until > ? AND substr(lease_owner, 1, ?) = ?",
        (now, len(here), here),
    ).fetchall()
    scope = _scope()
    dead = []
    for key, owner in rows:
        parts = owner[len(here) :].split(":")  # pid, name, scope
        if len(parts) != 3 or not scope or parts[2] != scope or not parts[0].isdigit():
            continue  # another boot's or namespace's, or an older scofeed's: it runs out
        pid = parts[0]
        if int(pid) == os.getpid():
            if not parts[1].startswith(_MINE):  # this pid, a process before this one's
                dead.append((key, owner))
        elif not _running(int(pid)):
            dead.append((key, owner))
    return dead


def _running(pid: int) -> bool:
    """Whether a process of this pid is there (this user's or another's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: there, another user's
        return True
    return True


def release(db: sqlite3.Connection, targets: Targets, key: str, owner: str) -> None:
    db.execute(
        f"UPDATE {targets.table} SET lease_until = NULL, lease_owner = NULL "
        f"WHERE {targets.key} = ? AND lease_owner = ?",
        (key, owner),
    )


def settle(
    db: sqlite3.Connection,
    table: str,
    delivery_id: int,
    attempts: int,
    status: str,
    next_attempt: float | None,
    last_status: int | None,
    error: str | None,
    now: float,
) -> bool:
    """Record one attempt's outcome on delivery ``delivery_id`` of ``table``, read with
    ``attempts`` attempts made; False, and nothing written, when it changed since."""
    assert table in QUEUES, table
    cur = db.execute(
        f"UPDATE {table} SET status = ?, attempts = attempts + 1, next_attempt = ?, "
        "last_status = ?, last_error = ?, settled_at = ? "
        "WHERE id = ? AND status = 'pending' AND attempts = ?",
        (
            status,
            next_attempt,
            last_status,
            error,
            now if status != PENDING else None,
            delivery_id,
            attempts,
        ),
    )
    return cur.rowcount > 0


def counts(db: sqlite3.Connection, table: str) -> dict[str, int]:
    """Deliveries of ``table`` by status, every status present."""
    assert table in QUEUES, table
    out = {PENDING: 0, FAILED: 0, DELIVERED: 0}
    for status, n in db.execute(f"SELECT status, COUNT(*) FROM {table} GROUP BY status"):
        out[status] = n
    return out


PRUNE_BATCH = 1000  # deliveries of each table pruned in one transaction
DAY = 86400


def prune(store: Store, now: float, days: int, batch: int = PRUNE_BATCH) -> tuple[int, int]:
    """Deliveries delivered more than ``days`` before ``now`` (epoch seconds; 0 days:
    none, ``limits.delivered_days``): a webhook one keeps its row
    (which endpoints were sent an entry: its corrections go to them; its webhook-id,
    which a backfill does not queue again) without its body and its attempts; an
    ActivityPub one goes. What each body held is in the store's entries, and a body
    is the bulk of a row (~5 kB: the release's content). Failed deliveries stay, to be
    redelivered. ``batch`` of each table a transaction, so that the first prune of a
    large store holds the other writers up for one batch at a time, not for all of it.
    Returns (webhook bodies dropped, ActivityPub deliveries removed)."""
    if days <= 0:
        return 0, 0
    before = now - days * DAY
    old = "status = 'delivered' AND settled_at < ?"
    hooks = activities = 0
    while True:
        with store.transaction() as db:
            ids = [
                r[0]
                for r in db.execute(
                    f"SELECT id FROM deliveries WHERE {old} AND length(body) > 0 LIMIT ?",
                    (before, batch),
                )
            ]
            marks = ", ".join("?" * len(ids))
            db.execute(f"DELETE FROM delivery_attempts WHERE delivery_id IN ({marks})", ids)
            db.execute(f"UPDATE deliveries SET body = X'' WHERE id IN ({marks})", ids)
            gone = db.execute(
                f"DELETE FROM ap_deliveries WHERE id IN "
                f"(SELECT id FROM ap_deliveries WHERE {old} LIMIT ?)",
                (before, batch),
            ).rowcount
        hooks += len(ids)
        activities += gone
        if len(ids) < batch and gone < batch:
            return hooks, activities
