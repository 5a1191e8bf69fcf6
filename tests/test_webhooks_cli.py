"""The webhook commands as a user runs them: real subprocesses, real receivers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from standardwebhooks import Webhook

import forkserver
from conftest import SECRET, SECRET_OLD, webhook_toml
from scofeed.cli import main
from scofeed.store import published as published_rows


def run(site, *args: str, rc: int | None = 0, stdin: bytes | None = None, env=None):
    proc = forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), *args],
        capture_output=True,
        input=stdin,
        cwd=site.root,
        timeout=60,
        env=env,
    )
    out = proc.stdout.decode("utf-8", "replace") + proc.stderr.decode("utf-8", "replace")
    if rc is not None:
        assert proc.returncode == rc, out
    return out


def test_deliver_list_and_redeliver(site, receivers):
    r = receivers([500, 200])
    site.write_config(webhook_toml("hub", r.url, retry_schedule=[0]))
    run(site, "build")
    out = run(site, "deliver")
    assert "attempted=1 delivered=0 retrying=0 failed=1" in out
    listed = run(site, "deliveries", "--failed")
    first = listed.splitlines()[0].split("\t")
    assert first[1:4] == ["failed", "hub", "release.published"]
    assert "#1 " in listed and " 500 failed " in listed
    assert run(site, "deliveries", "--endpoint", "nobody", rc=2).strip() == (
        "scofeed: --endpoint nobody: no such webhook in the config or the store"
    )
    assert "queued 1 delivery again" in run(site, "redeliver", "--failed", "--endpoint", "hub")
    assert "delivered=1" in run(site, "deliver")
    # the schedule redeliver started made one attempt; two were made in all
    assert "\tattempts=1 (2 in all)\t" in run(site, "deliveries")
    got = r.wait_for(2)
    assert got[0].headers["webhook-id"] == got[1].headers["webhook-id"]
    for g in got:
        Webhook(SECRET).verify(g.body, g.headers)
    assert "queued 1 delivery again" in run(site, "redeliver", first[0])
    assert "delivered=1" in run(site, "deliver")
    assert "give exactly one of" in run(site, "redeliver", rc=2)


def test_a_failed_delivery_sent_again_goes_in_the_format_its_endpoint_has_now(site, receivers):
    """Refused in the format first configured (a Slack endpoint set up as standard),
    a delivery sent again with redeliver, once the config was fixed, was the same
    refused body: it is made again in the endpoint's format, same webhook-id."""
    r = receivers([400, 200])
    site.write_config(webhook_toml("chat", r.url, retry_schedule=[0]))
    run(site, "build")
    assert "failed=1" in run(site, "deliver")
    site.write_config(webhook_toml("chat", r.url, format="discord", retry_schedule=[0]))
    assert "queued 1 delivery again" in run(site, "redeliver", "--failed")
    assert "delivered=1" in run(site, "deliver")
    first, second = r.wait_for(2)
    assert "type" in json.loads(first.body) and "embeds" in json.loads(second.body)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


def test_redeliver_never_sends_what_the_entry_no_longer_says(site, receivers):
    """A release published by mistake failed to reach the endpoint, then was withdrawn
    (its withdrawal delivered): `redeliver --failed` sent the withdrawn text after the
    withdrawal, under a webhook-id the receiver never took. Such a delivery, or one of
    an older revision, is not sent again, by --failed or by its id: each says why, and
    the rest go."""
    r = receivers([500, 500, 200, 200, 200])
    site.write_config(webhook_toml("hub", r.url, retry_schedule=[0]))
    (site.sources / "m.txt").write_text(
        "SCO statement published by mistake\n\nOn 3 June 2024, a draft went out.\n", "utf-8"
    )
    run(site, "build")
    assert "failed=2" in run(site, "deliver")  # the seed's and m.txt's
    db = site.store().db
    failed = dict(db.execute("SELECT entry_id, id FROM deliveries WHERE status = 'failed'"))
    (mistake,) = [
        row[0] for row in db.execute("SELECT id FROM entries WHERE title LIKE '%mistake'")
    ]
    (seed,) = set(failed) - {mistake}
    run(site, "withdraw", mistake, "--reason", "published by mistake")
    assert "delivered=1" in run(site, "deliver")  # the withdrawal goes
    out = run(site, "redeliver", "--failed")
    assert "queued 1 delivery again" in out  # the seed's
    assert (
        f"scofeed: delivery {failed[mistake]} (release.published, revision 1, to hub) "
        "is not sent again: its entry is withdrawn now"
    ) in out
    assert "delivered=1" in run(site, "deliver")
    got = r.wait_for(4)
    sent = [(json.loads(g.body)["type"], json.loads(g.body)["data"]["id"]) for g in got[2:]]
    assert sent == [("release.withdrawn", mistake), ("release.published", seed)]
    out = run(site, "redeliver", str(failed[mistake]), rc=1)
    assert "is not sent again: its entry is withdrawn now" in out
    # an older revision: the seed edited (revision 2 delivered), its revision 1 again
    seed_file = next(site.sources.glob("000_*.txt"))
    seed_file.write_text(seed_file.read_text("utf-8") + "\nA line added.\n", "utf-8")
    run(site, "--set", "limits.settle=0", "build")
    assert "delivered=1" in run(site, "deliver")
    out = run(site, "redeliver", str(failed[seed]), rc=1)
    assert "is not sent again: its entry is at revision 2 now, which the endpoint has" in out


def test_redeliver_sends_an_older_revision_to_an_endpoint_that_takes_no_updates(site, receivers):
    """An endpoint that takes release.published only never gets a later revision: its
    failed delivery of the first is what it asked for, and goes again."""
    r = receivers([500, 200])
    site.write_config(webhook_toml("pub", r.url, retry_schedule=[0], events=["release.published"]))
    run(site, "build")
    assert "failed=1" in run(site, "deliver")
    (failed,) = [row[0] for row in site.store().db.execute("SELECT id FROM deliveries")]
    seed_file = next(site.sources.glob("000_*.txt"))
    seed_file.write_text(seed_file.read_text("utf-8") + "\nA line added.\n", "utf-8")
    run(site, "--set", "limits.settle=0", "build")  # revision 2: nothing for this endpoint
    assert "queued 1 delivery again" in run(site, "redeliver", str(failed))
    assert "delivered=1" in run(site, "deliver")
    assert json.loads(r.wait_for(2)[1].body)["type"] == "release.published"


def test_two_pings_in_one_second_have_two_webhook_ids(site, receivers, monkeypatch):
    """A receiver de-duplicates on webhook-id: a second ``webhook test`` in the same
    second (the first found the receiver broken) must not look like a repeat."""
    r = receivers([200])
    site.write_config(webhook_toml("hub", r.url))
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)  # both in one second, for sure
    for _ in range(2):
        assert main(["--config", str(site.config_path), "webhook", "test", "hub"]) == 0
    got = r.wait_for(2)
    for g in got:
        Webhook(SECRET).verify(g.body, g.headers)
    assert got[0].headers["webhook-id"] != got[1].headers["webhook-id"]


def test_redeliver_since_backfills_a_new_endpoint(site, receivers):
    run(site, "build")  # the seed is stored before the endpoint exists
    r = receivers([200])
    site.write_config(webhook_toml("late", r.url))
    run(site, "build")
    assert "attempted=0" in run(site, "deliver")
    assert "queued 1 delivery" in run(site, "redeliver", "--since", "2020-06-01")
    run(site, "deliver")
    (got,) = r.wait_for(1)
    doc = Webhook(SECRET_OLD).verify(got.body, got.headers)
    assert doc["data"]["published"].startswith("2020-06-03")


def test_webhook_test_sends_a_signed_ping(site, receivers):
    r = receivers([(200, {}, b"pong from receiver")])
    site.write_config(
        webhook_toml("hub", r.url) + webhook_toml("inward", r.url, allow_private=False)
    )
    out = run(site, "webhook", "test", "hub")
    assert "hub: HTTP 200" in out and "pong from receiver" in out
    (got,) = r.wait_for(1)
    doc = Webhook(SECRET).verify(got.body, got.headers)
    assert doc["type"] == "ping" and doc["data"]["endpoint"] == "hub"
    out = run(site, "webhook", "test", "inward", rc=1)
    assert "refused: 127.0.0.1 resolves to 127.0.0.1" in out
    # a receiver's answer of several lines cannot pass for scofeed's own (or log) lines
    forged = b"refused\n2026-12-03 00:00:00,000 ERROR scofeed.fake: forged\x1b[2J"
    r2 = receivers([(500, {}, forged)])
    site.write_config(webhook_toml("hub", r2.url))
    out = run(site, "webhook", "test", "hub", rc=1)
    lines = out.splitlines()
    assert lines[0].startswith("hub: HTTP 500") and lines[1:] == [
        "  > refused",
        "  > 2026-12-03 00:00:00,000 ERROR scofeed.fake: forged\\x1b[2J",
    ]
    assert "no webhook named 'nope'" in run(site, "webhook", "test", "nope", rc=2)


def test_webhook_verify_reads_a_received_request(site, receivers, tmp_path):
    r = receivers([200])
    site.write_config(webhook_toml("hub", r.url))
    run(site, "build")
    run(site, "deliver")
    (got,) = r.wait_for(1)
    head = "POST /hook HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in got.headers.items())
    request = tmp_path / "request.http"
    request.write_bytes(head.encode() + b"\r\n" + got.body)
    out = run(site, "webhook", "verify", "--secret", SECRET, str(request))
    assert f"signature valid: webhook-id {got.headers['webhook-id']}" in out
    out = run(site, "webhook", "verify", "--secret", SECRET_OLD, "-", stdin=request.read_bytes())
    assert "signature valid" in out
    (tmp_path / "h.txt").write_text(head)
    (tmp_path / "b.json").write_bytes(got.body.replace(b"Jingdong", b"Jingd0ng"))
    args = ["--headers", str(tmp_path / "h.txt"), "--body", str(tmp_path / "b.json")]
    out = run(site, "webhook", "verify", "--secret", SECRET, *args, rc=1)
    assert "signature INVALID: no v1 signature matches" in out
    env = dict(os.environ, RECEIVER_SECRET=SECRET)
    out = run(site, "webhook", "verify", "--secret", "env:RECEIVER_SECRET", str(request), env=env)
    assert "signature valid" in out
    # a secret that is none is a usage error (2), not a signature found invalid (1)
    for secret, where in (("whsec_abc", "inline"), ("env:RECEIVER_SECRET", "env:RECEIVER_SECRET")):
        env["RECEIVER_SECRET"] = "not base64!"
        out = run(site, "webhook", "verify", "--secret", secret, str(request), rc=2, env=env)
        assert out == (
            "scofeed: --secret: expected 'whsec_' followed by base64 of 16 to 128 bytes, or that "
            f"base64 alone (from {where}; value not shown)\n"
        )


def test_secrets_never_appear_in_output_or_logs(site, receivers, monkeypatch):
    ok, bad = receivers([200]), receivers([500])
    site.write_config(webhook_toml("ok", ok.url) + webhook_toml("bad", bad.url))
    outputs = [
        run(site, "-vv", "build"),
        run(site, "-vv", "deliver"),
        run(site, "-vv", "deliveries"),
        run(site, "-vv", "webhook", "test", "ok"),
        run(site, "config", "show"),
    ]
    site.write_config(webhook_toml("bad", bad.url, secret=[SECRET, SECRET_OLD + "!"]))
    outputs.append(run(site, "config", "check", rc=2))
    text = "\n".join(outputs)
    assert "webhook_id=msg_" in text and 'secret = ["***", "***"]' in text
    for secret in (SECRET, SECRET_OLD):
        assert secret[6:18] not in text


def test_a_killed_sender_resends_after_restart_with_the_same_webhook_id(site, receivers):
    r = receivers(["hang", 200])
    site.write_config(webhook_toml("hub", r.url, timeout=2))
    run(site, "build")
    proc = forkserver.Popen(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "deliver"],
        cwd=site.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        r.wait_for(1)  # the request is in flight, the receiver holds it
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    listed = run(site, "deliveries")
    assert "\tpending\t" in listed and "attempts=0" in listed
    deadline = time.monotonic() + 30
    while len(r.received) < 2:  # the dead sender's lease runs out, then it goes again
        assert time.monotonic() < deadline, "not resent after restart"
        run(site, "deliver")
    first, second = r.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    doc = Webhook(SECRET).verify(second.body, second.headers)
    assert doc["type"] == "release.published"
    assert "\tdelivered\t" in run(site, "deliveries")
    assert json.loads(second.body)["data"]["revision"] == 1


def test_410_disables_and_enable_resumes(site, receivers):
    r = receivers([410, 200])
    site.write_config(webhook_toml("hub", r.url))
    run(site, "build")
    out = run(site, "deliver")
    assert "endpoint hub is disabled (HTTP 410 Gone); its deliveries wait" in out
    assert "endpoint hub is disabled since" in run(site, "deliveries")
    assert "hub: enabled again" in run(site, "webhook", "enable", "hub")
    run(site, "redeliver", "--failed")
    assert "delivered=1" in run(site, "deliver")


def test_help_on_every_webhook_command(capsys):
    from scofeed.cli import main

    for cmd in (
        ["deliver"],
        ["deliveries"],
        ["redeliver"],
        ["webhook"],
        ["webhook", "test"],
        ["webhook", "verify"],
        ["webhook", "enable"],
    ):
        with pytest.raises(SystemExit) as stop:
            main([*cmd, "--help"])
        assert stop.value.code == 0
        assert "usage: scofeed" in capsys.readouterr().out


def test_redelivering_to_a_disabled_endpoint_says_it_waits_for_enable(site, receivers):
    r = receivers([410, 200])
    site.write_config(webhook_toml("hub", r.url))
    run(site, "build")
    assert "is disabled (HTTP 410 Gone)" in run(site, "deliver")
    out = run(site, "redeliver", "--failed")
    assert "queued 1 delivery again" in out
    assert "endpoint hub is disabled" in out and "scofeed webhook enable hub" in out
    assert "attempted=0" in run(site, "deliver")  # it waits, as the note says
    assert "enabled again" in run(site, "webhook", "enable", "hub")
    out = run(site, "redeliver", "1")
    assert "queued 1 delivery again" in out and "is disabled" not in out
    assert "delivered=1" in run(site, "deliver")


def test_a_typo_and_an_unknown_id_are_told_apart_from_nothing_found(site, receivers):
    """`deliveries --endpoint partnr` said "no deliveries" and exited 0 (a typo read as
    "nothing was sent there"), while `redeliver --endpoint partnr` refused it; an
    endpoint removed from the config still lists what the store holds for it.
    `redeliver 99` was a usage error (exit 2) where `show` of an unknown id exits 1."""
    r = receivers([200])
    site.write_config(webhook_toml("hub", r.url))
    run(site, "build")
    assert "delivered=1" in run(site, "deliver")
    assert run(site, "deliveries", "--endpoint", "hubb", rc=2).strip() == (
        "scofeed: --endpoint hubb: no such webhook in the config or the store"
    )
    site.write_config()  # the endpoint is removed from the config; its rows stay
    assert "\thub\trelease.published\t" in run(site, "deliveries", "--endpoint", "hub")
    assert run(site, "redeliver", "99", rc=1).strip() == "scofeed: no delivery with id 99"


def test_commands_that_store_nothing_make_no_store(site, receivers):
    """`webhook test` (a ping, nothing stored) and `poll` with no remote source left a
    new empty store behind when run with a config nothing was built with; `webhook
    enable` made one to enable nothing. A build makes it."""
    r = receivers([200])
    site.write_config(webhook_toml("hub", r.url))
    state = site.config().paths.state
    assert "hub: HTTP 200" in run(site, "webhook", "test", "hub")
    assert "no remote sources configured" in run(site, "poll")
    out = run(site, "webhook", "enable", "hub", rc=1)
    assert out.startswith(f"scofeed: {state}: no state store here (")
    assert not state.exists() and not state.parent.exists()
    run(site, "build")
    assert run(site, "webhook", "enable", "hub").strip() == "hub: was not disabled"


def test_what_a_receiver_answers_reaches_the_terminal_escaped(site, receivers):
    """A receiver's answer (printed by `webhook test`, kept as the reason a chat
    endpoint was paused and shown by `webhook deliveries`) is the receiver's to write:
    an ANSI escape in it went raw to the operator's terminal."""
    answer = b'{"ok": false,\n "error": "\x1b]0;owned\x07\x1b[2Jgone"}'
    r = receivers([(200, {}, answer), (404, {}, answer)])
    site.write_config(webhook_toml("hub", r.url, format="slack"))
    out = run(site, "webhook", "test", "hub")
    assert '  > {"ok": false,\n  >  "error": "\\x1b]0;owned\\x07\\x1b[2Jgone"}' in out
    run(site, "build")
    run(site, "deliver")
    out = run(site, "deliveries")
    assert "\\x1b]0;owned\\x07\\x1b[2Jgone" in out
    assert "\x1b" not in out and "\x07" not in out


def test_redeliver_since_queues_nothing_an_endpoint_has_after_its_tags_changed(site, receivers):
    """A webhook-id names a version's content; a [tags] rule added later changes an
    entry's tags, and so its content hash, without a new revision: `redeliver --since`
    queued the endpoint the revision it already had, under another id (its receiver
    could not tell it was a repeat). It queues nothing it has."""
    r = receivers([200])
    site.write_config(webhook_toml("hub", r.url))
    run(site, "build")
    assert "delivered=1" in run(site, "deliver")
    assert "queued 0 deliveries" in run(site, "redeliver", "--since", "2020-06-01")
    text = site.config_path.read_text(encoding="utf-8")
    text = text.replace("[tags]\n", '[tags]\nbusiness = ["Jingdong"]\n')
    site.config_path.write_text(text, encoding="utf-8")
    run(site, "build")
    (seed,) = [e for e in published_rows.latest(site.store().db)]
    assert "business" in seed.tags  # the entry's content changed, its revision did not
    assert "queued 0 deliveries" in run(site, "redeliver", "--since", "2020-06-01")
    assert [row[0] for row in site.store().db.execute("SELECT count(*) FROM deliveries")] == [1]
