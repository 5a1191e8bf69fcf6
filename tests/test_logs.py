"""``[log] format``: the daemon's lines as JSON, one object a line, whatever they quote;
a reload switches the format; the text format stays the default."""

from __future__ import annotations

import http.client
import io
import json
import logging
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime

import test_daemon
from conftest import SEED, webhook_toml
from scofeed.build import build
from scofeed.logs import JsonLines
from scofeed.serve import App, HttpServer
from scofeed.store import Store
from test_daemon import cli, wait_for

start = test_daemon.start  # the daemon-as-a-subprocess fixture


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line]


def test_the_daemon_logs_json_lines_and_a_reload_switches_to_text(start, site):
    d = start(extra='format = "json"\n')
    # a file name that would forge a line and clear the terminal, written raw
    (site.sources / 'forged\n{"level": "ERROR"}\x1b[2J.txt').write_bytes(b"")
    wait_for(lambda: "rejected origin=" in d.log(), what="the empty file's rejection")
    logged = [json.loads(line) for line in lines(d.log())]  # every line: one object
    assert {"time", "level", "logger", "message"} <= set(logged[0])
    assert all(doc["time"].endswith("Z") for doc in logged)
    started = next(doc for doc in logged if doc.get("event") == "started")
    assert started["logger"] == "scofeed.daemon" and started["level"] == "INFO"
    (rejected,) = [doc for doc in logged if doc.get("event") == "rejected"]
    assert rejected["level"] == "INFO" and rejected["logger"] == "scofeed.build"
    assert '\\n{"level": "ERROR"}\\x1b[2J.txt' in rejected["message"]
    assert "\x1b" not in d.log()

    count = len(lines(d.log()))
    site.config_path.write_text(site.config_path.read_text().replace('format = "json"\n', ""))
    assert cli(site, "reload").returncode == 0
    wait_for(lambda: "jobs_loaded" in "".join(lines(d.log())[count:]), what="the reload")
    after = [line for line in lines(d.log())[count:] if "jobs_loaded" in line]
    assert after and not after[-1].startswith("{") and " INFO scofeed.schedule: " in after[-1]


def test_a_broken_reload_keeps_the_running_format(start, site):
    d = start(extra='format = "json"\n')
    site.config_path.write_text(
        site.config_path.read_text()
        .replace('format = "json"\n', "")
        .replace("[site]\n", "[site]\ntitle = 5\n", 1)
    )
    count = len(lines(d.log()))
    d.proc.send_signal(1)  # SIGHUP: the reload command itself would refuse this file
    wait_for(lambda: "reload_failed" in d.log(), what="the reload failure in the log")
    # every line after it still JSON (a job's line may come between: not only the one)
    after = [json.loads(line) for line in lines(d.log())[count:]]
    (failed,) = [e for e in after if e.get("event") == "reload_failed"]
    assert "site.title" in failed["message"]


def test_a_json_line_holds_its_traceback():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonLines())
    logger = logging.getLogger("scofeed.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("bad\nvalue")
        except ValueError:
            logger.exception("job_failed job=%s", "scan")
        logger.warning("Plain words, no event here")
    finally:
        logger.removeHandler(handler)
    first, second = [json.loads(line) for line in out.getvalue().splitlines()]
    assert first["event"] == "job_failed" and first["message"] == "job_failed job=scan"
    assert first["exception"].startswith("Traceback (most recent call last):")
    assert first["exception"].endswith("ValueError: bad\nvalue")  # in its one line
    assert "event" not in second


def test_text_stays_the_default(site):
    (site.sources / "empty.txt").write_bytes(b"")
    done = cli(site, "-v", "build")
    assert done.returncode == 1
    said = lines(done.stderr)
    assert said and not any(line.startswith("{") for line in said)
    assert any(" INFO scofeed.build: rejected origin=empty.txt" in line for line in said)


FEEDLY = "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 12 subscribers)"


def test_the_access_log_has_a_line_for_every_request(start, site):
    """``serve.access_log``: every request a line, the feeds' repeated GETs too (a worker
    answers them, not the poll loop, which has no client address to log); the client
    behind a trusted proxy is the one its header names."""
    d = start(extra='\n[serve]\naccess_log = true\ntrusted_proxies = ["127.0.0.1/32"]\n')
    first = d.get("/atom.xml", User_Agent=FEEDLY, X_Forwarded_For="203.0.113.9")
    again = d.get("/atom.xml", User_Agent=FEEDLY)  # a fresh answer in memory: no worker
    assert first.status_code == again.status_code == 200
    assert d.get("/atom.xml", If_None_Match=first.headers["ETag"]).status_code == 304
    assert d.get("/nothing-here", User_Agent="x").status_code == 404
    wait_for(lambda: "path=/nothing-here" in d.log(), what="the 404's line")
    said = [line for line in lines(d.log()) if " scofeed.access: access " in line]
    assert "path=/healthz status=200 " in said[0]  # the fixture's own wait for the daemon
    said = [line for line in said if "path=/healthz " not in line]
    size = int(first.headers["Content-Length"])  # as sent: gzipped
    assert len(said) == 4, said
    assert f"client=203.0.113.9 method=GET path=/atom.xml status=200 bytes={size} " in said[0]
    assert f"client=127.0.0.1 method=GET path=/atom.xml status=200 bytes={size} " in said[1]
    assert said[0].endswith(f'agent="{FEEDLY}"') and said[1].endswith(f'agent="{FEEDLY}"')
    assert "status=304 bytes=0 " in said[2]
    assert "path=/nothing-here status=404 " in said[3] and said[3].endswith('agent="x"')


def test_no_access_log_by_default(start, site):
    d = start()
    assert d.get("/atom.xml").status_code == 200
    assert d.get("/nothing-here").status_code == 404
    assert d.stop() == 0
    assert " access " not in d.log()


LOGFMT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')  # as a logfmt reader splits a line


def test_an_access_line_takes_no_fields_from_the_path_or_the_agent(site, caplog):
    """The path is logged percent-encoded as a URL spells it: decoded (as ``PATH_INFO``
    is), a ``%20`` in it wrote fields of its own into the line (``client=``, read by a
    key=value parser in place of the true one), and a UTF-8 path showed as Latin-1. The
    agent is in double quotes: in Python's repr (``agent='a client=10.9.9.9'``) a logfmt
    reader took the rest of it for fields of their own."""
    cfg = site.config("serve.access_log=true")
    store = Store(cfg.paths.state)
    server = HttpServer(App(lambda: cfg, store), "127.0.0.1", 0)
    server.start()
    agent = "Reader/1.0 client=10.9.9.9 status=200"
    try:
        host, port = server.addresses[0]
        for path in ("/x%20client=10.9.9.9%20status=200", "/tags/%D1%80%D1%83/%2541"):
            conn = http.client.HTTPConnection(host, port, timeout=10)
            with caplog.at_level(logging.INFO, logger="scofeed.access"):
                conn.request("GET", path, headers={"User-Agent": agent})
                assert conn.getresponse().status == 404
            conn.close()
    finally:
        server.stop()
        store.close()
    forged, cyrillic = [r.getMessage() for r in caplog.records if r.name == "scofeed.access"]
    assert " path=/x%20client=10.9.9.9%20status=200 status=404 " in forged
    assert " path=/tags/%D1%80%D1%83/%2541 status=404 " in cyrillic
    for line in (forged, cyrillic):
        read = dict(LOGFMT.findall(line))  # the last of a key wins, as in most readers
        assert (read["client"], read["status"]) == ("127.0.0.1", "404")
        assert json.loads(read["agent"]) == agent


def test_under_json_the_daemons_banner_and_last_words_are_json_lines(start, site):
    """Under systemd the daemon's stdout and stderr are one journal: with ``log.format =
    "json"`` its start-up banner (the addresses, the feeds to subscribe to) and the line
    a command ends with (``scofeed: ...``, a second daemon refused) were plain text in
    the middle of the JSON, and a reader of it (``journalctl -o cat | jq``) stopped there."""
    d = start(extra='format = "json"\n')
    assert lines(d.out.read_text()) == []  # nothing plain on stdout: the banner is logged
    (banner,) = [doc for doc in map(json.loads, lines(d.log())) if doc.get("event") == "ready"]
    assert f":{d.port}/atom.xml" in banner["message"]
    second = cli(site, "run", "--port", "0")  # the store's daemon runs: refused
    assert second.returncode == 1
    (refused,) = [json.loads(line) for line in lines(second.stderr)]
    assert refused["level"] == "ERROR" and refused["logger"] == "scofeed"
    assert refused["message"].startswith("scofeed: ") and "running" in refused["message"]


FORGED = "2026-12-02 10:00:00,000 ERROR scofeed.build: rejected origin=forged.txt"
LOGGED = f"""
import logging, sys, threading
from scofeed.cli import setup_logging
from scofeed.logs import use_format
setup_logging("INFO")
use_format(sys.argv[1])
try:
    raise ValueError("the server answered:\\n{FORGED}")
except ValueError:
    logging.getLogger("scofeed.poll").exception("poll_failed source=x")
if sys.argv[1] == "json":  # bugs: uncaught, in a thread and in the main one
    worker = threading.Thread(target=lambda: 1 / 0, name="worker")
    worker.start()
    worker.join()
    raise KeyError("a bug")
"""


def test_a_traceback_in_text_cannot_forge_a_line():
    """In text a traceback keeps its lines; what the exception quotes (a remote answer
    with a newline) made a line that read as a log line of its own."""
    out = subprocess.run([sys.executable, "-c", LOGGED, "text"], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    said = out.stderr.splitlines()
    assert out.returncode == 0 and " ERROR scofeed.poll: poll_failed source=x" in said[0]
    assert said[1] == "| Traceback (most recent call last):"
    assert all(line.startswith("| ") for line in said[1:]), said
    assert f"| {FORGED}" in said


def test_under_json_a_bug_is_a_json_line_too():
    """An uncaught exception, in the main thread or another, was Python's traceback over
    many lines in the middle of the JSON log."""
    out = subprocess.run([sys.executable, "-c", LOGGED, "json"], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert out.returncode == 1
    logged = [json.loads(line) for line in lines(out.stderr)]  # every line: one object
    assert [(d["level"], d.get("event")) for d in logged] == [
        ("ERROR", "poll_failed"), ("CRITICAL", "uncaught_exception"),
        ("CRITICAL", "uncaught_exception"),
    ]  # fmt: skip
    assert FORGED in logged[0]["exception"]
    assert logged[1]["message"] == "uncaught_exception thread=worker error=ZeroDivisionError"
    assert logged[2]["message"] == "uncaught_exception error=KeyError"
    assert logged[2]["exception"].endswith("KeyError: 'a bug'")


def test_under_json_an_access_line_has_its_fields_as_keys(start, site):
    """A log shipper reads the access log's fields as keys of their own, taken from the
    values, not parsed back out of the line (an agent may hold "client=...")."""
    d = start(extra='format = "json"\n\n[serve]\naccess_log = true\n')
    agent = "Reader/1.0' client=10.9.9.9 status=500 (42 subscribers)"
    got = d.get("/atom.xml", User_Agent=agent)
    assert got.status_code == 200
    wait_for(lambda: '"path": "/atom.xml"' in d.log(), what="the access line")
    (doc,) = [json.loads(line) for line in lines(d.log()) if '"path": "/atom.xml"' in line]
    assert doc["event"] == "access" and doc["logger"] == "scofeed.access"
    assert (doc["client"], doc["method"], doc["status"]) == ("127.0.0.1", "GET", 200)
    assert doc["bytes"] == int(got.headers["Content-Length"]) and doc["agent"] == agent
    assert isinstance(doc["ms"], float)


def test_a_big_drop_is_a_few_lines_at_info_not_one_per_file_and_delivery(site, caplog):
    """An import of 5,000 releases to 7 endpoints wrote 35,000 ``delivery_queued`` lines
    at INFO, and a drop of files still being written a ``deferred`` line for each: at
    INFO a build is its own lines and its rejections; each delivery and each file
    deferred is a DEBUG line (the scan's line and ``scofeed build`` count them)."""
    hooks = webhook_toml("a", "http://127.0.0.1:9/a") + webhook_toml("b", "http://127.0.0.1:9/b")
    site.write_config(hooks)
    text = site.config_path.read_text("utf-8")
    site.config_path.write_text(text.replace("settle = 0", "settle = 30"), "utf-8")
    old = time.time() - 120
    for n in range(5):
        path = site.sources / f"r{n}.txt"
        path.write_text(
            f"SCO release number {n}\n\nOn 3 June 2020 the Secretariat met group {n}.\n",
            encoding="utf-8",
        )
        os.utime(path, (old, old))
    young = site.sources / "young.txt"  # still being written: deferred
    young.write_text("SCO young release\n\nOn 4 June 2020 it was written.\n", encoding="utf-8")
    os.utime(site.sources / SEED.name, (old, old))
    caplog.set_level(logging.DEBUG, logger="scofeed")
    report = build(site.config(), site.store(), datetime.now(UTC))
    assert report.deliveries == 12  # the seed and five releases, to two endpoints
    assert [rel for rel, _left in report.deferred] == ["young.txt"]
    queued = [r for r in caplog.records if r.getMessage().startswith("delivery_queued")]
    deferred = [r for r in caplog.records if r.getMessage().startswith("deferred")]
    assert len(queued) == 12 and {r.levelno for r in queued} == {logging.DEBUG}
    assert [r.levelno for r in deferred] == [logging.DEBUG]
