"""``scofeed`` processes for the tests, forked from one that has already loaded scofeed.

The suite runs ``python -m scofeed ...`` several hundred times; each such process spent
~0.15-0.9 CPU-seconds loading Python, scofeed and its libraries before doing what the
test asked: half of the suite's time on a 2-core machine. ``run`` and ``Popen`` here give
the same process for the price of a fork: a fork server (two for each test process,
started at their first use) imports every scofeed module once, and for each command
forks a child which takes the test's standard input, output and error, its folder,
environment and umask, makes ``sys.stdin``, ``sys.stdout`` and ``sys.stderr`` anew as
Python makes them at start-up (buffered, or not with ``PYTHONUNBUFFERED``), and runs the
same entry point as ``python -m scofeed`` (``scofeed.cli.run``). The child is a real,
separate process, and it exits as Python does: ``atexit`` handlers, buffers flushed, exit
code or ``-signal`` as ``subprocess`` reports it.

What a fork cannot give is a fresh process:

- Whatever is read from the environment as a program starts (the locale, ``PYTHON*``
  variables, ``LD_PRELOAD`` and libfaketime's, glibc's ``MALLOC_*``) is the server's,
  and the server's environment is this process's as the tests were collected (before
  any test changed it). So a command whose environment differs from that in any of
  those runs in a fresh process, handed to ``subprocess`` unchanged, as is one that
  asks for something not forwarded here (``preexec_fn``, ``pass_fds``...).
- Its start-up is over: a test of what happens while a command loads (a signal then,
  the modules it loads) starts ``python -m scofeed`` itself (``subprocess``).
- The hash seed is its server's: two commands of one server order a set of strings
  alike, where two fresh processes may not. Each test process has two servers, taken
  in turn, so that of two commands in a row (a build, then one that must write nothing)
  each has its own seed.
"""

from __future__ import annotations

import atexit
import itertools
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
# exception: the forked child makes its streams as that asks)
_AT_START = ("PYTHON", "LC_", "LANG", "PATH", "LD_", "FAKETIME", "DONT_FAKE", "MALLOC_", "GLIBC")
# the servers' environment: this process's as this module is loaded, while the tests are
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
_MESSAGE_MAX = 100_000  # bytes of one command's message; a longer one runs fresh
_SERVERS = 2

# The server: reads one command a message (JSON, with the child's stdin, stdout and
# stderr as file descriptors), forks, answers the child's pid, then its exit code once
# it is reaped. A message it cannot read is answered "-" (and the connection closed).
# It leaves when the test process closes its standard input.
_SERVER = r"""
import importlib, io, json, os, pkgutil, selectors, socket, sys, time
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
                conn.settimeout(10)  # the message is sent as the client connects
                fds = []
                try:
                    msg, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
                    command = json.loads(msg)
                    assert len(fds) == 3
                except Exception:
                    for fd in fds:
                        os.close(fd)
                    conn.close()
                    continue
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
                try:
                    conn.send(str(pid).encode())
                except OSError:
                    pass
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

def streams(unbuffered):
    # as Python makes them at start-up: stdin buffered always; stdout and stderr buffered
    # (line-buffered on a terminal, stderr always), or with PYTHONUNBUFFERED raw and
    # written through; the encoding and errors the server's own have (the same locale)
    made = []
    for fd, old in enumerate((sys.stdin, sys.stdout, sys.stderr)):
        writing = fd > 0
        buffered = not (unbuffered and writing)
        raw = io.FileIO(fd, "wb" if writing else "rb", closefd=False)
        binary = raw if not buffered else (io.BufferedWriter if writing else io.BufferedReader)(raw)
        stream = io.TextIOWrapper(
            binary, encoding=old.encoding, errors=old.errors, newline="\n",
            line_buffering=buffered and (raw.isatty() or fd == 2), write_through=not buffered,
        )
        stream.mode = "w" if writing else "r"
        made.append(stream)
    sys.stdin, sys.stdout, sys.stderr = made
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = made

command = serve(sys.argv[1])
if command is None:
    raise SystemExit(0)
os.chdir(command["cwd"])
os.umask(command["umask"])
os.environ.clear()
os.environ.update(command["env"])
time.tzset()
streams(bool(command["env"].get("PYTHONUNBUFFERED")))
sys.argv = [os.path.join(scofeed.__path__[0], "__main__.py"), *command["args"]]
del serve, streams, command
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
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        Path(self.path).unlink(missing_ok=True)
        os.rmdir(self.folder)


_servers: dict[int, _Server] = {}
_servers_lock = threading.Lock()
_turn = itertools.count()


def _server() -> _Server:
    """The next of this process's servers, in turn (see the module's docstring)."""
    with _servers_lock:
        which = next(_turn) % _SERVERS
        if which not in _servers:
            _servers[which] = _Server()
        return _servers[which]


def _message(args: Any, kwargs: dict[str, Any]) -> bytes | None:
    """The command as the server reads it, or None when it must run fresh."""
    if not isinstance(args, (list, tuple)):
        return None
    try:
        argv = [os.fsdecode(a) for a in args]
    except TypeError:
        return None
    if argv[: len(SCOFEED)] != SCOFEED:
        return None
    if any(value is not None for name, value in kwargs.items() if name not in _FORWARDED):
        return None
    env = kwargs.get("env")
    env = dict(os.environ if env is None else env)
    for name in set(env) | set(_ENVIRON):
        if name.startswith(_AT_START) and name != "PYTHONUNBUFFERED":
            if env.get(name) != _ENVIRON.get(name):
                return None
    for name in ("stdin", "stdout", "stderr"):
        stream = kwargs.get(name)
        if stream in (None, subprocess.PIPE, subprocess.DEVNULL) or hasattr(stream, "fileno"):
            continue
        if not (name == "stderr" and stream == subprocess.STDOUT):
            return None
    cwd = kwargs.get("cwd")
    try:
        message = json.dumps(
            {
                "args": argv[len(SCOFEED) :],
                "cwd": os.path.abspath(os.fsdecode(cwd) if cwd is not None else os.getcwd()),
                "umask": _umask(),
                "env": {os.fsdecode(k): os.fsdecode(v) for k, v in env.items()},
            }
        ).encode()
    except (TypeError, ValueError):
        return None
    return message if len(message) <= _MESSAGE_MAX else None


def _umask() -> int:
    """This process's umask, read (setting it to read it back would race other threads)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    raise RuntimeError("no Umask line in /proc/self/status")


def run(args: Any, **kwargs: Any) -> subprocess.CompletedProcess:
    """``subprocess.run(args, **kwargs)``; for ``python -m scofeed ...``, the process is
    forked from a fork server (see the module's docstring)."""
    message = _message(args, kwargs)
    if message is None:
        return subprocess.run(args, **kwargs)
    check = kwargs.pop("check", False)
    data = kwargs.pop("input", None)
    timeout = kwargs.pop("timeout", None)
    if kwargs.pop("capture_output", False):
        kwargs["stdout"] = kwargs["stderr"] = subprocess.PIPE
    if data is not None:
        kwargs["stdin"] = subprocess.PIPE
    with Forked(list(args), message, **kwargs) as proc:  # the message made once, above
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
    process from a fork server (see the module's docstring)."""
    message = _message(args, kwargs)
    if message is None:
        return subprocess.Popen(args, **kwargs)
    return Forked(list(args), message, **kwargs)


class Forked:
    """What the tests use of ``subprocess.Popen``, for a child of a fork server: its
    pid, pipes, ``poll``, ``wait``, signals and ``communicate``."""

    def __init__(
        self,
        args: list[str],
        message: bytes,
        *,
        stdin: Any = None,
        stdout: Any = None,
        stderr: Any = None,
        text: bool | None = None,
        universal_newlines: bool | None = None,
        encoding: str | None = None,
        errors: str | None = None,
        **given: Any,  # cwd, env: in the message
    ) -> None:
        self.args = args
        self.returncode: int | None = None
        text = bool(text or universal_newlines or encoding or errors)
        self.stdin = self.stdout = self.stderr = None
        self._readers: list[threading.Thread] | None = None
        self._read: dict[str, Any] = {}
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
        self._conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._conn.settimeout(60)  # the server answers the pid at once
        try:
            self._conn.connect(_server().path)
            socket.send_fds(self._conn, [message], fds)
            self.pid = int(self._conn.recv(64))
        except BaseException:
            self._conn.close()
            for stream in (self.stdin, self.stdout, self.stderr):
                if stream is not None:
                    stream.close()
            raise
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
        error read to their ends (threads, so that neither pipe fills), the exit awaited. A
        call after one that timed out goes on with the same threads, as subprocess's."""
        if self._readers is None:
            self._readers = [
                threading.Thread(target=_gather, args=(stream, self._read, name), daemon=True)
                for name, stream in (("stdout", self.stdout), ("stderr", self.stderr))
                if stream is not None
            ]
            if self.stdin is not None:
                self._readers.append(
                    threading.Thread(target=_feed, args=(self.stdin, input), daemon=True)
                )
            for thread in self._readers:
                thread.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._readers:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout)
        self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return self._read.get("stdout"), self._read.get("stderr")

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
