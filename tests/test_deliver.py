"""Deliveries end to end: the pipeline queues them, run_due sends them to real receivers
on 127.0.0.1 that fail in scripted ways, standardwebhooks verifies every signature.
The clock is injected: retry schedules are walked without sleeping."""

from __future__ import annotations

import base64
import gzip
import http.client
import json
import logging
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from conftest import SECRET, SECRET_OLD, free_port, run_cli, webhook_toml
from scofeed.build import build as build_feeds
from scofeed.config.push import is_whsec
from scofeed.deliver import outbox, runner
from scofeed.errors import ConfigError
from scofeed.ingest import ingest
from scofeed.store import Store
from scofeed.store import deliveries as rows
from scofeed.store import outbox as outbox_rows
from scofeed.withdraw import withdraw

BASE: list[datetime] = []


@pytest.fixture(autouse=True)
def _fresh_clock():
    BASE.clear()


@pytest.fixture
def pool():
    """Delivery workers of the test's own, as the daemon owns its own."""
    with runner.DeliveryPool() as workers:
        yield workers


def t(offset: float = 0.0) -> datetime:
    """The injected clock: real time at the test's first call, plus ``offset`` seconds."""
    if not BASE:
        BASE.append(datetime.now(UTC))
    return BASE[0] + timedelta(seconds=offset)


def setup(site, *hooks: str):
    site.write_config("".join(hooks))
    cfg = site.config()
    store = site.store()
    build_feeds(cfg, store, datetime.now(UTC))
    return cfg, store


def verify_all(received) -> list[dict]:
    """Every request verifies with each configured secret (rotation) via standardwebhooks."""
    docs = []
    for r in received:
        for secret in (SECRET, SECRET_OLD):
            docs.append(Webhook(secret).verify(r.body, r.headers))
    return docs


def run(cfg, store, offset: float = 0.0):
    return runner.run_due(cfg, store, now=t(offset), rng=random.Random(7))


def only(store) -> rows.Delivery:
    (d,) = rows.listing(store.db)
    return d


def test_seed_is_delivered_signed_with_every_secret(site, receivers):
    r = receivers([200])
    cfg, store = setup(site, webhook_toml("hub", r.url))
    assert runner.counts(store) == {"pending": 1, "failed": 0, "delivered": 0}
    report = run(cfg, store)
    assert (report.attempted, report.delivered) == (1, 1)
    (got,) = r.wait_for(1)
    doc = verify_all([got])[0]
    assert doc["type"] == "release.published"
    data = doc["data"]
    assert data["title"] == "SCO Secretary-General meets with Jingdong vice-president"
    assert data["revision"] == 1 and data["language"] == "en"
    assert data["published"] == "2020-06-03T00:00:00+08:00"
    assert data["content_html"].startswith("<p>")
    assert set(data["feeds"]) == {"atom", "rss", "json", "language", "tags"}
    assert data["feeds"]["language"]["atom"] == "http://127.0.0.1:8080/en/atom.xml"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["User-Agent"].startswith("scofeed/")
    assert got.headers["webhook-id"].startswith("msg_")
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert runner.counts(store) == {"pending": 0, "failed": 0, "delivered": 1}
    assert run(cfg, store, 1).attempted == 0  # nothing due twice


def test_padded_and_unprefixed_secrets_are_accepted_and_verify(site, receivers):
    """A 32-byte key's base64 ends in "=" and a secret may come without ``whsec_``:
    standardwebhooks takes both, so the config must too (it refused the padded one)."""
    padded = "whsec_" + base64.b64encode(bytes(range(32))).decode()
    bare = base64.b64encode(bytes(range(100, 124))).decode()
    assert padded.endswith("=")
    r = receivers([200])
    cfg, store = setup(site, webhook_toml("hub", r.url, secret=[padded, bare]))
    assert run(cfg, store).delivered == 1
    (got,) = r.wait_for(1)
    for secret in (padded, bare, "whsec_" + bare, padded.rstrip("=")):
        Webhook(secret).verify(got.body, got.headers)


@pytest.mark.parametrize("extra", ["=", "==", "==="])
def test_a_secret_padded_past_its_base64_padding_is_refused(site, extra):
    """Node's standardwebhooks and svix refuse a key padded with more "=" than base64
    gives it: a secret config check took was one a JavaScript receiver could not load."""
    key = "whsec_" + base64.b64encode(bytes(range(16))).decode()  # ends in "=="
    assert is_whsec(key) and is_whsec(key.rstrip("="))
    assert not is_whsec(key + extra)
    assert not is_whsec(key.rstrip("=") + "=")  # short of its padding
    # config check says what to change: the key itself is right
    site.write_config(webhook_toml("h", "https://hooks.example/", secret=key + extra))
    with pytest.raises(ConfigError) as told:
        site.config()
    assert f"its base64 ending in no '=' or 2 (this one has {2 + len(extra)};" in str(told.value)


def test_500_twice_then_200_follows_the_schedule_with_one_webhook_id(site, receivers):
    r = receivers([500, 500, 200])
    cfg, store = setup(site, webhook_toml("hub", r.url))
    assert run(cfg, store).retrying == 1
    d = only(store)
    assert (d.status, d.attempts, d.last_status) == ("pending", 1, 500)
    assert t(5).timestamp() <= d.next_attempt <= t(6).timestamp()  # 5 s + up to 20% jitter
    assert run(cfg, store, 4.9).attempted == 0
    assert len(r.received) == 1
    assert run(cfg, store, 6).retrying == 1
    d = only(store)
    assert t(6 + 300).timestamp() <= d.next_attempt <= t(6 + 360).timestamp()
    assert run(cfg, store, 400).delivered == 1
    got = r.wait_for(3)
    verify_all(got)
    assert len({g.headers["webhook-id"] for g in got}) == 1
    assert len({g.body for g in got}) == 1  # the same bytes every time
    attempts = rows.attempts(store.db, only(store).id)
    assert [(a.status, a.outcome) for a in attempts] == [
        (500, "retry"),
        (500, "retry"),
        (200, "delivered"),
    ]


@pytest.mark.parametrize(("header", "cap", "wait"), [("120", 3600, 120), ("99999", 600, 600)])
def test_429_waits_for_retry_after_capped(site, receivers, header, cap, wait):
    r = receivers([(429, {"Retry-After": header}, b"slow down"), 200])
    cfg, store = setup(site, webhook_toml("hub", r.url, retry_after_max=cap))
    run(cfg, store)
    d = only(store)
    assert d.next_attempt == pytest.approx(t(wait).timestamp())
    assert run(cfg, store, wait - 1).attempted == 0
    assert run(cfg, store, wait).delivered == 1
    verify_all(r.wait_for(2))


def test_429s_with_a_short_retry_after_do_not_spend_the_schedule_in_seconds(site, receivers):
    """A receiver answering 429 with Retry-After: 1 had a delivery's eight attempts made
    two seconds apart, and it was a dead letter 14 s after the first: the docs promise
    the schedule's whole span. The hint is taken while the schedule lasts; then the
    schedule's last delay, until its span has passed since the first attempt."""
    r = receivers([(429, {"Retry-After": "1"}, b"slow down")])
    cfg, store = setup(site, webhook_toml("hub", r.url, retry_schedule=[0, 5, 300]))
    for offset in (0, 1, 2):  # the schedule's three attempts, a second apart
        assert run(cfg, store, offset).retrying == 1
    d = only(store)
    assert d.next_attempt == pytest.approx(t(305).timestamp())  # the span's end
    assert run(cfg, store, 304).attempted == 0
    tally = run(cfg, store, 305)
    assert tally.failed == 1
    assert "gave up after 4 attempts" in (only(store).last_error or "")
    assert len(r.received) == 4


def test_a_format_fixed_in_the_config_remakes_what_its_endpoint_has_pending(site, receivers):
    """A Slack endpoint set up without ``format = "slack"`` refused each standard body
    and its deliveries waited for their retries; with the config fixed, the same
    standard bodies went out again. What it has pending is made again in its format."""
    r = receivers([500, 200])
    cfg, store = setup(site, webhook_toml("chat", r.url, retry_schedule=[0, 5]))
    assert run(cfg, store).retrying == 1
    site.write_config(webhook_toml("chat", r.url, format="slack", retry_schedule=[0, 5]))
    assert run(site.config(), store, 60).delivered == 1
    first, second = (json.loads(g.body) for g in r.received)
    assert first["type"] == "release.published" and "blocks" not in first
    assert "blocks" in second and "type" not in second
    assert first["data"]["title"] in json.dumps(second, ensure_ascii=False)
    assert len({g.headers["webhook-id"] for g in r.received}) == 1  # one delivery


def test_a_format_fixed_after_a_correction_remakes_the_older_revision_from_its_body(
    site, receivers
):
    """The release was corrected while its first delivery to a Slack endpoint set up
    as standard waited for its retry: with the config fixed, that delivery kept its
    standard body (its revision's text is no longer stored) and was refused again. It
    is made again from what its body says: the first revision's headline, then the
    correction's message."""
    r = receivers([500, 200, 200])
    cfg, store = setup(site, webhook_toml("chat", r.url, retry_schedule=[0, 5]))
    assert run(cfg, store).retrying == 1
    seed = next(site.sources.glob("*.txt"))
    text = seed.read_text(encoding="utf-8")
    title = text.split("\n", 1)[0]
    seed.write_text(text.replace(title, "Corrected headline of the meeting", 1), encoding="utf-8")
    assert build_feeds(cfg, store, datetime.now(UTC)).updated == 1
    site.write_config(webhook_toml("chat", r.url, format="slack", retry_schedule=[0, 5]))
    assert run(site.config(), store, 60).delivered == 2
    refused, first, second = r.received
    assert json.loads(refused.body)["data"]["title"] == title
    assert json.loads(first.body)["text"] == title  # the first revision's, in Slack's form
    assert json.loads(second.body)["text"] == "Corrected (title): Corrected headline of the meeting"
    assert refused.headers["webhook-id"] == first.headers["webhook-id"]


def test_a_retry_into_an_exhausted_bucket_waits_for_its_reset(site, receivers):
    """A 500 saying the bucket is empty was retried on the schedule (3 s), into the
    empty bucket, where the docs say the endpoint's next request waits for the reset."""
    empty = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "20"}
    r = receivers([(500, empty, b"oops"), 204])
    cfg, store = setup(site, webhook_toml("chat", r.url, format="discord"))
    assert run(cfg, store).retrying == 1
    assert only(store).next_attempt == pytest.approx(t(20).timestamp())
    assert run(cfg, store, 19).attempted == 0
    assert run(cfg, store, 20).delivered == 1


@pytest.mark.parametrize(
    "form",
    ["%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %d %H:%M:%S %Y"],
)
def test_retry_after_in_each_http_date_form(site, receivers, form):
    """RFC 9110 5.6.7: a recipient takes all three forms; the asctime one (no zone, UTC)
    was dropped, and a 429 fell back to the schedule."""
    script = [200]
    r = receivers(script)
    cfg, store = setup(site, webhook_toml("hub", r.url))
    script.insert(0, (429, {"Retry-After": t(90).strftime(form)}, b""))
    r.script = script
    run(cfg, store)
    assert only(store).next_attempt == pytest.approx(t(90).timestamp(), abs=1.0)


def test_503_with_an_http_date_retry_after(site, receivers):
    script = [200]
    r = receivers(script)
    cfg, store = setup(site, webhook_toml("hub", r.url))
    script.insert(0, (503, {"Retry-After": t(90).strftime("%a, %d %b %Y %H:%M:%S GMT")}, b""))
    r.script = script
    run(cfg, store)
    assert only(store).next_attempt == pytest.approx(t(90).timestamp(), abs=1.0)


@pytest.mark.parametrize(
    "header",
    [
        "Mon, 01 Jan 2026 99999999999999999999:00:00 GMT",
        "Mon, 01 Jan 99999999999999999999 0:0:0 GMT",
    ],
)
def test_a_retry_after_date_past_any_clock_is_ignored_not_a_crash(site, receivers, header):
    """A date whose numbers overflow the C clock raised OverflowError out of the retry
    policy: the attempt was never recorded, so the delivery went out again at every tick
    for ever, a traceback logged each time (WebSub subscribers and fediverse servers, who
    anyone can be, answer through the same policy)."""
    r = receivers([(503, {"Retry-After": header}, b""), 200])
    cfg, store = setup(site, webhook_toml("hub", r.url))
    assert run(cfg, store).retrying == 1
    d = only(store)
    assert (d.status, d.attempts, d.last_status) == ("pending", 1, 503)
    assert t(5).timestamp() <= d.next_attempt <= t(6).timestamp()  # the schedule's own wait


def test_410_disables_the_endpoint_until_enabled(site, receivers, caplog):
    r = receivers([410, 200])
    cfg, store = setup(site, webhook_toml("hub", r.url))
    with caplog.at_level(logging.WARNING):
        report = run(cfg, store)
    assert report.disabled == ["hub"]
    assert "endpoint_disabled endpoint=hub" in caplog.text
    d = only(store)
    assert d.status == "failed" and "410" in (d.last_error or "")
    assert rows.endpoint(store.db, "hub").disabled_at is not None
    (site.sources / "new.txt").write_text("Second release\n\nOn 5 May 2021 more news.\n")
    build_feeds(cfg, store, datetime.now(UTC))
    assert run(cfg, store, 10).attempted == 0  # disabled: the new one waits
    assert rows.enable(store.db, "hub")
    assert run(cfg, store, 20).delivered == 1
    assert len(r.wait_for(2)) == 2


def test_hang_past_the_timeout_is_retried(site, receivers):
    r = receivers(["hang"])
    cfg, store = setup(site, webhook_toml("slow", r.url, timeout=1))
    assert run(cfg, store).retrying == 1
    d = only(store)
    assert d.last_error == "timeout: no response within 1s"
    assert d.last_status is None


def test_a_hanging_endpoint_never_delays_the_others(site, receivers, pool):
    hang, ok = receivers(["hang"]), receivers([200])
    cfg, store = setup(
        site, webhook_toml("stuck", hang.url, timeout=30), webhook_toml("ok", ok.url)
    )
    pool.run_due(cfg, store, wait=False)
    ok.wait_for(1)
    hang.wait_for(1)
    deadline = time.monotonic() + 10
    by_name = {d.endpoint: d for d in rows.listing(store.db)}
    while by_name["ok"].status != "delivered":
        assert time.monotonic() < deadline
        time.sleep(0.01)
        by_name = {d.endpoint: d for d in rows.listing(store.db)}
    # the healthy one is settled while the hanging request is still open
    assert by_name["stuck"].attempts == 0 and by_name["stuck"].status == "pending"
    assert pool.run_due(cfg, store, wait=False).endpoints == 0  # in flight: not sent twice
    hang.release.set()
    while by_name["stuck"].attempts == 0:
        assert time.monotonic() < deadline
        time.sleep(0.01)
        by_name = {d.endpoint: d for d in rows.listing(store.db)}
    assert len(hang.received) == 1


def test_one_endpoint_gets_its_deliveries_in_entry_order(site, receivers):
    r = receivers([500, 200])
    cfg, store = setup(site, webhook_toml("hub", r.url))
    (site.sources / "b.txt").write_text("Second release\n\nOn 5 May 2021 more news.\n")
    build_feeds(cfg, store, datetime.now(UTC))
    (site.sources / "c.txt").write_text("Third release\n\nOn 6 May 2021 even more.\n")
    build_feeds(cfg, store, datetime.now(UTC))
    assert run(cfg, store).attempted == 1  # the first failed: the others wait behind it
    assert run(cfg, store, 7).delivered == 3
    titles = [json.loads(g.body)["data"]["title"] for g in r.wait_for(4)]
    assert titles[0] == titles[1]
    assert titles[2:] == ["Second release", "Third release"]


def test_301_is_a_failure_and_is_not_followed(site, receivers):
    r = receivers([(301, {"Location": "/elsewhere"}, b"")])
    cfg, store = setup(site, webhook_toml("hub", r.url))
    assert run(cfg, store).retrying == 1
    d = only(store)
    assert d.last_status == 301 and "redirects are not followed" in (d.last_error or "")
    assert [g.path for g in r.received] == ["/hook"]


def test_connection_refused_is_retried(site):
    url = f"http://127.0.0.1:{free_port()}/hook"
    cfg, store = setup(site, webhook_toml("gone", url))
    assert run(cfg, store).retrying == 1
    assert only(store).last_error == "connection refused"


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ("close-mid-500", "connection closed mid-response (after HTTP 500)"),
        ("close", "connection closed without a response"),
    ],
)
def test_a_connection_closed_mid_response_is_retried(site, receivers, step, error):
    r = receivers([step, 200])
    cfg, store = setup(site, webhook_toml("flaky", r.url))
    assert run(cfg, store).retrying == 1
    assert only(store).last_error == error
    assert run(cfg, store, 10).delivered == 1
    got = r.wait_for(2)
    verify_all(got)
    assert got[0].headers["webhook-id"] == got[1].headers["webhook-id"]


def test_after_the_last_attempt_it_is_a_dead_letter(site, receivers):
    r = receivers([500])
    cfg, store = setup(site, webhook_toml("hub", r.url, retry_schedule=[0, 5]))
    run(cfg, store)
    run(cfg, store, 10)
    d = only(store)
    assert d.status == "failed" and "gave up after 2 attempts" in (d.last_error or "")
    assert runner.counts(store) == {"pending": 0, "failed": 1, "delivered": 0}
    assert run(cfg, store, 100000).attempted == 0


def test_the_address_guard_refuses_loopback_unless_allowed(site, receivers):
    r = receivers([200])
    url = r.url.replace("127.0.0.1", "localhost")
    cfg, store = setup(site, webhook_toml("inward", url, allow_private=False))
    assert run(cfg, store).failed == 1
    d = only(store)
    assert d.status == "failed" and (d.last_error or "").startswith("refused: localhost resolves")
    assert r.received == []


def test_a_revision_is_delivered_as_release_updated(site, receivers):
    r = receivers([200])
    cfg, store = setup(site, webhook_toml("hub", r.url))
    run(cfg, store)
    seed = next(site.sources.glob("*.txt"))
    seed.write_text(seed.read_text(encoding="utf-8") + "\nA corrected closing line.\n")
    report = build_feeds(cfg, store, datetime.now(UTC))
    assert (report.updated, report.deliveries) == (1, 1)
    run(cfg, store, 1)
    first, second = verify_all(r.wait_for(2))[::2]
    assert second["type"] == "release.updated" and second["data"]["revision"] == 2
    ids = [g.headers["webhook-id"] for g in r.received]
    assert ids[0] != ids[1]
    # what the correction changed: the text only (a closing line is no summary's)
    assert "changed" not in first["data"]
    assert second["data"]["changed"] == ["content_html"]


def test_a_correction_names_what_it_changed_to_every_kind_of_endpoint(site, receivers):
    """A receiver, or a Slack channel, told "Corrected: title" had to find what changed
    by diffing the text itself. The standard payload lists the changed fields
    (``changed``), a chat message says them in its title."""
    r = receivers([200])
    cfg, store = setup(
        site,
        webhook_toml("hub", r.url),
        webhook_toml("chat", r.url, format="slack"),
    )
    run(cfg, store)
    seed = next(site.sources.glob("*.txt"))
    text = seed.read_text(encoding="utf-8")
    title = text.split("\n", 1)[0]
    seed.write_text(text.replace(title, "Corrected headline of the meeting", 1), encoding="utf-8")
    assert build_feeds(cfg, store, datetime.now(UTC)).updated == 1
    run(cfg, store, 1)
    docs = [json.loads(g.body) for g in r.wait_for(4)[2:]]
    (standard,) = (d for d in docs if "blocks" not in d)
    assert standard["type"] == "release.updated"
    assert standard["data"]["changed"] == ["title"]
    (chat,) = (d for d in docs if "blocks" in d)
    assert chat["text"] == "Corrected (title): Corrected headline of the meeting"


@pytest.mark.parametrize("kept", [True, False])
def test_an_endpoint_out_of_the_config_hears_on_its_return_what_it_missed(site, receivers, kept):
    """An endpoint taken out of the config (a receiver paused) and put back: the
    correction and the withdrawal of a release it was sent, made while it was out,
    reached no one, and no command could send it the withdrawal; it kept the release.
    They are queued for it in its format, and go out once it is back, in order. Its
    format not ``kept`` (a store an older scofeed wrote): the body it was sent tells."""
    a, b = receivers([200]), receivers([200])
    both = webhook_toml("a", a.url) + webhook_toml("b", b.url, format="slack")
    cfg, store = setup(site, both)
    run(cfg, store)
    b.wait_for(1)
    if not kept:
        with store.transaction() as db:
            db.execute("UPDATE webhook_endpoints SET format = NULL, events = NULL")
    site.write_config(webhook_toml("a", a.url))  # "b" out
    seed = next(site.sources.glob("*.txt"))
    seed.write_text(seed.read_text(encoding="utf-8") + "\nA corrected closing line.\n")
    assert build_feeds(site.config(), store, datetime.now(UTC)).updated == 1
    (entry_id,) = {d.entry_id for d in rows.listing(store.db)}
    withdraw(site.config(), store, entry_id, "Published by mistake", datetime.now(UTC))
    run(site.config(), store, 1)
    assert len(a.wait_for(3)) == 3 and len(b.received) == 1  # "b" is out: it waits
    site.write_config(both)  # "b" back
    run(site.config(), store, 2)
    titles = [json.loads(g.body)["text"] for g in b.wait_for(3)]
    assert titles[1].startswith("Corrected (text): ") and titles[2].startswith("Withdrawn: ")
    assert runner.counts(store)["pending"] == 0


def test_an_endpoint_removed_for_good_is_forgotten_with_what_was_queued_for_it(site, receivers):
    """An endpoint out of the config piled up what it missed, for a return that never
    came, and no command could drop it: `webhook forget` does (not a configured one)."""
    r = receivers([200])
    cfg, store = setup(site, webhook_toml("a", r.url), webhook_toml("b", r.url))
    run(cfg, store)
    site.write_config(webhook_toml("a", r.url))  # "b" out for good
    seed = next(site.sources.glob("*.txt"))
    seed.write_text(seed.read_text(encoding="utf-8") + "\nA corrected closing line.\n")
    assert build_feeds(site.config(), store, datetime.now(UTC)).updated == 1
    assert {(d.endpoint, d.status) for d in rows.listing(store.db)} >= {("b", "pending")}
    still = run_cli(site, "webhook", "forget", "a")
    assert still.returncode == 2 and "is in the config" in still.stderr
    gone = run_cli(site, "webhook", "forget", "b")
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout == "b: forgotten, with 2 deliveries (1 pending)\n"
    assert {d.endpoint for d in rows.listing(store.db)} == {"a"}
    assert run_cli(site, "webhook", "forget", "b").returncode == 2  # unknown now
    withdraw(site.config(), store, rows.listing(store.db)[0].entry_id, "", datetime.now(UTC))
    assert {d.endpoint for d in rows.listing(store.db)} == {"a"}  # nothing queued for "b"


def test_filters_and_events_choose_the_endpoints(site, receivers):
    r = receivers([200])
    cfg, store = setup(
        site,
        webhook_toml("economy", r.url, tags=["economy"]),
        webhook_toml("health", r.url, tags=["health"]),
        webhook_toml("russian", r.url, languages=["ru"]),
        webhook_toml("titled", r.url, title_pattern="jingdong"),
        webhook_toml("updates", r.url, events=["release.updated"]),
    )
    queued = {d.endpoint for d in rows.listing(store.db)}
    assert queued == {"economy", "titled"}


def test_new_endpoints_do_not_get_the_back_catalogue(site, receivers):
    r = receivers([200])
    cfg, store = setup(site)  # the seed is stored before any webhook exists
    site.write_config(webhook_toml("late", r.url))
    cfg = site.config()
    (site.sources / "b.txt").write_text("Second release\n\nOn 5 May 2021 more news.\n")
    build_feeds(cfg, store, datetime.now(UTC))
    assert [d.entry_id for d in rows.listing(store.db)] != []
    assert len(rows.listing(store.db)) == 1
    assert json.loads(only(store).body)["data"]["title"] == "Second release"
    # on purpose: backfill since 2020
    n = outbox.backfill(cfg, store, datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC))
    assert n == 1  # the seed; the second one is already queued
    run(cfg, store)
    titles = sorted(json.loads(g.body)["data"]["title"] for g in r.wait_for(2))
    assert titles[0] == "SCO Secretary-General meets with Jingdong vice-president"


def test_a_backfill_tells_an_endpoint_new_to_a_release_of_it_as_published(site, receivers):
    """`redeliver --since` sent a corrected release (revision 2) to a new endpoint as
    release.updated ("Corrected: ..." in Slack), though it never had the first version,
    and nothing to one taking only release.published. An endpoint that had an earlier
    revision is told of the correction; a second backfill queues nothing again."""
    r = receivers([200])
    cfg, store = setup(site, webhook_toml("old", r.url))  # revision 1 sent to "old"
    run(cfg, store)
    (first,) = verify_all(r.wait_for(1))[::2]
    assert first["type"] == "release.published"
    site.write_config()  # "old" left out while the release is corrected
    seed = next(site.sources.glob("*.txt"))
    seed.write_text(seed.read_text(encoding="utf-8") + "\nA corrected closing line.\n")
    assert build_feeds(site.config(), store, datetime.now(UTC)).updated == 1
    site.write_config(
        webhook_toml("old", r.url)
        + webhook_toml("late", r.url)
        + webhook_toml("news", r.url, events=["release.published"])
    )
    cfg = site.config()
    assert outbox.backfill(cfg, store, datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC)) == 3
    queued = {(d.endpoint, d.event, d.revision) for d in rows.listing(store.db) if d.id > 1}
    assert queued == {
        ("old", "release.updated", 2),
        ("late", "release.published", 2),
        ("news", "release.published", 2),
    }
    assert outbox.backfill(cfg, store, datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC)) == 0
    run(cfg, store, 1)
    docs = verify_all(r.wait_for(4)[1:])[::2]
    assert sorted(d["type"] for d in docs) == ["release.published"] * 2 + ["release.updated"]
    assert all("A corrected closing line." in d["data"]["content_html"] for d in docs)
    assert {d["data"]["revision"] for d in docs} == {2}


def test_a_backfill_never_sends_a_revision_again_that_went_out_as_a_correction(site, receivers):
    """The first version's delivery failed for good, the correction went out as
    release.updated; `redeliver --since` then queued the same revision as
    release.published, under another webhook-id: the same content twice, which a
    receiver de-duplicating by webhook-id could not tell."""
    r = receivers([500, 200])
    cfg, store = setup(site, webhook_toml("hub", r.url, retry_schedule=[0]))
    assert run(cfg, store).failed == 1
    seed = next(site.sources.glob("*.txt"))
    seed.write_text(seed.read_text(encoding="utf-8") + "\nA corrected closing line.\n")
    assert build_feeds(cfg, store, datetime.now(UTC)).deliveries == 1
    assert run(cfg, store, 1).delivered == 1
    (doc,) = verify_all(r.wait_for(2)[1:])[::2]
    assert (doc["type"], doc["data"]["revision"]) == ("release.updated", 2)
    assert outbox.backfill(cfg, store, datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC)) == 0
    assert len(rows.listing(store.db)) == 2


def test_a_correction_goes_to_an_endpoint_taking_only_corrections(site, receivers):
    """An endpoint with events = ["release.updated"] is never sent a release's first
    version, and gets each correction whose revision its filters take (as
    configuration.md says); one whose filters take a release only from a correction on
    is told of it as a correction, as the docs have it."""
    r = receivers([200])
    cfg, store = setup(
        site,
        webhook_toml("fixes", r.url, events=["release.updated"]),
        webhook_toml("eco", r.url, tags=["economy"]),
    )
    release = site.sources / "b.txt"
    release.write_text("Second release\n\nOn 5 May 2021 the Council met.\n")
    build_feeds(cfg, store, datetime.now(UTC))
    release.write_text("Second release\n\nOn 5 May 2021 the Council met on e-commerce.\n")
    build_feeds(cfg, store, datetime.now(UTC))
    corrected = [d for d in rows.listing(store.db) if d.revision == 2]
    assert {(d.endpoint, d.event) for d in corrected} == {
        ("fixes", "release.updated"),
        ("eco", "release.updated"),
    }


def test_tag_and_language_filters_match_as_the_feeds_do(site, receivers):
    """tags = ["ECONOMY"] matched nothing (the entry's tag is "economy"): the endpoint
    silently got nothing. A tag matches as its feed does, by slug; a language as itself
    or with a subtag."""
    r = receivers([200])
    cfg, store = setup(
        site,
        '"Digital Trade" = ["e-commerce"]\n',  # a second tag in [tags]
        webhook_toml("upper", r.url, tags=["ECONOMY"]),
        webhook_toml("slug", r.url, tags=["digital-trade"]),
        webhook_toml("other", r.url, tags=["Security"]),
        webhook_toml("russian", r.url, languages=["ru"]),
    )
    assert {d.endpoint for d in rows.listing(store.db)} == {"upper", "slug"}
    run(cfg, store)
    tags = [json.loads(g.body)["data"]["tags"] for g in r.wait_for(2)]
    assert tags == [["Digital Trade", "economy"]] * 2


def test_a_language_filter_compares_codes(site, receivers):
    """An entry carries a language code, or site.language with its subtag: "en" and
    "en-GB" both take an entry in "en-GB" (and "en-US" one in "en")."""
    r = receivers([200])
    site.write_config(
        webhook_toml("english", r.url, languages=["en"])
        + webhook_toml("british", r.url, languages=["ru", "en-GB"])
        + webhook_toml("russian", r.url, languages=["ru"])
    )
    cfg, store = site.config("site.language='en-GB'"), site.store()
    build_feeds(cfg, store, datetime.now(UTC))
    queued = {d.endpoint: json.loads(d.body)["data"]["language"] for d in rows.listing(store.db)}
    assert queued == {"english": "en-GB", "british": "en-GB"}
    (site.sources / "b.txt").write_text("Second release\n\nOn 5 May 2021 more news.\n")
    build_feeds(site.config("site.language='en-US'"), store, datetime.now(UTC))
    sent = [(d.endpoint, json.loads(d.body)["data"]) for d in rows.listing(store.db)]
    assert sorted((to, d["title"], d["language"]) for to, d in sent) == [
        ("british", "SCO Secretary-General meets with Jingdong vice-president", "en-GB"),
        ("british", "Second release", "en-US"),
        ("english", "SCO Secretary-General meets with Jingdong vice-president", "en-GB"),
        ("english", "Second release", "en-US"),
    ]


def test_a_language_filter_in_a_deprecated_or_extended_form_takes_what_entries_carry(
    site, receivers
):
    """An entry stating "iw" carries "he", one stating "zh-cmn-Hans" carries "cmn-Hans":
    a filter written "iw" matched nothing, silently. A code is compared as written and
    in the form entries carry, so "zh-cmn" still takes plain Chinese ("zh") too."""
    r = receivers([200])
    site.write_config(
        webhook_toml("hebrew", r.url, languages=["iw"])
        + webhook_toml("mandarin", r.url, languages=["zh-cmn"])
        + webhook_toml("cmn", r.url, languages=["cmn"])
    )
    releases = {
        "he.md": "---\ntitle: SCO Hebrew\ndate: 2021-05-04\nlang: iw\n---\nA release.\n",
        "cmn.md": "---\ntitle: SCO Mandarin\ndate: 2021-05-04\nlang: zh-cmn-Hans\n---\nB.\n",
        "zh.txt": "上合组织秘书长会见代表团\n\n2021年5月4日，上合组织秘书长会见代表团。\n",
    }
    for name, text in releases.items():
        (site.sources / name).write_text(text, encoding="utf-8")
    store = site.store()
    build_feeds(site.config(), store, datetime.now(UTC))
    got = sorted(
        (d.endpoint, json.loads(d.body)["data"]["language"]) for d in rows.listing(store.db)
    )
    assert got == [("cmn", "cmn-Hans"), ("hebrew", "he"), ("mandarin", "cmn-Hans"),
                   ("mandarin", "zh")]  # fmt: skip


def test_a_correction_reaches_an_endpoint_its_filters_no_longer_match(site, receivers):
    """The planner sent release.updated only where the filters matched the new revision:
    an endpoint sent the release for its "economy" tag never heard of the correction
    that dropped the tag, and kept the stale text."""
    r = receivers([200])
    cfg, store = setup(
        site,
        webhook_toml("economy", r.url, tags=["economy"]),
        webhook_toml("new-only", r.url, tags=["economy"], events=["release.published"]),
        webhook_toml("security", r.url, tags=["security"]),
    )
    run(cfg, store)
    r.wait_for(2)
    seed = next(site.sources.glob("*.txt"))
    text = seed.read_text(encoding="utf-8")
    seed.write_text(text.replace("e-commerce", "online sales").replace("digital economy", "IT"))
    report = build_feeds(cfg, store, datetime.now(UTC))
    assert (report.updated, report.deliveries) == (1, 1)
    run(cfg, store, 1)
    _, _, correction = verify_all(r.wait_for(3))[::2]
    assert correction["type"] == "release.updated" and correction["data"]["revision"] == 2
    assert correction["data"]["tags"] == [] and "online sales" in correction["data"]["content_html"]
    sent = [(d.endpoint, d.event) for d in rows.listing(store.db)]
    assert sorted(sent) == [("economy", "release.published"), ("economy", "release.updated"),
                            ("new-only", "release.published")]  # fmt: skip


def test_the_delivery_is_written_in_the_entry_transaction(site):
    from scofeed.model import Release

    site.write_config(webhook_toml("hub", "http://127.0.0.1:9/hook"))
    cfg, store = site.config(), site.store()
    plan = outbox.planner(cfg, datetime.now(UTC))

    def crashing(db, entry, event):
        plan(db, entry, event)
        raise RuntimeError("crash after planning")

    release = Release(origin="x.txt", text="A title\n\nOn 3 June 2020 something.")
    with pytest.raises(RuntimeError):
        ingest(cfg, store, [release], datetime.now(UTC), planner=crashing)
    assert rows.listing(store.db) == []
    assert store.db.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == 0
    ingest(cfg, store, [release], datetime.now(UTC), planner=plan)
    assert len(rows.listing(store.db)) == 1


def test_a_huge_response_is_read_up_to_the_cap_and_kept_truncated(site, receivers):
    r = receivers([(200, {}, b"y" * 2_000_000)])
    cfg, store = setup(site, webhook_toml("chatty", r.url))
    assert run(cfg, store).delivered == 1
    (attempt,) = rows.attempts(store.db, only(store).id)
    assert attempt.response == "y" * 2000


@pytest.mark.parametrize(
    ("encoding", "packed", "kept"),
    [
        ("gzip", gzip.compress(b'{"error": "too old"}', mtime=0), '{"error": "too old"}'),
        ("deflate", zlib.compress(b"bad signature"), "bad signature"),
        ("gzip", gzip.compress(b"z" * 5_000_000, mtime=0), "z" * 2000),  # a bomb: undone to the cap
        ("gzip", b"\x1f\x8bnot gzip at all", "(a body in gzip that does not decode)"),
        ("br", b"\x8b\x02\x80hi\x03", "(a body in br)"),
    ],
    ids=["gzip", "deflate", "gzip-bomb", "not-gzip", "brotli"],  # the bytes made no id
)  # fmt: skip
def test_a_compressed_answer_is_kept_readable(site, receivers, encoding, packed, kept):
    """A push asks for answers as they are (``Accept-Encoding: identity``): requests
    asked for gzip, and a receiver behind nginx or Cloudflare answered its error
    gzipped, kept and shown as "\x1f\x8b\x08..." (a chat endpoint's reason for being
    disabled too). One that compresses all the same is undone, up to the cap."""
    r = receivers([(500, {"Content-Encoding": encoding}, packed), 200])
    cfg, store = setup(site, webhook_toml("packed", r.url))
    run(cfg, store)
    assert r.received[0].headers.get("Accept-Encoding") == "identity"
    first, *_ = rows.attempts(store.db, only(store).id)
    assert (first.status, first.response) == (500, kept)


def test_a_stale_attempt_never_overwrites_a_settled_delivery(site):
    """Two senders that both read the same head: the second one's settle is refused."""
    cfg, store = setup(site, webhook_toml("hub", "http://127.0.0.1:9/hook"))
    stale = only(store)  # what both senders saw
    ok = rows.Attempt(stale.id, 0, 1.0, 200, "delivered", None, "ok", 0.01)
    late = rows.Attempt(stale.id, 0, 2.0, 500, "retry", "HTTP 500", "", 0.01)
    with store.transaction() as db:
        assert rows.settle(db, stale, ok, rows.DELIVERED, None)
    with store.transaction() as db:
        assert not rows.settle(db, stale, late, rows.PENDING, 99.0)
    d = only(store)
    assert (d.status, d.attempts, d.last_status) == ("delivered", 1, 200)
    assert [a.status for a in rows.attempts(store.db, d.id)] == [200]


class GatedReceiver:
    """Answers 200, each request only once the test opens the gate."""

    def __init__(self, receivers) -> None:
        import threading

        self.gate = threading.Event()
        self.r = receivers([200])
        plain = self.r.answer

        def answer(h, step) -> None:
            self.gate.wait(30)
            plain(h, step)

        self.r.answer = answer


def test_shutdown_lets_the_request_in_flight_finish_and_leaves_the_rest_pending(
    site, receivers, pool
):
    gated = GatedReceiver(receivers)
    cfg, store = setup(site, webhook_toml("slow", gated.r.url))
    for name in ("b", "c"):
        (site.sources / f"{name}.txt").write_text(f"Release {name}\n\nOn 5 May 2021 news.\n")
    build_feeds(cfg, store, datetime.now(UTC))
    assert runner.counts(store)["pending"] == 3
    pool.run_due(cfg, store, wait=False)
    gated.r.wait_for(1)  # the first request is in flight, held at the gate
    import threading

    left: list[list[str]] = []
    stopper = threading.Thread(target=lambda: left.append(pool.shutdown(timeout=20)))
    stopper.start()
    deadline = time.monotonic() + 10
    while not pool.stopping:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    gated.gate.set()
    stopper.join(20)
    assert left == [[]]  # the request in flight finished within the time given
    assert len(gated.r.received) == 1  # and no new one started after the stop
    assert runner.counts(store) == {"pending": 2, "failed": 0, "delivered": 1}
    lease = store.db.execute("SELECT lease_owner FROM webhook_endpoints").fetchone()[0]
    assert lease is None  # released: the next run need not wait for it to run out
    assert runner.run_due(cfg, store).delivered == 2  # the rest, on the next run
    ids = [g.headers["webhook-id"] for g in gated.r.wait_for(3)]
    assert len(set(ids)) == 3


def test_shutdown_returns_the_endpoints_still_in_a_request_when_time_runs_out(
    site, receivers, pool
):
    gated = GatedReceiver(receivers)
    cfg, store = setup(site, webhook_toml("stuck", gated.r.url))
    pool.run_due(cfg, store, wait=False)
    gated.r.wait_for(1)
    assert pool.shutdown(timeout=0.2) == ["stuck"]
    gated.gate.set()
    deadline = time.monotonic() + 10
    while only(store).status != "delivered":  # the worker still settles what it sent
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_an_endpoint_stamped_after_the_scan_clock_still_gets_its_entries(site):
    """Finding 6, the race ordered by hand: a scan takes its clock, the deliver job then
    stamps the endpoint's first_seen a moment later, then the scan plans its entry. The
    endpoint was in the config when the entry was made: it must get it."""
    from scofeed.model import Release

    site.write_config(webhook_toml("hub", "http://127.0.0.1:9/hook"))
    cfg, store = site.config(), site.store()
    scan_clock = t(0)
    plan = outbox.planner(cfg, scan_clock)
    with store.transaction() as db:  # what run_due does on its own clock, later
        rows.ensure_endpoint(db, "hub", t(0.001).timestamp())
    release = Release(origin="x.txt", text="A title\n\nOn 3 June 2020 something.")
    ingest(cfg, store, [release], scan_clock, planner=plan)
    assert [d.endpoint for d in rows.listing(store.db)] == ["hub"]


def test_the_daemon_start_up_registers_endpoints_before_any_job(site):
    site.write_config(webhook_toml("hub", "http://127.0.0.1:9/hook"))
    cfg, store = site.config(), site.store()
    before = time.time()
    outbox.register_endpoints(cfg, store, before)
    assert rows.endpoint(store.db, "hub").first_seen == before


def _two_more_releases(site, cfg, store) -> None:
    (site.sources / "b.txt").write_text("Second release\n\nOn 5 May 2021 more news.\n")
    build_feeds(cfg, store, datetime.now(UTC))
    (site.sources / "c.txt").write_text("Third release\n\nOn 6 May 2021 even more.\n")
    build_feeds(cfg, store, datetime.now(UTC))


@pytest.mark.parametrize(
    ("fmt", "answer"),
    [
        ("slack", b"invalid_payload"),
        ("discord", b'{"code": 50035, "message": "Invalid Form Body"}'),
    ],
)
def test_a_chat_service_refusing_a_body_fails_it_at_once_and_the_queue_moves_on(
    site, receivers, fmt, answer
):
    # Slack's and Discord's 400 say this body is refused: the same bytes would be refused
    # on every attempt, and (strict order) every later entry would wait ~27 h behind it
    r = receivers([(400, {}, answer), 200])
    cfg, store = setup(site, webhook_toml("chat", r.url, format=fmt))
    _two_more_releases(site, cfg, store)
    report = run(cfg, store)
    assert (report.attempted, report.failed, report.delivered) == (3, 1, 2)
    first, *rest = sorted(rows.listing(store.db), key=lambda d: d.id)
    assert (first.status, first.attempts, first.last_status) == ("failed", 1, 400)
    assert "not retried" in (first.last_error or "")
    assert [d.status for d in rest] == ["delivered", "delivered"]


@pytest.mark.parametrize(
    ("fmt", "answer"),
    [
        ("slack", (404, b"no_service")),
        ("slack", (403, b"invalid_token")),
        ("slack", (410, b"channel_is_archived")),
        ("discord", (404, b'{"code": 10015, "message": "Unknown Webhook"}')),
        ("discord", (401, b'{"code": 50027, "message": "Invalid Webhook Token"}')),
    ],
)
def test_a_chat_webhook_that_no_longer_works_pauses_the_endpoint_losing_nothing(
    site, receivers, fmt, answer
):
    # a removed or revoked Slack/Discord webhook answers the same until the URL is
    # replaced: the endpoint is disabled, and every delivery (the one that got the
    # answer too) waits, in order, for `scofeed webhook enable`
    status, body = answer
    r = receivers([(status, {}, body), 200])
    cfg, store = setup(site, webhook_toml("chat", r.url, format=fmt))
    _two_more_releases(site, cfg, store)
    report = run(cfg, store)
    assert (report.attempted, report.disabled) == (1, ["chat"])
    ep = rows.endpoint(store.db, "chat")
    assert ep.disabled_at is not None and f"HTTP {status}" in (ep.disabled_reason or "")
    assert [d.status for d in rows.listing(store.db)] == ["pending"] * 3
    assert run(cfg, store, 3600).attempted == 0
    assert rows.enable(store.db, "chat")
    assert run(cfg, store, 3601).delivered == 3
    got = r.wait_for(4)
    assert got[0].body == got[1].body  # the paused one went first, then the others
    assert len({g.body for g in got[1:]}) == 3


def test_a_standard_endpoint_answering_400_or_404_is_still_retried(site, receivers):
    # a receiver of our own JSON events may fix itself (a deploy): the spec's failure
    r = receivers([400, 404, 200])
    cfg, store = setup(site, webhook_toml("hub", r.url))
    assert run(cfg, store).retrying == 1
    assert run(cfg, store, 10).retrying == 1
    assert run(cfg, store, 1000).delivered == 1


def test_a_receiver_answering_2xx_within_the_specs_timeout_is_delivered_once(site, receivers):
    # Standard Webhooks recommends a request timeout between 15 and 30 s: a receiver
    # that takes 11 s to answer 200 (a cold start, a slow database) has the message, and
    # must not get it again on every attempt, then see it counted as a failure
    r = receivers([("slow", 11, 200)])
    cfg, store = setup(site, webhook_toml("slow", r.url))
    assert run(cfg, store).delivered == 1
    assert len(r.received) == 1


def test_an_exhausted_rate_limit_bucket_holds_the_next_request_until_it_resets(site, receivers):
    # Discord answers every webhook request with its bucket (X-RateLimit-Remaining,
    # X-RateLimit-Reset-After) and asks senders not to use an exhausted one until it
    # resets: a 429 counts towards its ban of the sender's address, and here an attempt
    bucket = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0"}
    r = receivers([(204, {**bucket, "X-RateLimit-Reset-After": "2.5"}, b""), 204])
    cfg, store = setup(site, webhook_toml("chat", r.url, format="discord"))
    _two_more_releases(site, cfg, store)
    assert run(cfg, store).delivered == 1
    waiting = [d for d in rows.listing(store.db) if d.status == "pending"]
    assert len(waiting) == 2 and len(r.received) == 1
    head = min(waiting, key=lambda d: d.id)
    assert head.next_attempt == pytest.approx(t(2.5).timestamp(), abs=0.01)
    assert head.attempts == 0
    assert run(cfg, store, 2).attempted == 0
    assert run(cfg, store, 3).delivered == 2
    assert len(r.wait_for(3)) == 3


def test_an_empty_bucket_holds_a_delivery_queued_after_the_request_that_emptied_it(site, receivers):
    """The hold was put on the endpoint's next pending delivery only: when the request
    that emptied the bucket was the only one queued, the next release's delivery went
    straight into the empty bucket (a certain 429). The endpoint keeps the hold, and a
    delivery queued or queued again meanwhile waits for the reset."""
    bucket = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0"}
    r = receivers([(204, {**bucket, "X-RateLimit-Reset-After": "2.5"}, b""), 204, 204])
    cfg, store = setup(site, webhook_toml("chat", r.url, format="discord"))
    assert run(cfg, store).delivered == 1  # the seed's, emptying the bucket
    _two_more_releases(site, cfg, store)  # queued after it, nothing pending then
    waiting = [d for d in rows.listing(store.db) if d.status == "pending"]
    assert len(waiting) == 2
    assert [d.next_attempt for d in waiting] == pytest.approx([t(2.5).timestamp()] * 2, abs=0.01)
    assert run(cfg, store, 2).attempted == 0
    assert run(cfg, store, 3).delivered == 2
    assert len(r.wait_for(3)) == 3


@pytest.mark.parametrize("fmt", ["slack", "standard"])
def test_a_2xx_whose_body_is_cut_is_delivered_not_posted_again(site, receivers, fmt):
    # the status line is the receiver's answer (Standard Webhooks: a 2xx is success):
    # Slack has posted the message when it says 200, and a retry would post it twice
    r = receivers(["close-mid", 200])
    cfg, store = setup(site, webhook_toml("chat", r.url, format=fmt))
    assert run(cfg, store).delivered == 1
    (attempt,) = rows.attempts(store.db, only(store).id)
    assert attempt.status == 200 and attempt.outcome == "delivered"
    assert "connection closed mid-response" in (attempt.response or "")
    assert run(cfg, store, 10).attempted == 0
    assert len(r.received) == 1


@pytest.mark.parametrize(
    ("query", "sent"),
    [("", "?wait=true"), ("?thread_id=42", "?thread_id=42&wait=true"), ("?wait=0", "?wait=0")],
)
def test_discord_is_asked_to_confirm_the_message_is_saved(site, receivers, query, sent):
    # without ?wait=true Discord answers 204 before the message is saved, and "a message
    # that is not saved does not return an error": a 2xx would not mean delivered
    r = receivers([200])
    cfg, store = setup(site, webhook_toml("chat", r.url + query, format="discord"))
    assert run(cfg, store).delivered == 1
    assert [g.path for g in r.received] == ["/hook" + sent]


def test_the_test_receiver_answers_204_with_no_body_as_http_has_it(receivers):
    """The receivers these tests deliver to sent "ok" after a 204: on a kept-alive
    connection the next answer then began "okHTTP/1.1", and a delivery failed now and
    then (test_an_exhausted_rate_limit_bucket_... when the bytes came late)."""
    r = receivers([204])
    conn = http.client.HTTPConnection("127.0.0.1", r.port, timeout=10)
    try:
        for _ in range(2):  # one connection, two requests
            conn.request("POST", "/hook", body=b"{}")
            answer = conn.getresponse()
            assert (answer.status, answer.read()) == (204, b"")
    finally:
        conn.close()


def test_a_correction_made_after_the_store_went_back_gets_a_new_webhook_id(site, receivers):
    """The webhook-id was a hash of (endpoint, entry, revision, event): after the store
    went back (a backup restored, a lost -wal file), a new edit counted the same
    revision again and went out under an id the receiver had already seen, with other
    content, which a receiver de-duplicating by id (as Standard Webhooks advises)
    dropped. The content is in the id now; the same content keeps its id."""
    r = receivers([200])
    cfg, store = setup(site, webhook_toml("hub", r.url))
    state = cfg.paths.state
    seed = next(site.sources.glob("*.txt"))
    original = seed.read_text(encoding="utf-8")
    kept = site.root / "backup.sqlite3"
    with sqlite3.connect(state) as src, sqlite3.connect(kept) as dst:
        src.backup(dst)

    def restored() -> Store:
        """The store as the backup holds it (revision 2 of the seed is to come again)."""
        store.close()
        for tail in ("", "-wal", "-shm"):
            Path(f"{state}{tail}").unlink(missing_ok=True)
        shutil.copy(kept, state)
        seed.write_text(original, encoding="utf-8")
        return site.store()

    def corrected(store: Store, text: str, at: float) -> str:
        seed.write_text(original + text, encoding="utf-8")
        build_feeds(cfg, store, t(at))
        (d,) = [d for d in rows.listing(store.db) if d.event == "release.updated"]
        assert d.revision == 2
        return d.webhook_id

    first = corrected(store, "\nCorrection A.\n", 10)
    store = restored()
    second = corrected(store, "\nCorrection B, another text.\n", 20)
    assert second != first
    store = restored()
    assert corrected(store, "\nCorrection B, another text.\n", 30) == second
    store.close()


def test_the_lease_of_a_sender_killed_mid_delivery_is_taken_over_at_once(site, receivers, caplog):
    """A daemon killed with SIGKILL while sending held its endpoint's lease until it ran
    out (twice the timeout and a second): a restarted daemon sent nothing for half a
    minute and said nothing. A lease whose process on this host is gone is given back
    at the next round, and said so."""
    r = receivers([200])
    cfg, store = setup(site, webhook_toml("hub", r.url))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # its pid: a process of this host that is gone
    scope = outbox_rows.new_owner().rsplit(":", 1)[1]  # this boot's, this pid namespace's
    owner = f"{socket.gethostname()}:{dead.pid}:deadbeef:{scope}"
    with store.transaction() as db:
        db.execute(
            "UPDATE webhook_endpoints SET lease_until = ?, lease_owner = ? WHERE name = 'hub'",
            (t(3600).timestamp(), owner),
        )
    with caplog.at_level("INFO", logger="scofeed"):
        report = run(cfg, store)
    assert report.delivered == 1 and len(r.received) == 1
    said = [m.getMessage() for m in caplog.records if m.getMessage().startswith("lease_freed")]
    assert said == [f"lease_freed endpoint=hub owner={owner} (its process is gone)"]

    def freed(owner: str) -> bool:
        with store.transaction() as db:
            db.execute(
                "UPDATE webhook_endpoints SET lease_until = ?, lease_owner = ? WHERE name = 'hub'",
                (t(3600).timestamp(), owner),
            )
        targets = outbox_rows.WEBHOOK_ENDPOINTS
        return bool(outbox_rows.dead_leases(store.db, targets, t().timestamp()))

    here = socket.gethostname()
    assert not freed(outbox_rows.new_owner())  # a live sender's (this process's)
    # this pid, but not an owner this process made: a daemon before it in a container
    # started again (pid 1 each time)
    assert freed(f"{here}:{os.getpid()}:cafecafe:{scope}")
    # a pid of another boot or pid namespace (another container of this host name),
    # or an owner an older scofeed wrote: left to run out
    assert not freed(f"{here}:{dead.pid}:deadbeef:0000-1")
    assert not freed(f"{here}:{dead.pid}:deadbeef")


def test_a_webhook_address_corrected_by_a_reload_gets_its_pending_delivery_now(site):
    """A typo in a webhook's URL, fixed and reloaded: the delivery kept waiting for the
    retry the wrong address had earned (up to 10 hours). A changed URL or secret makes
    what the endpoint has pending due now; an endpoint left as it was keeps its times."""
    cfg, store = setup(
        site,
        webhook_toml("typo", "http://127.0.0.1:9/hok"),
        webhook_toml("steady", "http://127.0.0.1:9/other"),
    )
    later = time.time() + 36_000
    with store.transaction() as db:
        db.execute("UPDATE deliveries SET next_attempt = ?", (later,))
    site.write_config(
        webhook_toml("typo", "http://127.0.0.1:9/hook")
        + webhook_toml("steady", "http://127.0.0.1:9/other")
    )
    outbox.retry_corrected(cfg, site.config(), store)
    due = dict(store.db.execute("SELECT endpoint, next_attempt FROM deliveries").fetchall())
    assert due["typo"] < later - 35_000 and due["steady"] == later  # due now, not in 10 h
