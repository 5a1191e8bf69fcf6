"""The fork server (``tests/forkserver.py``) gives the tests the same ``scofeed`` process
as ``python -m scofeed``: the same output, errors, exit codes, standard input, folder and
environment; and signals, timeouts and pipes work as ``subprocess``'s do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

import forkserver
from conftest import SECRET, free_port, webhook_toml

SCOFEED = forkserver.SCOFEED


def both(site, *args: str, **kwargs) -> tuple:
    """The same command run by subprocess and by the fork server."""
    kwargs = {"capture_output": True, "text": True, "cwd": site.root, "timeout": 60, **kwargs}
    fresh = subprocess.run([*SCOFEED, *args], **kwargs)
    forked = forkserver.run([*SCOFEED, *args], **kwargs)
    return fresh, forked


def same(fresh, forked) -> None:
    assert (forked.returncode, forked.stdout, forked.stderr) == (
        fresh.returncode,
        fresh.stdout,
        fresh.stderr,
    )


def test_output_errors_and_exit_codes_are_a_fresh_processs(site):
    fresh, forked = both(site, "--version")
    same(fresh, forked)
    assert forked.stdout.startswith("scofeed ")
    fresh, forked = both(site, "--config", "missing.toml", "list")  # relative to cwd
    same(fresh, forked)
    assert forked.returncode == 2 and "missing.toml" in forked.stderr
    fresh, forked = both(site, "--config", str(site.config_path), "no-such-command")
    same(fresh, forked)
    assert forked.returncode == 2 and "usage:" in forked.stderr
    fresh, forked = both(site, "--config", str(site.config_path), "build")
    assert forked.returncode == fresh.returncode == 0
    fresh, forked = both(site, "--config", str(site.config_path), "list")
    same(fresh, forked)
    assert forked.stdout.count("\n") == 1
    fresh, forked = both(site, "--config", str(site.config_path), "list", text=False)
    same(fresh, forked)
    assert isinstance(forked.stdout, bytes)


def test_standard_input_and_the_environment_reach_the_command(site):
    release = "Talks held in Beijing\n\nOn 3 March 2021 the Secretariat held talks.\n"
    forked = forkserver.run(
        [*SCOFEED, "--config", str(site.config_path), "add", "-"],
        input=release,
        capture_output=True,
        text=True,
        cwd=site.root,
        timeout=60,
    )
    assert forked.returncode == 0, forked.stderr
    listed = forkserver.run(
        [*SCOFEED, "--config", str(site.config_path), "list"], capture_output=True, text=True
    )
    assert "Talks held in Beijing" in listed.stdout
    # a secret named by the config, read from the environment: there only if passed on
    site.write_config(webhook_toml("hook", "http://127.0.0.1:9/", secret="env:HOOK_SECRET"))
    env = {**os.environ, "HOOK_SECRET": SECRET}
    fresh, given = both(site, "--config", str(site.config_path), "config", "check", env=env)
    same(fresh, given)
    fresh, missing = both(site, "--config", str(site.config_path), "config", "check")
    same(fresh, missing)
    assert (given.returncode, given.stderr) != (missing.returncode, missing.stderr)
    assert "HOOK_SECRET" in missing.stderr


def test_a_daemon_is_signalled_awaited_and_timed_out_as_a_subprocess(site):
    port = free_port()
    err = site.root / "run.err"
    with open(err, "wb") as log:
        proc = forkserver.Popen(
            [*SCOFEED, "--config", str(site.config_path), "run", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=site.root,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    assert isinstance(proc, forkserver.Forked)  # not handed to subprocess
    assert proc.pid != os.getpid() and proc.poll() is None
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(0.5)
    deadline = time.monotonic() + 30
    while f"127.0.0.1:{port}" not in err.read_text(errors="replace"):
        assert proc.poll() is None and time.monotonic() < deadline, err.read_text()
        time.sleep(0.05)
    proc.terminate()
    assert proc.wait(30) == 0  # SIGTERM: a clean stop
    assert proc.poll() == 0
    killed = forkserver.Popen(
        [*SCOFEED, "--config", str(site.config_path), "run", "--port", str(free_port())],
        stderr=subprocess.DEVNULL,
        cwd=site.root,
    )
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(30) == -signal.SIGKILL
    with pytest.raises(subprocess.TimeoutExpired):  # run's timeout kills it, as subprocess
        forkserver.run(
            [*SCOFEED, "--config", str(site.config_path), "run", "--port", str(free_port())],
            capture_output=True,
            cwd=site.root,
            timeout=1,
        )


def test_a_pipe_read_line_by_line_and_closed_early(site):
    """A reader that leaves (``scofeed list | head -1``): the command's exit is the same."""
    for i in range(300):
        (site.sources / f"r{i}.txt").write_text(
            f"Meeting number {i} held\n\nOn 3 March 2021 meeting {i} was held.\n"
        )
    forkserver.run([*SCOFEED, "--config", str(site.config_path), "build"], cwd=site.root)
    codes = []
    for popen in (subprocess.Popen, forkserver.Popen):
        with popen(
            [*SCOFEED, "--config", str(site.config_path), "list"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=site.root,
        ) as proc:
            assert proc.stdout.readline()
            proc.stdout.close()
            codes.append((proc.wait(60), proc.stderr.read()))
    assert codes[0] == codes[1]


def test_what_is_read_as_a_process_starts_gets_a_fresh_one(site, monkeypatch):
    """A command whose ``PYTHON*``, locale, loader or malloc variables differ from the
    server's is not forked: those are read once, as a process starts; whether passed
    (``env``) or set in the test's own environment, which the command inherits."""
    env = {**os.environ, "PYTHONIOENCODING": "latin-1"}
    proc = forkserver.Popen([*SCOFEED, "--version"], stdout=subprocess.PIPE, env=env)
    assert isinstance(proc, subprocess.Popen)
    proc.communicate()
    monkeypatch.setenv("MALLOC_ARENA_MAX", "1")
    inherited = forkserver.Popen([*SCOFEED, "--version"], stdout=subprocess.DEVNULL)
    assert isinstance(inherited, subprocess.Popen)
    inherited.wait()
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    monkeypatch.setenv("SCOFEED_TEST_ONLY", "1")  # any other variable: forked
    forked = forkserver.Popen([*SCOFEED, "--version"], stdout=subprocess.DEVNULL)
    assert isinstance(forked, forkserver.Forked)
    forked.wait()
    limited = forkserver.Popen([*SCOFEED, "--version"], preexec_fn=os.getpid)
    assert isinstance(limited, subprocess.Popen)
    limited.wait()
    other = forkserver.Popen([sys.executable, "-c", "pass"])
    assert isinstance(other, subprocess.Popen)
    other.wait()


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return int(stat.read().rpartition(")")[2].split()[1])


def umask_of(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        return next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))


def test_commands_in_a_row_come_from_two_servers_and_take_the_tests_umask(site):
    """Two servers taken in turn: two commands in a row have each their own hash seed (a
    server's children share its own), as two fresh processes would. The umask is the
    test process's at the call."""
    parents = []
    old = os.umask(0o027)
    try:
        for _ in range(3):
            proc = forkserver.Popen(
                [*SCOFEED, "--config", str(site.config_path), "run", "--port", str(free_port())],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=site.root,
            )
            assert isinstance(proc, forkserver.Forked)
            parents.append(parent_of(proc.pid))
            deadline = time.monotonic() + 10  # set by the child as it starts
            while umask_of(proc.pid) != 0o027:
                assert time.monotonic() < deadline, oct(umask_of(proc.pid))
                time.sleep(0.01)
            proc.kill()
            proc.wait(30)
    finally:
        os.umask(old)
    assert parents[0] != parents[1] and parents[0] == parents[2]
    assert os.getpid() not in parents


def test_paths_a_relative_folder_and_a_long_command_line_as_subprocess_takes_them(site):
    """What subprocess takes (a Path, a folder relative to the test's, an argument too
    long for one message to the server: run fresh) gives what a fresh process gives."""
    args = [*SCOFEED, "--config", site.config_path, "build"]
    forked = forkserver.run(args, capture_output=True, text=True, cwd=site.root.parent)
    assert forked.returncode == 0 and "new=1" in forked.stdout, forked.stderr
    relative = os.path.relpath(site.root)
    same(
        subprocess.run([*SCOFEED, "--config", "config.toml", "list"], capture_output=True,
                       text=True, cwd=relative),
        forkserver.run([*SCOFEED, "--config", "config.toml", "list"], capture_output=True,
                       text=True, cwd=relative),
    )  # fmt: skip
    long = "Ш" * 60_000
    fresh, forked = both(site, "--config", str(site.config_path), "show", long)
    same(fresh, forked)
    assert forked.returncode == 1
    after = forkserver.run([*SCOFEED, "--version"], capture_output=True, text=True, timeout=30)
    assert after.returncode == 0  # the servers are still there


def test_communicate_again_after_a_timeout_gets_the_whole_output(site):
    """subprocess's pattern: ``communicate(timeout=...)``, then, once it is stopped,
    ``communicate()`` again for what it wrote."""
    proc = forkserver.Popen(
        [*SCOFEED, "-v", "--config", str(site.config_path), "run", "--port", str(free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=site.root,
    )
    assert isinstance(proc, forkserver.Forked)
    with pytest.raises(subprocess.TimeoutExpired):
        proc.communicate(timeout=3)
    proc.terminate()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "stopping signal=SIGTERM" in err
    assert out is not None
