"""scofeed status and scofeed webhook list: the daemon, next polls, endpoints, the
quarantine, and the refusal to make a store nobody configured."""

from __future__ import annotations

import os
import re
import time
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from werkzeug import Response

from conftest import run_cli, webhook_toml
from scofeed.add import add_release
from scofeed.cli import main
from scofeed.cli.status import span_text
from scofeed.errors import KnownRelease, NormaliseError
from scofeed.poll import poll_due
from scofeed.serve import App, HttpServer
from scofeed.store import activitypub as activitypub_rows
from scofeed.store import deliveries as delivery_rows
from scofeed.store import files as file_rows
from scofeed.store import runs
from scofeed.store import sources as source_rows
from scofeed.store.lock import PidLock, lock_path
from servers import HTTPServer
from test_remote import add_source

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ENVOY_MD = b"""---
title: SCO meets envoy
url: http://eng.sectsco.org/20210603/1.html
---
On 3 June 2021, the envoy came to the SCO Secretariat.
"""
DAY = 86400


def status(site, capsys, *args: str) -> str:
    assert main(["--config", str(site.config_path), *args, "status"]) == 0
    return capsys.readouterr().out


def sources_table(out: str) -> dict[str, list[str]]:
    head, *rows = out.split("\n\n")[0].splitlines()
    assert head.split()[:9] == ["SOURCE", "KIND", "LAST", "POLL", "ENTRIES", "NEXT", "POLL",
                                "LAST", "RESULT"]  # fmt: skip
    return {r.split()[0]: r.split() for r in rows}


def test_without_a_config_file_status_names_it_and_makes_no_store(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCOFEED_CONFIG", raising=False)
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert f"no config file: looked for {tmp_path / 'config.toml'}" in err
    assert "--config PATH or set SCOFEED_CONFIG" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["add", "/nonexistent/release.txt"], "cannot read (No such file or directory)"),
        (["build"], "sources folder does not exist"),
    ],
)
def test_a_command_that_fails_in_the_wrong_folder_leaves_nothing_there(
    tmp_path, monkeypatch, capsys, argv, said
):
    """Run with no config in a folder that is no site (the built-in defaults), a
    command that failed on its input, or on the missing sources/, left a new empty
    store (state/scofeed.sqlite3) behind."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCOFEED_CONFIG", raising=False)
    assert main(argv) != 0
    assert said in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_failing_job_is_said_while_the_config_runs_it(site, capsys):
    """A failing poll of a source is said in `status` while the source is polled; one
    removed from the config (the fix for a source that broke) is not said for ever."""
    add_source(site, "http://127.0.0.1:9/feed.xml", name="gazette", kind="feed")
    with site.store().transaction() as db:
        for name in ("poll:gazette", "poll:removed", "scan"):
            runs.record(db, runs.Run(name, 1.0e9, 1.0e9 + 1, False, "", "HTTP 404"))
    assert main(["--config", str(site.config_path), "status"]) == 0
    said = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("failing:")]
    assert [ln.split(",")[0] for ln in said] == ["failing: job poll:gazette", "failing: job scan"]
    assert said[0].endswith("(never ok): HTTP 404")


def test_a_source_removed_leaves_health_metrics_and_status_alike(site, capsys):
    """Its failing poll and the pages it refused stayed in /healthz and /metrics for
    ever (`status` had stopped saying the poll): no poll will find them fixed. An
    endpoint removed was "retrying" in /metrics for ever; it is "unconfigured"."""
    add_source(site, "http://127.0.0.1:9/feed.xml", name="gazette", kind="feed")
    with site.store().transaction() as db:
        for name in ("poll:gazette", "poll:removed"):
            runs.record(db, runs.Run(name, 1.0e9, 1.0e9 + 1, False, "", "HTTP 404"))
        runs.record(db, runs.Run("scan", 1.0e9, 1.0e9 + 1, True, "found=0"))
        for source in ("gazette", "removed"):
            file_rows.reject(db, f"http://127.0.0.1:9/{source}.html", source, "no body", 1e9, None)
        # and a webhook endpoint removed, its delivery kept: sent no more, retried no more
        delivery_rows.enqueue(db, "hook", "tag:x,2026:release/1", 1, "release.published",
                              b"{}", 0.0)  # fmt: skip
    cfg = site.config("serve.metrics_token='t0ken-for-the-scrape'")
    store = site.store()
    server = HttpServer(App(lambda: cfg, store), "127.0.0.1", 0)
    server.start()
    base = "http://{}:{}".format(*server.addresses[0][:2])
    try:
        health = requests.get(f"{base}/healthz", timeout=10).json()
        metrics = requests.get(
            f"{base}/metrics", headers={"Authorization": "Bearer t0ken-for-the-scrape"}, timeout=10
        ).text
    finally:
        server.stop()
        store.close()
    said = [e.get("job") or e["source"] for e in health["last_errors"]]
    assert sorted(said) == ["gazette", "poll:gazette"] and "poll:removed" not in health["jobs"]
    assert 'job="poll:gazette"' in metrics and "poll:removed" not in metrics
    assert "scofeed_rejected_inputs 1.0" in metrics
    state = 'scofeed_webhook_endpoint_state{endpoint="hook",state="%s"}'
    assert f"{state % 'unconfigured'} 1.0" in metrics and f"{state % 'active'} 0.0" in metrics
    out = status(site, capsys)
    assert "removed.html" not in out and "gazette.html" in out


def test_status_says_whether_a_daemon_holds_the_store(site, capsys):
    site.store().close()  # the store a daemon makes at its start (status makes none)
    assert "daemon: not running (no `scofeed run` holds " in status(site, capsys)
    lock = PidLock(lock_path(site.config().paths.state))
    lock.acquire()
    try:
        out = status(site, capsys)
    finally:
        lock.release()
    line = next(x for x in out.splitlines() if x.startswith("daemon:"))
    assert line.startswith(f"daemon: running, pid {os.getpid()}, up ")
    assert "(since 20" in line
    assert "daemon: not running" in status(site, capsys)


def test_status_gives_the_stores_size_and_entries(site, capsys):
    assert main(["--config", str(site.config_path), "build"]) == 0
    capsys.readouterr()
    line = next(x for x in status(site, capsys).splitlines() if x.startswith("store:"))
    state = site.config().paths.state
    found = re.fullmatch(
        rf"store: {re.escape(str(state))}, (\d+\.\d) MB, published entries: 1", line
    )
    assert found, line
    assert float(found[1]) >= round(state.stat().st_size / 1e6, 1)  # and its WAL


def test_uptime_text_names_the_largest_two_units():
    assert [span_text(s) for s in (5, 125, 3 * 3600 + 7 * 60, 2 * DAY + 5 * 3600)] == [
        "5s",
        "2m 05s",
        "3h 07m",
        "2d 5h",
    ]


def test_next_poll_of_each_remote_source(site, capsys):
    site.write_config(
        '\n[[sources]]\nname = "due"\nkind = "feed"\nurl = "https://a.example/f.xml"\n'
        '\n[[sources]]\nname = "later"\nkind = "feed"\nurl = "https://b.example/f.xml"\n'
        '\n[[sources]]\nname = "off"\nkind = "feed"\nurl = "https://c.example/f.xml"\n'
        "enabled = false\n"
    )
    store = site.store()
    soon = time.time() + 3600
    with store.transaction() as db:
        source_rows.record_poll(db, "later", "feed", soon - 7200, soon, "ok", None)
        source_rows.record_poll(db, "off", "feed", soon - 7200, soon, "ok", None)
    rows = sources_table(status(site, capsys))
    assert rows["local"][5] == "-"  # "local (PATH)" is two words
    assert rows["due"][4] == "now"  # never polled: the daemon's next tick polls it
    assert rows["later"][4] == datetime.fromtimestamp(soon, UTC).isoformat(timespec="seconds")
    assert rows["off"][4] == "-"


def test_an_add_reject_leaves_status_once_the_input_reads_even_if_known(site, capsys):
    cfg, store, now = site.config(), site.store(), datetime.now(UTC)
    add_release(cfg, store, ENVOY_MD, ".md", "good.md", now)
    broken = ENVOY_MD.replace(b"On 3 June 2021, the envoy came to the SCO Secretariat.\n", b"")
    with pytest.raises(NormaliseError):
        add_release(cfg, store, broken, ".md", "draft.md", now)
    assert "add     draft.md" in status(site, capsys)
    with pytest.raises(KnownRelease):  # fixed, and it turns out to be known already
        add_release(cfg, store, ENVOY_MD, ".md", "draft.md", now)
    assert "rejected inputs: none" in status(site, capsys)


def test_a_wide_file_name_keeps_the_status_columns_in_line(site, capsys):
    """Columns were padded by characters: a Chinese name (two terminal columns each)
    pushed its REASON out of line with the header's."""
    (site.sources / "上合组织新闻稿.txt").write_bytes(b"\xff\xfe\x00")
    (site.sources / "plain.json").write_text("{", encoding="utf-8")
    assert main(["--config", str(site.config_path), "build"]) == 1
    capsys.readouterr()
    lines = status(site, capsys).split("rejected inputs: 2")[1].strip().splitlines()
    assert lines[0].split() == ["AT", "SOURCE", "INPUT", "REASON"]
    assert {reason_column(line) for line in lines} == {reason_column(lines[0])}


def reason_column(row: str) -> int:
    """The terminal column where a row's fourth cell starts."""
    starts = [m.end() for m in re.finditer(r"  +", row)]
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in row[: starts[2]])


def test_an_add_reject_ages_out_after_reject_ttl_days(site, capsys):
    cfg, store = site.config(), site.store()
    with pytest.raises(NormaliseError):
        add_release(cfg, store, b"Title only\n", ".txt", "<stdin>", datetime.now(UTC))
    (site.sources / "broken.json").write_text("{nope", encoding="utf-8")
    main(["--config", str(site.config_path), "build"])
    with store.transaction() as db:  # both were refused three days ago
        db.execute("UPDATE rejects SET at = ?", (time.time() - 3 * DAY,))
    out = status(site, capsys)
    assert "rejected inputs: 2" in out and "<stdin>" in out
    out = status(site, capsys, "--set", "limits.reject_ttl=2")
    # a file in sources/ stays until it is fixed or removed, whatever its age
    assert "rejected inputs: 1" in out and "broken.json" in out and "<stdin>" not in out


def test_webhook_list_and_the_endpoints_in_status(site, capsys, receivers):
    r = receivers([500])
    site.write_config(
        webhook_toml("hub", r.url, retry_schedule=[0], languages=["en"], tags=["economy"])
        + webhook_toml(
            "gone", "https://user:token@hooks.example:8443/x/***", events=["release.updated"]
        )
        + webhook_toml("chat", "https://chat.example/hook", title_pattern="SCO")
    )
    assert main(["--config", str(site.config_path), "build"]) == 0
    assert main(["--config", str(site.config_path), "deliver"]) == 0
    store = site.store()
    with store.transaction() as db:
        delivery_rows.ensure_endpoint(db, "gone", 0.0)
        delivery_rows.disable(db, "gone", NOW.timestamp(), "HTTP 410 Gone")
        delivery_rows.enqueue(db, "removed", "tag:x,2026:release/1", 1, "release.published",
                              b"{}", 0.0)  # fmt: skip
    capsys.readouterr()
    assert main(["--config", str(site.config_path), "webhook", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "HOST", "EVENTS", "FILTERS", "PENDING", "FAILED", "STATE"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert list(rows) == ["hub", "gone", "chat", "removed"]
    host = r.url.split("/")[2]
    events = "release.published,release.updated,release.withdrawn,release.restored"
    assert rows["hub"].split()[1:5] == [host, events, "tags=economy", "languages=en"]
    assert rows["hub"].split()[5:] == ["0", "1", "active"]
    assert rows["gone"].split()[1:3] == ["hooks.example:8443", "release.updated"]
    assert "token" not in rows["gone"]
    assert rows["gone"].endswith("disabled since 2026-01-01T00:00:00+00:00: HTTP 410 Gone")
    assert "title~'SCO'" in rows["chat"] and " 1        0       retrying since " in rows["chat"]
    assert ": cannot resolve the host name, 1 attempt, next " in rows["chat"]  # chat.example
    assert rows["removed"].endswith("not configured")
    out = status(site, capsys)
    block = next(b for b in out.split("\n\n") if b.startswith("WEBHOOK"))
    assert block.splitlines()[0].split() == ["WEBHOOK", "PENDING", "FAILED", "STATE"]
    assert [line.split()[:3] for line in block.splitlines()[1:]] == [
        ["hub", "0", "1"],
        ["gone", "0", "0"],
        ["chat", "1", "0"],
        ["removed", "1", "0"],
    ]


def test_every_command_has_a_one_line_description(capsys):
    from scofeed.cli import parser

    def walk(p, path):
        for action in p._actions:
            if action.__class__.__name__ == "_SubParsersAction":
                listed = {a.dest: a.help for a in action._choices_actions}
                for name, sub in action.choices.items():
                    yield [*path, name], listed.get(name), sub
                    yield from walk(sub, [*path, name])

    commands = list(walk(parser(), []))
    assert ["webhook", "list"] in [c for c, _, _ in commands]
    for command, help_line, sub in commands:
        assert help_line and len(help_line) <= 58, command  # one line in `--help` at 80 columns
        assert sub.description, command


def test_an_endpoint_that_keeps_failing_is_not_shown_as_active(site, capsys, receivers):
    # a receiver down for a day: its deliveries wait behind the oldest, retried on the
    # schedule; the operator must see that, why, since when and the next try, not "active"
    r = receivers([(503, {}, b"down for maintenance")])
    site.write_config(webhook_toml("hub", r.url) + webhook_toml("ok", receivers([200]).url))
    assert main(["--config", str(site.config_path), "build"]) == 0
    assert main(["--config", str(site.config_path), "deliver"]) == 0
    (d,) = delivery_rows.listing(site.store().db, endpoint="hub")
    (first,) = delivery_rows.attempts(site.store().db, d.id)
    expected = (
        f"retrying since {delivery_rows_iso(first.at)}: HTTP 503, 1 attempt, "
        f"next {delivery_rows_iso(d.next_attempt)}"
    )
    out = status(site, capsys)
    block = next(b for b in out.split("\n\n") if b.startswith("WEBHOOK"))
    rows = {line.split()[0]: line for line in block.splitlines()[1:]}
    assert rows["hub"].endswith(expected), rows["hub"]
    assert rows["ok"].endswith("active")
    assert main(["--config", str(site.config_path), "webhook", "list"]) == 0
    assert expected in capsys.readouterr().out


def delivery_rows_iso(ts):
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="seconds")


def test_a_lock_file_that_cannot_be_read_is_said_not_a_traceback(site):
    """`status` and `reload` opened the daemon's lock file and died with a traceback
    when they could not (the daemon's own file, mode 0600, read by another user; here
    a symlink loop, which root cannot open either)."""
    assert run_cli(site, "build").returncode == 0
    lock = Path(str(site.config().paths.state) + ".lock")
    lock.symlink_to(lock)
    why = f"{lock}: cannot read the daemon's lock file (Too many levels of symbolic links)"
    proc = run_cli(site, "status")
    assert proc.returncode == 0, proc.stderr
    assert f"daemon: unknown ({why})" in proc.stdout.splitlines()
    proc = run_cli(site, "reload")
    assert (proc.returncode, proc.stderr) == (1, f"scofeed: {why}\n")


def test_what_remote_servers_wrote_reaches_the_terminal_escaped(site, capsys):
    """A polled server's reason phrase and a follower's actor id are theirs to write: an
    ANSI escape in either went raw to the operator's terminal through `scofeed status`
    and `scofeed ap followers` (and raw into the store, /healthz and the logs)."""
    server = HTTPServer()
    server.start()
    try:
        server.expect_request("/feed.xml").respond_with_response(
            Response("no", status="400 Bad \x1b]0;owned\x07\x1b[2JRequest")
        )
        add_source(site, server.url_for("/feed.xml"), name="hostile", kind="feed")
        cfg = site.config()
        store = site.store()
        (result,) = poll_due(cfg, store, datetime.now(UTC)).results
        assert result.status == "error" and "\x1b" not in (result.error or "")
        with store.transaction() as db:
            actor = "https://evil.example/u\x1b]0;owned\x07"
            activitypub_rows.add_follower(db, actor, actor + "/inbox", None, "f1", time.time())
    finally:
        server.stop()
    out = status(site, capsys)
    assert main(["--config", str(site.config_path), "ap", "followers"]) == 0
    out += capsys.readouterr().out
    assert "Bad \\x1b]0;owned\\x07\\x1b[2JRequest" in out and "u\\x1b]0;owned\\x07" in out
    assert "\x1b" not in out and "\x07" not in out


def test_a_cron_build_beside_serve_is_what_healthz_and_status_tell(site):
    """``scofeed serve`` beside a cron job's ``scofeed build`` (a deployment the docs
    describe): /healthz said "starting" for ever, with no jobs, and a failed build
    showed nowhere. Each build is kept as the ``build`` job's run; with no daemon's
    scan, it is what the health is. A failed one is past once the daemon's scan works."""
    assert run_cli(site, "build").returncode == 0
    cfg, store = site.config(), site.store()
    server = HttpServer(App(lambda: cfg, store), "127.0.0.1", 0)
    server.start()
    host, port = server.addresses[0][:2]
    try:
        health = requests.get(f"http://{host}:{port}/healthz", timeout=10).json()
        assert health["status"] == "ok" and health["jobs"]["build"]["ok"] is True
        atom = cfg.paths.feeds / "atom.xml"  # the next build cannot write it
        atom.unlink()
        atom.mkdir()
        (site.sources / "new.txt").write_text(
            "SCO release after\n\nOn 3 June 2020 it came.\n", encoding="utf-8"
        )
        failed = run_cli(site, "build")
        assert failed.returncode != 0 and str(atom) in failed.stderr
        health = requests.get(f"http://{host}:{port}/healthz", timeout=10).json()
        assert health["status"] == "failing"
        assert [e["job"] for e in health["last_errors"]] == ["build"]
        assert str(atom) in health["last_errors"][0]["error"]
        assert "failing: job build, its last run" in run_cli(site, "status").stdout
        # the daemon's scan working since: the failed build is past
        runs.record(store.db, runs.Run("scan", time.time(), time.time() + 1, True, "found=0"))
        assert "failing:" not in run_cli(site, "status").stdout
        health = requests.get(f"http://{host}:{port}/healthz", timeout=10).json()
        assert health["status"] == "ok" and health["last_errors"] == []
    finally:
        server.stop()
        store.close()
