"""``scofeed`` processes for the tests, forked from one that has already loaded scofeed.

The suite runs ``python -m scofeed ...`` several hundred times; each such process spent
~0.1-0.3 CPU-seconds loading Python, scofeed and its libraries before doing what the test
asked, most of the suite's time on a 2-core machine. ``run`` here gives the same process
for the price of a fork: a fork server (one for each test process, started at its first
use) imports every scofeed module once, and for each command forks a child which takes
the test's standard input, output and error, its folder and environment, and runs the
same entry point as ``python -m scofeed`` (``scofeed.cli.run``). The child is a real,
separate process, and it exits as Python does: ``atexit`` handlers, buffers flushed, exit
code or ``-signal`` as ``subprocess`` reports it.

What a fork cannot give is a fresh process: whatever is read from the environment as
a program starts (the locale, ``PYTHON*`` variables, ``LD_PRELOAD`` and libfaketime's,
glibc's ``MALLOC_*``) is the server's, and the server's environment is this process's as
the tests were collected (before any test changed it). So ``run`` and ``Popen`` hand a
command to ``subprocess`` unchanged when its environment differs from that in any of
those, or when it asks for something not forwarded here (``preexec_fn``,
``pass_fds``...). Tests of what a command loads at start-up (``test_startup.py``) start
``python -m scofeed`` themselves.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

SCOFEED = [sys.executable, "-m", "scofeed"]
# read from the environment only as a program starts: a command whose environment differs
# from the server's in one of these runs in a fresh process (PYTHONUNBUFFERED is the
# exception: the forked child sets its streams as that asks)
_AT_START = ("PYTHON", "LC_", "LANG", "PATH", "LD_", "FAKETIME", "DONT_FAKE", "MALLOC_", "GLIBC")
# the server's environment: this process's as this module is loaded, while the tests are
# collected (a test's monkeypatch.setenv would otherwise reach a server it starts)
_ENVIRON = dict(os.environ)
_FORWARDED = {
    "input",
    "capture_output",
    "stdout",
    "stderr",
    "stdin",
    "text",
    "cwd",
    "env",
    "timeout",
    "check",
    "encoding",
    "errors",
    "universal_newlines",
}

# The server: reads one command a message (JSON, with the child's stdin, stdout and
# stderr as file descriptors), forks, answers the child's pid, then its exit code once
# it is reaped. It leaves when the test process closes its standard input.
_SERVER = r"""
import importlib, json, os, pkgutil, selectors, socket, sys, time
import scofeed, scofeed.cli
for info in pkgutil.walk_packages(scofeed.__path__, "scofeed."):
    importlib.import_module(info.name)

def serve(path):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, "accept")
    sel.register(sys.stdin, selectors.EVENT_READ, "leave")
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    waiting = {}
    while True:
        for key, _ in sel.select():
            if key.data == "leave":
                return None
            if key.data == "accept":
                conn, _ = listener.accept()
                msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
                command = json.loads(msg)
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    sel.close()
                    listener.close()
                    conn.close()
                    for pidfd, (_, other) in waiting.items():  # not the child's to hold
                        os.close(pidfd)
                        other.close()
                    for target, fd in enumerate(fds):
                        os.dup2(fd, target)
                        os.close(fd)
                    return command
                for fd in fds:
                    os.close(fd)
                conn.send(str(pid).encode())
                pidfd = os.pidfd_open(pid)
                waiting[pidfd] = (pid, conn)
                sel.register(pidfd, selectors.EVENT_READ, "reap")
            else:
                pidfd = key.fd
                pid, conn = waiting.pop(pidfd)
                sel.unregister(pidfd)
                os.close(pidfd)
                _, status = os.waitpid(pid, 0)
                try:
                    conn.send(str(os.waitstatus_to_exitcode(status)).encode())
                except OSError:
                    pass
                conn.close()

command = serve(sys.argv[1])
if command is None:
    raise SystemExit(0)
os.chdir(command["cwd"])
os.environ.clear()
os.environ.update(command["env"])
time.tzset()
if command["env"].get("PYTHONUNBUFFERED"):
    sys.stdout.reconfigure(write_through=True)
    sys.stderr.reconfigure(write_through=True)
sys.argv = [os.path.join(scofeed.__path__[0], "__main__.py"), *command["args"]]
del serve, command
scofeed.cli.run()
"""


class _Server:
    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="scofeed-forkserver-")
        self.path = os.path.join(self.folder, "socket")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER, self.path],
            env=_ENVIRON,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        ready = self.proc.stdout.readline()
        if ready != "ready\n":
            raise RuntimeError(f"the scofeed fork server did not start: {ready!r}")
        atexit.register(self.close)

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(10)
        Path(self.path).unlink(missing_ok=True)
        os.rmdir(self.folder)


_started: _Server | None = None
_started_lock = threading.Lock()


def _forkable(args: Any, kwargs: dict[str, Any]) -> bool:
    if not isinstance(args, (list, tuple)) or list(args[: len(SCOFEED)]) != SCOFEED:
        return False
    if any(value is not None for name, value in kwargs.items() if name not in _FORWARDED):
        return False
    env = kwargs.get("env")
    env = os.environ if env is None else env
    for name in set(env) | set(_ENVIRON):
        if name.startswith(_AT_START) and name != "PYTHONUNBUFFERED":
            if env.get(name) != _ENVIRON.get(name):
                return False
    for name in ("stdin", "stdout", "stderr"):
        stream = kwargs.get(name)
        if stream in (None, subprocess.PIPE, subprocess.DEVNULL) or hasattr(stream, "fileno"):
            continue
        if not (name == "stderr" and stream == subprocess.STDOUT):
            return False
    return True


def _server() -> _Server:
    global _started
    with _started_lock:
        if _started is None:
            _started = _Server()
        return _started


def run(args: Any, **kwargs: Any) -> subprocess.CompletedProcess:
    """``subprocess.run(args, **kwargs)``; for ``python -m scofeed ...``, the process is
    forked from the fork server (see the module's docstring)."""
    if not _forkable(args, kwargs):
        return subprocess.run(args, **kwargs)
    check = kwargs.pop("check", False)
    data = kwargs.pop("input", None)
    timeout = kwargs.pop("timeout", None)
    if kwargs.pop("capture_output", False):
        kwargs["stdout"] = kwargs["stderr"] = subprocess.PIPE
    if data is not None:
        kwargs["stdin"] = subprocess.PIPE
    with Popen(args, **kwargs) as proc:
        try:
            out, err = proc.communicate(data, timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    done = subprocess.CompletedProcess(list(args), proc.returncode, out, err)
    if check:
        done.check_returncode()
    return done


def Popen(args: Any, **kwargs: Any) -> Any:  # noqa: N802 - stands for subprocess.Popen
    """``subprocess.Popen(args, **kwargs)``; for ``python -m scofeed ...``, a ``Forked``
    process from the fork server (see the module's docstring)."""
    if not _forkable(args, kwargs):
        return subprocess.Popen(args, **kwargs)
    return Forked(list(args), **kwargs)


class Forked:
    """What the tests use of ``subprocess.Popen``, for a child of the fork server: its
    pid, pipes, ``poll``, ``wait``, signals and ``communicate``."""

    def __init__(
        self,
        args: list[str],
        *,
        stdin: Any = None,
        stdout: Any = None,
        stderr: Any = None,
        cwd: Any = None,
        env: dict[str, str] | None = None,
        text: bool | None = None,
        universal_newlines: bool | None = None,
        encoding: str | None = None,
        errors: str | None = None,
        **ignored: None,
    ) -> None:
        self.args = args
        self.returncode: int | None = None
        text = bool(text or universal_newlines or encoding or errors)
        self.stdin = self.stdout = self.stderr = None
        theirs: list[int] = []  # the child's ends: closed here once the server has them
        fds: list[int] = []
        for name, want in (("stdin", stdin), ("stdout", stdout), ("stderr", stderr)):
            if want is None and name != "stdin":  # this process's own, as subprocess's
                fds.append(1 if name == "stdout" else 2)
            elif want is None or want == subprocess.DEVNULL:  # not the test process's
                # standard input: pytest-xdist talks to its workers through it
                fds.append(os.open(os.devnull, os.O_RDWR))
                theirs.append(fds[-1])
            elif want == subprocess.STDOUT:
                fds.append(fds[1])
            elif want == subprocess.PIPE:
                read, write = os.pipe()
                ours, child = (write, read) if name == "stdin" else (read, write)
                fds.append(child)
                theirs.append(child)
                mode = ("w" if name == "stdin" else "r") + ("" if text else "b")
                setattr(self, name, open(ours, mode, encoding=encoding if text else None,
                                         errors=errors if text else None))  # fmt: skip
            else:
                fds.append(want.fileno())
        message = {
            "args": args[len(SCOFEED) :],
            "cwd": os.fspath(cwd or os.getcwd()),
            "env": dict(os.environ if env is None else env),
        }
        self._conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._conn.connect(_server().path)
            socket.send_fds(self._conn, [json.dumps(message).encode()], fds)
            self.pid = int(self._conn.recv(64))
        finally:
            for fd in theirs:
                os.close(fd)

    def poll(self) -> int | None:
        if self.returncode is None:
            self._conn.setblocking(False)
            try:
                self._reaped(self._conn.recv(64))
            except BlockingIOError:
                pass
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self._conn.settimeout(timeout)
            try:
                self._reaped(self._conn.recv(64))
            except TimeoutError:
                raise subprocess.TimeoutExpired(self.args, timeout) from None
        assert self.returncode is not None
        return self.returncode

    def _reaped(self, said: bytes) -> None:
        self.returncode = int(said)
        self._conn.close()

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, input: Any = None, timeout: float | None = None) -> tuple[Any, Any]:
        """What ``subprocess.Popen.communicate`` does: ``input`` written, standard output and
        error read to their ends (threads, so that neither pipe fills), the exit awaited."""
        gathered: dict[str, Any] = {}
        threads = [
            threading.Thread(target=_gather, args=(stream, gathered, name), daemon=True)
            for name, stream in (("stdout", self.stdout), ("stderr", self.stderr))
            if stream is not None
        ]
        if self.stdin is not None:
            threads.append(threading.Thread(target=_feed, args=(self.stdin, input), daemon=True))
        for thread in threads:
            thread.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout)
        self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return gathered.get("stdout"), gathered.get("stderr")

    def __enter__(self) -> Forked:
        return self

    def __exit__(self, *exc: object) -> None:
        for stream in (self.stdout, self.stderr, self.stdin):
            if stream is not None:
                stream.close()
        self.wait()


def _gather(stream: Any, into: dict[str, Any], name: str) -> None:
    into[name] = stream.read()
    stream.close()


def _feed(stream: Any, data: Any) -> None:
    try:
        if data:
            stream.write(data)
        stream.close()
    except BrokenPipeError:
        pass
