"""The CLI's output as an operator's shell meets it: a full disk, a terminal whose
encoding lacks a title's script, a reader that leaves early. A real subprocess each."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scofeed.cli import core, main


def scofeed(site, *args: str, stdout=subprocess.PIPE, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
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
        proc = subprocess.run(
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
    with subprocess.Popen(
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

    monkeypatch.setattr(core, "build", stopped)
    assert main(["--config", str(site.config_path), "build"]) == 130
    assert capsys.readouterr().err == (
        "scofeed: build interrupted (what it stored stays; the feeds may not show it yet: "
        "build again)\n"
    )
