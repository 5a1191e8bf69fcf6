"""Old delivered deliveries give up what they hold (``limits.delivered_days``): the store
does not grow by every body sent, for ever. The record of a webhook delivery stays (its
entry's corrections go to the endpoints that had it); failed deliveries stay whole, to
be redelivered."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from conftest import SECRET, run_cli, webhook_toml
from scofeed.schedule import JobContext, job_table, prune_job
from scofeed.store import activitypub as ap_rows
from scofeed.store import deliveries as rows
from scofeed.store import outbox

DAY = 86400


NOW = datetime(2026, 11, 27, tzinfo=UTC)


def run(site, *args: str, rc: int = 0) -> str:
    """``scofeed ARGS`` (conftest's run_cli), its exit code checked; its output."""
    proc = run_cli(site, *args)
    assert proc.returncode == rc, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def age(db, days: int) -> None:
    """Every delivery settled ``days`` earlier than it was."""
    db.execute("UPDATE deliveries SET settled_at = settled_at - ?", (days * DAY,))


def delivered_once(site, receivers):
    """The seed built and delivered to one endpoint, ``ok``: its receiver and the store."""
    ok = receivers([200])
    site.write_config(webhook_toml("ok", ok.url))
    run(site, "build")
    assert "delivered=1" in run(site, "deliver")
    return ok, site.store()


def test_scofeed_deliver_drops_old_bodies_and_keeps_the_record(site, receivers):
    ok, broken = receivers([200]), receivers([500])
    site.write_config(
        webhook_toml("ok", ok.url) + webhook_toml("broken", broken.url, retry_schedule=[0])
    )
    run(site, "build")
    assert "delivered=1 retrying=0 failed=1" in run(site, "deliver")
    store = site.store()
    db = store.db
    age(db, 100)
    out = run(site, "deliver")
    assert (
        "dropped what deliveries delivered over 90 days ago held (limits.delivered_days): "
        "1 webhook body, 0 ActivityPub deliveries"
    ) in out
    by_endpoint = {d.endpoint: d for d in rows.listing(db, False, None, 10)}
    kept, failed = by_endpoint["ok"], by_endpoint["broken"]
    assert (kept.status, kept.body, rows.attempts(db, kept.id)) == ("delivered", b"", [])
    assert failed.status == "failed" and failed.body and rows.attempts(db, failed.id)
    assert rows.endpoints_of(db, kept.entry_id) == {"ok", "broken"}
    # its attempts are gone with its body: no "(0 in all)" beside the count kept
    listed = next(line for line in run(site, "deliveries").splitlines() if "\tok\t" in line)
    assert "\tattempts=1\t" in listed, listed
    with store.transaction() as tx:  # a dropped body is never sent by a requeue
        assert rows.requeue(tx, [kept.id, failed.id], NOW.timestamp()) == 1
    assert rows.get(db, kept.id).status == "delivered"
    assert "dropped" not in run(site, "deliver")  # nothing left to drop
    # redeliver ID makes the body again from the entry, at the same revision
    assert "queued 1 delivery again" in run(site, "redeliver", str(kept.id))
    assert "delivered=1" in run(site, "deliver")
    first, again = ok.wait_for(2)
    assert first.headers["webhook-id"] == again.headers["webhook-id"]
    Webhook(SECRET).verify(again.body, again.headers)
    assert json.loads(again.body)["data"] == json.loads(first.body)["data"]
    store.close()


def test_a_dropped_body_of_an_earlier_revision_is_not_made_again(site, receivers):
    _ok, store = delivered_once(site, receivers)
    seed = next(site.sources.iterdir())
    seed.write_text(seed.read_text(encoding="utf-8") + "\nA corrected sentence.\n", "utf-8")
    assert "updated=1" in run(site, "build")
    assert "delivered=1" in run(site, "deliver")
    age(store.db, 100)
    assert "2 webhook bodies" in run(site, "deliver")
    old = min(rows.listing(store.db, False, None, 10), key=lambda d: d.revision)
    refused = run(site, "redeliver", str(old.id), rc=1)
    assert f"delivery {old.id} was delivered" in refused
    assert "cannot be made again: its entry is at revision 2 now" in refused
    assert rows.get(store.db, old.id).body == b""
    store.close()


def test_recent_deliveries_and_a_limit_of_0_keep_every_body(site, receivers):
    _ok, store = delivered_once(site, receivers)
    db = store.db
    age(db, 89)
    assert "dropped" not in run(site, "deliver")
    age(db, 10)
    assert "dropped" not in run(site, "--set", "limits.delivered_days=0", "deliver")
    [d] = rows.listing(db, False, None, 10)
    assert d.body and rows.attempts(db, d.id)
    store.close()


def _ap_delivery(db, n: int, status: str, settled: float) -> int:
    inbox = f"https://m{n}.example/inbox"
    assert ap_rows.enqueue(
        db, f"https://x.example/a/{n}", "Create", "e1", inbox, f"m{n}.example", b"{}", settled
    )
    (i,) = db.execute("SELECT id FROM ap_deliveries WHERE inbox = ?", (inbox,)).fetchone()
    assert outbox.settle(db, "ap_deliveries", i, 0, status, None, 202, None, settled)
    return int(i)


def test_the_daemon_job_prunes_every_hour_and_says_what_it_dropped(site):
    now = NOW
    cfg = site.config()
    store = site.store()
    old = (now - timedelta(days=91)).timestamp()
    with store.transaction() as db:
        gone = _ap_delivery(db, 1, "delivered", old)
        recent = _ap_delivery(db, 2, "delivered", (now - timedelta(days=89)).timestamp())
        failed = _ap_delivery(db, 3, "failed", old)
    ctx = JobContext(cfg, store)
    assert prune_job(ctx, now) == "pruned webhook_bodies=0 activitypub_deliveries=1 days=90"
    left = {r[0] for r in store.db.execute("SELECT id FROM ap_deliveries")}
    assert left == {recent, failed} and gone not in left
    assert prune_job(ctx, now) is None  # nothing more: a DEBUG line, no record
    assert "prune" in [j.name for j in job_table(cfg)]
    never = site.config("limits.delivered_days=0")
    assert "prune" not in [j.name for j in job_table(never)]
    assert prune_job(JobContext(never, store), now + timedelta(days=400)) is None
    assert {r[0] for r in store.db.execute("SELECT id FROM ap_deliveries")} == left
    store.close()


def test_a_large_backlog_is_pruned_a_batch_at_a_time(site):
    store = site.store()
    with store.transaction() as db:
        for n in range(5):
            _ap_delivery(db, n, "delivered", (NOW - timedelta(days=200)).timestamp())
    assert outbox.prune(store, NOW.timestamp(), 90, batch=2) == (0, 5)
    assert store.db.execute("SELECT count(*) FROM ap_deliveries").fetchone()[0] == 0
    store.close()


def test_a_prune_reads_only_what_it_drops(site):
    """Each prune (hourly, and every `scofeed deliver`) finds its rows through the
    partial indexes of migration 27, not by reading every delivery ever kept."""
    store = site.store()
    seen: list[str] = []
    store.db.set_trace_callback(seen.append)
    try:
        outbox.prune(store, NOW.timestamp(), 90)
    finally:
        store.db.set_trace_callback(None)
    asked = [sql for sql in seen if "status = 'delivered'" in sql]
    assert len(asked) == 2, seen
    plans = " ".join(r[3] for sql in asked for r in store.db.execute("EXPLAIN QUERY PLAN " + sql))
    assert "deliveries_to_prune" in plans and "ap_deliveries_delivered" in plans, plans
    store.close()
