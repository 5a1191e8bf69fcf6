"""What an operator's mistakes get from the CLI: one line on stderr naming what was
wrong, the README's exit code, no traceback. A real subprocess each (argparse's own refusals
in-process, through main)."""

from __future__ import annotations

import os
import pty
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import forkserver
from conftest import SlowReceiver, free_port, modes_apply, webhook_toml
from conftest import run_cli as scofeed
from scofeed.cli import main


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_add_of_an_address_urllib_cannot_read_is_refused_in_one_line(site):
    proc = scofeed(site, "add", "http://[::1/release.html")
    assert proc.returncode == 1
    assert one_line(proc) == "scofeed: http://[::1/release.html: not a valid address"


def test_add_of_a_page_redirecting_to_an_unreadable_address_is_refused(site):
    hop = b"HTTP/1.1 302 Found\r\nLocation: http://[::1/x\r\nConnection: close\r\n\r\n"
    server = SlowReceiver(hop, start=len(hop))  # all at once
    try:
        proc = scofeed(site, "add", server.url)
    finally:
        server.stop()
    assert proc.returncode == 1
    assert one_line(proc) == f"scofeed: {server.url}: redirect to an invalid address"


def test_poll_of_an_unknown_source_is_a_usage_error_even_with_none_configured(site):
    """It said "no remote sources configured" and exited 0: a typo'd name in a cron
    line went unnoticed. With sources configured it was already exit 2."""
    proc = scofeed(site, "poll", "sco-en")
    assert proc.returncode == 2
    assert one_line(proc) == "scofeed: no remote source named 'sco-en' in the configuration"
    proc = scofeed(site, "poll")  # nothing named, nothing configured: nothing to do
    assert proc.returncode == 0
    assert proc.stdout == "no remote sources configured ([[sources]] in config.toml)\n"


def test_a_negative_limit_is_refused(site):
    """`list --limit -1` listed everything (SQLite's LIMIT -1), and with --withdrawn
    everything but the last (a slice)."""
    assert scofeed(site, "build").returncode == 0
    entry_id = scofeed(site, "list").stdout.split("\t")[0]
    assert scofeed(site, "withdraw", entry_id).returncode == 0
    for command in (
        ["list", "--limit", "-1"],
        ["list", "--withdrawn", "--limit", "-1"],
        ["webhook", "deliveries", "--limit", "-1"],
        ["ap", "deliveries", "--limit", "-1"],
    ):
        proc = scofeed(site, *command)
        assert proc.returncode == 2, command
        assert proc.stderr.splitlines()[-1].endswith(
            "error: argument --limit: expected 0 or more, got -1"
        )
        assert proc.stdout == ""
    proc = scofeed(site, "list", "--withdrawn", "--limit", "0")
    assert (proc.returncode, proc.stdout) == (0, "")
    for command in (["webhook", "deliveries"], ["ap", "deliveries"]):  # none asked: not "none"
        proc = scofeed(site, *command, "--limit", "0")
        assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", ""), command
    proc = scofeed(site, "list", "--withdrawn", "--limit", "1")
    assert proc.stdout.startswith(entry_id + "\t")


def test_status_and_poll_never_print_a_source_urls_credentials(site, httpserver):
    """`config show` masks a source URL's user:password and query (a token); `status`
    printed both in full in its rejected-inputs table when that URL was refused, and
    the poll's line logged them (at INFO: `-v`). An `add` URL's credentials are masked too."""
    httpserver.expect_request("/feed.xml").respond_with_data("gone", status=404)
    httpserver.expect_request("/page.html").respond_with_data("gone", status=404)
    feed = httpserver.url_for("/feed.xml?key=s3cretkey").replace("://", "://bob:s3cretpw@")
    site.write_config(f'\n[[sources]]\nname = "feedy"\nkind = "feed"\nurl = "{feed}"\n')
    proc = scofeed(site, "-v", "poll")
    assert proc.returncode == 1
    assert "s3cret" not in proc.stdout + proc.stderr
    assert "url=http://***@" in proc.stderr
    page = httpserver.url_for("/page.html?id=7").replace("://", "://bob:s3cretpw@")
    assert scofeed(site, "add", page).returncode == 1
    out = scofeed(site, "status").stdout
    assert "s3cret" not in out
    port = httpserver.port
    assert f"feedy   http://***@localhost:{port}/feed.xml?***" in out
    assert f"add     http://***@localhost:{port}/page.html?id=7" in out


def test_add_of_a_json_list_of_one_is_refused_before_anything_is_written(site):
    """A one-item list passed the "one release" check, was written into sources/ and
    published as FILE#1, and then add said "the build did not take the release" and
    exited 1: an error for a release that was in the feeds."""
    (site.root / "one.json").write_text('[{"title": "A list item", "text": "Body."}]')
    before = sorted(p.name for p in site.sources.iterdir())
    proc = scofeed(site, "add", "one.json")
    assert proc.returncode == 1
    assert one_line(proc) == (
        "scofeed: one.json: a JSON list; add takes one release object (drop the file into sources/)"
    )
    assert sorted(p.name for p in site.sources.iterdir()) == before
    assert "A list item" not in scofeed(site, "list").stdout


def test_debug_logs_never_show_a_webhook_urls_token(site, receivers):
    """`config show` prints a webhook URL as http://host/*** (its path or query may be
    the token, as with Slack); with -vv urllib3 logged the request line, token and all."""
    r = receivers([200, 200])
    url = r.url + "/T0SECRETPATH?token=s3cretquery"
    site.write_config(webhook_toml("hub", url))
    assert scofeed(site, "build").returncode == 0
    for command in (["webhook", "test", "hub"], ["deliver"]):
        proc = scofeed(site, "-vv", *command)
        assert proc.returncode == 0, proc.stderr
        assert "T0SECRETPATH" not in proc.stderr and "s3cretquery" not in proc.stderr
    assert len(r.wait_for(2)) == 2


def test_an_error_quoting_an_odd_name_stays_one_line(site, tmp_path):
    """A file name with a newline split the error into two lines (the second one looking
    like an error of its own), and a byte that is not UTF-8 came out as \\udcff where
    every other message shows \\xff."""
    odd = os.fsdecode(str(tmp_path).encode() + b"/rel\n\xff.txt")
    proc = scofeed(site, "add", odd)
    assert proc.returncode == 1
    assert one_line(proc) == (
        f"scofeed: {tmp_path}/rel\\n\\xff.txt: cannot read (No such file or directory)"
    )
    proc = scofeed(site, "add", f"{tmp_path}/rel\n.doc")
    assert proc.returncode == 2
    assert one_line(proc).startswith(f"scofeed: {tmp_path}/rel\\n.doc: unknown format '.doc'")
    proc = scofeed(site, "--config", odd, "list")
    assert proc.returncode == 2
    assert one_line(proc) == f"scofeed: {tmp_path}/rel\\n\\xff.txt: config file not found"
    proc = scofeed(site, "--config", str(tmp_path), "list")
    assert proc.returncode == 2
    assert one_line(proc) == f"scofeed: {tmp_path}: cannot read config file (Is a directory)"


def test_a_daemon_that_cannot_listen_says_where_in_one_line(site):
    """A port in use, or a serve.host that does not resolve (a typo), stops `run` and
    `serve` with one line naming the address and exit 1; the host name gave a
    traceback ending in waitress's 'ValueError: Invalid host/port specified.' Nothing
    is made first: the state folder, the daemon's lock and a new store were left
    behind (and a `store_created` line said so before the error)."""
    state = site.config().paths.state.parent
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        for command in ("run", "serve"):
            proc = scofeed(site, command, "--port", str(port))
            assert proc.returncode == 1, command
            assert one_line(proc) == (
                f"scofeed: cannot listen on 127.0.0.1:{port} (Address already in use)"
            )
            assert not state.exists(), command
    for command in ("run", "serve"):
        proc = scofeed(site, "--set", "serve.host=nosuchhost.invalid", command)
        assert proc.returncode == 1, command
        assert one_line(proc) == (
            "scofeed: cannot listen on nosuchhost.invalid:8080 (not an address or a host "
            "name this machine resolves; see serve.host or --host)"
        )
        assert not state.exists(), command


def test_a_sources_folder_missing_or_a_file_is_named_by_check_and_build(site):
    """`config check` said "config ok" and nothing else while every build and scan
    would fail; a paths.sources naming a file was "does not exist", which it does."""
    folder = site.sources
    for kind, what, why in (
        ("missing", "does not exist (yet)", "sources folder does not exist"),
        ("a file", "is not a folder", "not a folder"),
    ):
        if folder.is_dir():
            shutil.rmtree(folder)
        else:
            folder.unlink(missing_ok=True)
        if kind == "a file":
            folder.write_text("not a folder\n", encoding="utf-8")
        proc = scofeed(site, "config", "check")
        assert proc.returncode == 0, kind
        assert proc.stdout == f"config ok: {site.config_path}\n"
        assert one_line(proc) == (
            f"note: paths.sources: {folder} {what}: `scofeed build` refuses and the daemon's "
            "scans fail until it is a folder"
        )
        proc = scofeed(site, "build")
        assert proc.returncode == 2, kind
        assert one_line(proc) == f"scofeed: paths.sources: {folder}: {why}"
    folder.unlink()
    folder.mkdir()
    proc = scofeed(site, "config", "check")
    assert (proc.returncode, proc.stderr) == (0, "")


def test_a_feeds_folder_that_is_a_file_is_named_once(site):
    """It was '<file>/atom.xml: cannot read (Not a directory); and N more files'."""
    feeds = site.root / "feeds.txt"
    feeds.write_text("a file\n", encoding="utf-8")
    proc = scofeed(site, "--set", f"paths.feeds={str(feeds)!r}", "config", "check")
    assert proc.returncode == 0
    assert one_line(proc) == (
        f"note: paths.feeds: {feeds} is not a folder: no feed can be written there"
    )
    proc = scofeed(site, "--set", f"paths.feeds={str(feeds)!r}", "build")
    assert proc.returncode == 1
    assert one_line(proc) == (
        f"scofeed: paths.feeds: {feeds}: not a folder "
        "(the releases are stored: entries=1 new=1 updated=0)"
    )


def test_commands_on_what_is_stored_need_a_store(site):
    """Run with a config nothing was built with (the wrong folder, or without the
    daemon's --config), `scofeed list` printed nothing and left an empty store behind;
    such commands now say there is no store there, and make none. A build makes one."""
    state = site.config().paths.state
    assert not state.exists()
    for args in (
        ["list"],
        ["status"],  # it said "not running" of a store it had just made
        ["show", "tag:x,2026:release/1"],
        ["withdraw", "tag:x,2026:release/1"],
        ["webhook", "deliveries"],
        ["websub", "list"],
        ["ap", "followers"],
        ["recheck"],  # pages stored before: none
    ):
        proc = scofeed(site, *args)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert one_line(proc).startswith(f"scofeed: {state}: no state store here ("), args
        assert not state.exists(), args
    assert scofeed(site, "build").returncode == 0
    proc = scofeed(site, "list")
    assert proc.returncode == 0 and proc.stdout.count("\n") == 1  # the seed


def test_add_of_an_address_nothing_answers_says_why_in_its_own_words(site):
    """It said 'temporary: cannot connect (WatchedHTTPPool(host='127.0.0.1', port=N): Max
    retries exceeded with url: /x.html (Caused by NewConnectionError("WatchedHTTPConn...'
    (urllib3's reprs, cut at 160 characters before the reason), here and in `status`."""
    port = free_port()
    proc = scofeed(site, "add", f"http://127.0.0.1:{port}/x.html")
    assert proc.returncode == 1
    assert one_line(proc) == (
        f"scofeed: http://127.0.0.1:{port}/x.html: temporary: cannot connect (Connection refused)"
    )
    proc = scofeed(site, "add", "http://nosuchhost.invalid/x.html")
    assert proc.returncode == 1
    assert one_line(proc).startswith(
        "scofeed: http://nosuchhost.invalid/x.html: temporary: cannot connect (cannot resolve "
        "the host name ("
    )
    assert "WatchedHTTP" not in scofeed(site, "status").stdout


def test_add_of_a_file_over_the_limit_does_not_misstate_its_size(site):
    """add reads up to limits.max_file_bytes + 1 bytes and said the file was that large
    ('too large (4001 bytes, limit 4000)' for a file of 50,000 bytes)."""
    big = site.root / "big.txt"
    big.write_text("A big release\n\n" + "On 3 May 2023 words. " * 2500, encoding="utf-8")
    assert big.stat().st_size > 50_000
    for args in (["add", "big.txt"], ["add", "-"]):
        proc = forkserver.run(
            [sys.executable, "-m", "scofeed", "--config", str(site.config_path),
             "--set", "limits.max_file_bytes=4000", *args],
            input=big.read_text(encoding="utf-8"),
            capture_output=True,
            text=True,
            cwd=site.root,
            timeout=120,
        )  # fmt: skip
        assert proc.returncode == 1, args
        origin = "big.txt" if args[1] == "big.txt" else "<stdin>"
        assert one_line(proc) == f"scofeed: {origin}: too large (over 4000 bytes, limit 4000)"


def test_options_that_cannot_go_together_or_below_zero_are_refused(site, capsys):
    """`ap deliveries --failed --pending` listed the failed ones only, silently; `webhook
    verify --tolerance -5` refused every signature as "3 s away from now (limit -5 s)"."""
    for argv, error in (
        (["ap", "deliveries", "--failed", "--pending"], "argument --pending: not allowed with"),
        (
            ["webhook", "verify", "--secret", "whsec_x", "--tolerance", "-5"],
            "argument --tolerance: expected 0 or more, got -5",
        ),
    ):
        with pytest.raises(SystemExit) as exit_:
            main(["--config", str(site.config_path), *argv])
        assert exit_.value.code == 2, argv
        assert error in capsys.readouterr().err, argv


def test_a_state_path_that_cannot_be_a_store_is_named_plainly(site, tmp_path):
    """paths.state naming a folder was "(unable to open database file)", SQLite's words
    for any file it cannot open; one under a folder that cannot be made was Python's
    "([Errno 2] No such file or directory: '/proc/nope')"."""
    folder = tmp_path / "a-folder"
    folder.mkdir()
    (tmp_path / "a-file").touch()
    # a folder is refused by the config's check now: exit 2, naming the key
    proc = scofeed(site, "--set", f"paths.state={str(folder)!r}", "build")
    assert (proc.returncode, one_line(proc)) == (
        2,
        "scofeed: paths.state: expected the store's file (such as state/scofeed.sqlite3), "
        f"got a folder: {folder}",
    )
    for state, why in (
        (Path("/proc/nope/x.sqlite3"), "No such file or directory: /proc/nope"),
        # "(File exists: .../a-file)"; the daemon's lock blamed the folder's permissions
        (tmp_path / "a-file" / "s.sqlite3", f"{tmp_path / 'a-file'} is a file, not a folder"),
    ):
        proc = scofeed(site, "--set", f"paths.state={str(state)!r}", "build")
        assert proc.returncode == 1, state
        assert one_line(proc) == f"scofeed: {state}: cannot open the state store ({why})"
    proc = scofeed(site, "--set", f"paths.state={str(state)!r}", "run", "--port", "0")
    assert one_line(proc).endswith(f".lock: cannot open the state store ({why})")


def test_add_of_a_folder_says_it_is_one(site, tmp_path):
    """It was "unknown format '(none)'; give --format ..." (exit 2), and with --format
    "cannot read (Is a directory)"."""
    for extra in ([], ["--format", "txt"]):
        proc = scofeed(site, "add", str(tmp_path), *extra)
        assert proc.returncode == 1, extra
        assert one_line(proc) == f"scofeed: {tmp_path}: a folder; add takes one release file"


def test_a_closed_standard_input_is_one_line_not_a_traceback(site):
    """Started with standard input closed (a cron line with <&-, a service without
    one), `add -` and `webhook verify` died with "AttributeError: 'NoneType' object has
    no attribute 'buffer'"."""
    for args, code, line in (
        (["add", "-"], 1, "scofeed: <stdin>: cannot read standard input (closed)"),
        (
            ["webhook", "verify", "--secret", "whsec_" + "A" * 32],
            2,
            "scofeed: stdin: cannot read standard input (closed); give the request file",
        ),
    ):
        proc = forkserver.run(
            ["sh", "-c", 'exec "$@" <&-', "sh", sys.executable, "-m", "scofeed",
             "--config", str(site.config_path), *args],
            capture_output=True,
            text=True,
            cwd=site.root,
            timeout=120,
        )  # fmt: skip
        assert proc.returncode == code, args
        assert one_line(proc) == line


def test_an_activitypub_key_that_cannot_be_made_stops_the_daemon_in_one_line(site):
    """`scofeed run` with activitypub.key in a folder that cannot be made died with a
    traceback ending in FileNotFoundError / NotADirectoryError."""
    (site.root / "a-file").write_text("not a folder\n", encoding="utf-8")
    key = site.root / "a-file" / "key.pem"
    site.write_config(f'\n[activitypub]\nenabled = true\nkey = "{key}"\n')
    proc = scofeed(site, "run", "--port", "0")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == (
        f"scofeed: activitypub.key: cannot create {key} ({key.parent} is not a folder); give "
        "a path in a folder the daemon's user can write"
    )
    assert "Traceback" not in proc.stderr


def test_add_from_a_terminal_says_how_to_end_the_input(site):
    """`scofeed add -` typed at a terminal waited for input without a word: it seemed to
    hang. On a terminal it says first, on stderr, how to end the input; the release
    typed is then added (read through a real pseudo-terminal)."""
    controller, terminal = pty.openpty()
    proc = forkserver.Popen(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "add", "-"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=site.root,
    )
    os.close(terminal)
    release = "SCO forum opens\n\nOn 3 June 2020 the SCO forum opened in Tashkent.\n"
    os.write(controller, release.encode() + b"\x04")  # Ctrl-D on an empty line: the end
    out, err = proc.communicate(timeout=120)
    os.close(controller)
    assert proc.returncode == 0, err
    assert err.decode().splitlines()[0] == "reading standard input; end it with Ctrl-D"
    assert out.decode().startswith("added tag:"), out
    assert (site.sources / "2020-06-03-sco-forum-opens.txt").is_file()


def test_config_check_names_the_set_values_it_checked(tmp_path):
    """With --set and no file, `config check` said "config ok: built-in defaults", as if
    the values given had not been read."""
    proc = forkserver.run(
        [sys.executable, "-m", "scofeed", "--set", "site.title=Feeds", "--set",
         "serve.port=9000", "config", "check"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first == "config ok: built-in defaults with --set site.title, serve.port"


def test_a_folder_this_user_cannot_enter_is_one_line_not_a_traceback(site, tmp_path):
    """``Path.exists`` raises on a path under a folder the user may not search (another
    user's home, mode 0700): `list` with its store there, `add` of a file there, died
    with a traceback (``sudo -u scofeed scofeed add ~/release.txt``)."""
    prefix = modes_apply()
    closed = tmp_path / "closed"
    closed.mkdir()
    (closed / "r.txt").write_text("SCO title\n\nOn 1 May 2023 the SCO met.\n", encoding="utf-8")
    closed.chmod(0)
    try:
        for args in (
            ["--set", f"paths.state='{closed}/s.sqlite3'", "list"],
            ["add", str(closed / "r.txt")],
        ):
            proc = forkserver.run(
                [*prefix, sys.executable, "-m", "scofeed", "--config", str(site.config_path),
                 *args],
                capture_output=True, text=True, cwd=site.root, timeout=120,
            )  # fmt: skip
            assert proc.returncode == 1, proc.stderr
            assert proc.stderr.startswith(f"scofeed: {closed}/") and "Traceback" not in proc.stderr
            assert len(proc.stderr.splitlines()) == 1 and "Permission denied" in proc.stderr
    finally:
        closed.chmod(0o755)
