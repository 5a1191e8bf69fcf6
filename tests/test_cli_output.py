"""The CLI's output as an operator's shell meets it: a full disk, a terminal whose
encoding lacks a title's script, a reader that leaves early. A real subprocess each."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

import forkserver
from scofeed.cli import build as build_command
from scofeed.cli import main
from tests.conftest import free_port


def scofeed(site, *args: str, stdout=subprocess.PIPE, env=None) -> subprocess.CompletedProcess:
    return forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        cwd=site.root,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def _cyrillic_release(site) -> None:
    (site.sources / "ru.txt").write_text(
        "Русский релиз\n\n7 мая 2023 года что-то случилось.\n", encoding="utf-8"
    )
    assert scofeed(site, "build").returncode == 0


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("command", [["config", "check"], ["list"], ["show", "nope"]])
def test_a_full_output_is_one_line_and_exit_1(site, command):
    scofeed(site, "build")
    with open("/dev/full", "w") as full:
        proc = scofeed(site, *command, stdout=full)
    err = proc.stderr.decode()
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert proc.returncode == 1
    if command == ["show", "nope"]:  # the command's own error comes first, as it is
        assert err == "scofeed: no entry with id 'nope'\n"
    else:
        assert err == "scofeed: cannot write the output: No space left on device\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["--version"], ["--help"], ["list", "--help"]])
def test_version_and_help_to_a_full_output_are_one_line_and_exit_1(args):
    """``scofeed --version`` alone answers before argparse loads (start-up): its print
    failed with a traceback. argparse drops a --help it cannot write: it said nothing
    and exited 0."""
    with open("/dev/full", "w") as full:
        proc = forkserver.run(
            [sys.executable, "-m", "scofeed", *args], stdout=full, stderr=subprocess.PIPE
        )
    assert (proc.returncode, proc.stderr) == (
        1,
        b"scofeed: cannot write the output: No space left on device\n",
    )


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_title_the_terminal_cannot_encode_is_escaped_not_a_traceback(site, encoding):
    _cyrillic_release(site)
    proc = scofeed(site, "list", env={"PYTHONIOENCODING": encoding})
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode(encoding).splitlines()
    assert len(lines) == 2
    entry_id, _published, title = lines[0].split("\t")  # still three columns
    assert title == r"\u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u0440\u0435\u043b\u0438\u0437"
    proc = scofeed(site, "show", entry_id, env={"PYTHONIOENCODING": encoding})
    assert proc.returncode == 0, proc.stderr.decode()
    assert b"title:      \\u0420" in proc.stdout


def test_a_reader_that_leaves_early_is_not_a_failure(site):
    for i in range(40):
        (site.sources / f"r{i}.txt").write_text(
            f"Release {i} on trade\n\nOn 3 June 2021 release {i} happened.\n", encoding="utf-8"
        )
    scofeed(site, "build")
    with forkserver.Popen(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "list"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=site.root,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.read(10)
        proc.stdout.close()  # the pipe is closed before the rest is written
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 0
    assert err == b""


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["webhook", "list"], "no webhooks configured ([[webhooks]] in config.toml)"),
        (["deliveries"], "no deliveries"),
        (["ap", "deliveries"], "no deliveries"),
        (
            ["ap", "followers"],
            "note: [activitypub] enabled is false; nobody can follow right now\nno followers",
        ),
    ],
)
def test_an_empty_listing_says_so_on_stderr_and_leaves_stdout_empty(site, command, said):
    """Every listing says it is empty on stderr, as `deliveries` did:
    `webhook list`, `ap followers` and `ap deliveries` said it on stdout, where a
    script reading the listing took the sentence for a row."""
    assert scofeed(site, "build").returncode == 0
    proc = scofeed(site, *command)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b""
    assert proc.stderr.decode().strip() == said


def test_a_build_stopped_with_ctrl_c_says_so(site, monkeypatch, capsys):
    """Ctrl-C in the middle of a build (thousands of releases stored, no feed written
    yet) exited 130 with no word: the operator could not tell that the feeds were not
    published. It says so now."""

    def stopped(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(build_command, "build", stopped)
    assert main(["--config", str(site.config_path), "build"]) == 130
    assert capsys.readouterr().err == (
        "scofeed: build interrupted (what it stored stays; the feeds may not show it yet: "
        "build again)\n"
    )


def test_a_locale_that_cannot_name_a_feeds_folder_says_how_to_run(site):
    """Under a locale whose encoding is not UTF-8 (Latin-1, KOI8-R: systemd gives a
    service the system's; here ASCII, Python's own UTF-8 fallbacks turned off), a tag's
    folder "Шанхай" cannot be named: the build died with a traceback. It says how to
    run, in one line; with PYTHONUTF8=1 (contrib/scofeed.service sets it) it publishes."""
    site.write_config('"Шанхай" = ["ШОС"]\n')  # under BASE_CONFIG's [tags]
    (site.sources / "ru.txt").write_text(
        "Генеральный секретарь ШОС встретился\n\n1 мая 2023 года ШОС провела встречу.\n",
        encoding="utf-8",
    )
    c_locale = {"LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    proc = scofeed(site, "build", env=c_locale)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and len(err.splitlines()) == 1, err
    assert err.startswith("scofeed: this locale's encoding (ascii) cannot write '")
    assert err.rstrip().endswith(
        "run scofeed in a UTF-8 locale (LANG=C.UTF-8) or with PYTHONUTF8=1"
    )
    proc = scofeed(site, "build", env={**c_locale, "PYTHONUTF8": "1"})
    assert proc.returncode == 0, proc.stderr.decode()
    assert (site.feeds / "tags" / "шанхай" / "atom.xml").is_file()


def _closed(fd: int):
    return lambda: os.close(fd)


def test_with_standard_error_closed_an_error_goes_nowhere_not_to_the_output(site):
    """``2>&-``: print(..., file=sys.stderr) falls back to standard output when there is
    no stderr, so "scofeed: no entry..." landed in what a script parsed."""
    proc = forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "show", "nope"],
        stdout=subprocess.PIPE,
        cwd=site.root,
        preexec_fn=_closed(2),
        timeout=60,
    )
    assert (proc.returncode, proc.stdout) == (1, b"")


@pytest.mark.parametrize("output", ["closed", "full"])
def test_a_daemon_runs_with_its_standard_output_closed_or_full(site, output, tmp_path):
    """Started with ``>&-`` (an init script), or onto a full disk, the daemon stopped at
    start-up on its banner (``sys.stdout`` was None, or its write failed): it runs, and
    a full output is one warning in its log."""
    if output == "full" and not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    port = free_port()
    err = tmp_path / "run.err"
    args = [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "run"]
    with open(err, "wb") as log, open("/dev/full" if output == "full" else os.devnull, "w") as out:
        proc = forkserver.Popen(
            [*args, "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=log,
            cwd=site.root,
            preexec_fn=_closed(1) if output == "closed" else None,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, err.read_text()
            try:  # its first scan published the feeds
                answer = requests.get(f"http://127.0.0.1:{port}/atom.xml", timeout=2)
                if answer.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    logged = err.read_text()
    assert proc.returncode == 0 and "Traceback" not in logged, logged
    assert ("ready_banner_lost" in logged) == (output == "full"), logged


def test_quiet_says_nothing_but_errors(site):
    """``-q`` is "only errors": a cron job mailing its output got "no deliveries",
    "no webhooks configured" and notes on stderr all the same."""
    assert scofeed(site, "build").returncode == 0
    for args, told in (
        (["webhook", "list"], "no webhooks configured ([[webhooks]] in config.toml)\n"),
        (["deliveries"], "no deliveries\n"),
        (["ap", "followers"], "note: [activitypub] enabled is false; nobody can follow"),
    ):
        loud = scofeed(site, *args)
        assert loud.returncode == 0 and loud.stderr.decode().startswith(told), loud.stderr
        quiet = scofeed(site, "-q", *args)
        assert (quiet.returncode, quiet.stderr, quiet.stdout) == (0, b"", b"")
