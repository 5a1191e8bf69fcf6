"""What a config path that names no ordinary config file gets: one line naming it and
the reason, exit 2, whatever the file is (endless, huge, a FIFO, a folder, not UTF-8,
nested too deeply for the TOML reader). Found by fuzzing (round 2, second pass): most
read without bound, hung, or ended in a traceback. Real subprocesses, real files."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import forkserver


def check(config: Path | str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``scofeed --config CONFIG config check`` with 1 GB of address space, so that a
    read without bound fails quickly, not the machine."""

    def little_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    return forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(config), "config", "check"],
        capture_output=True, text=True, timeout=60, cwd=cwd, preexec_fn=little_memory,
    )  # fmt: skip


def test_dev_zero_as_the_config_is_one_line(tmp_path):
    done = check("/dev/zero", tmp_path)
    assert (done.returncode, done.stderr) == (
        2,
        "scofeed: /dev/zero: config file is a character device, not a regular file\n",
    )


def test_a_fifo_nobody_writes_to_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    done = check(fifo, tmp_path)  # before: blocked in open() until the test's timeout
    assert (done.returncode, done.stderr) == (
        2,
        f"scofeed: {fifo}: config file is a FIFO, not a regular file\n",
    )


def test_a_config_of_gigabytes_is_refused_unread(tmp_path):
    """A sparse 3 GB file: read whole before (into 1 GB, MemoryError and a traceback)."""
    big = tmp_path / "config.toml"
    with big.open("wb") as f:
        f.truncate(3 << 30)
    done = check(big, tmp_path)
    assert (done.returncode, done.stderr) == (
        2,
        f"scofeed: {big}: config file is larger than 1 MB\n",
    )


def test_a_config_just_over_the_cap_is_refused_and_one_at_it_is_read(tmp_path):
    path = tmp_path / "config.toml"
    filler = "#" * 1000 + "\n"
    text = '[site]\ntitle = "Over"\n' + filler * 1100  # about 1.1 MB of comments
    path.write_text(text, encoding="utf-8")
    done = check(path, tmp_path)
    assert (done.returncode, done.stderr) == (
        2, f"scofeed: {path}: config file is larger than 1 MB\n"
    )  # fmt: skip
    path.write_text(text[: 1 << 20], encoding="utf-8")  # exactly 1 MB: still a config
    done = check(path, tmp_path)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("shape", ["[", "{x="])
def test_toml_nested_too_deeply_is_one_line(tmp_path, shape):
    """``a = [[[[...`` 100,000 deep (well under the cap) was tomllib's RecursionError."""
    path = tmp_path / "config.toml"
    closing = "]" if shape == "[" else "1}"
    path.write_text("a = " + shape * 100_000 + closing * 100_000 + "\n", encoding="utf-8")
    done = check(path, tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"scofeed: {path}: not valid TOML (")
    assert done.stderr.count("\n") == 1


def test_a_folder_and_bytes_not_utf8_stay_one_line(tmp_path):
    done = check(tmp_path, tmp_path)
    assert (done.returncode, done.stderr) == (
        2, f"scofeed: {tmp_path}: cannot read config file (Is a directory)\n"
    )  # fmt: skip
    path = tmp_path / "config.toml"
    path.write_bytes(b'[site]\ntitle = "\xff\xfe"\n')
    done = check(path, tmp_path)
    assert (done.returncode, done.stderr) == (
        2,
        f"scofeed: {path}: not UTF-8 (byte 0xff on line 2); a config file is UTF-8 text\n",
    )


def test_a_secret_file_that_is_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "secret"
    os.mkfifo(fifo)
    path = tmp_path / "config.toml"
    path.write_text(
        '[[webhooks]]\nname = "a"\nurl = "https://x.example/h"\nsecret = "file:secret"\n',
        encoding="utf-8",
    )
    done = check(path, tmp_path)
    assert (done.returncode, done.stderr) == (
        2,
        f"scofeed: webhooks[0].secret: secret file {fifo} is a FIFO, not a regular file\n",
    )
