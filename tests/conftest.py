"""Shared fixtures: a temporary site (config.toml, sources/, feeds/, state) per test."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from hypothesis import settings

import forkserver
from scofeed import config as config_mod
from scofeed.activitypub import keys
from scofeed.cli import main
from scofeed.model import Entry
from scofeed.store import Store
from scofeed.store import entries as entry_rows
from scofeed.store import origins as origin_rows
from servers import HTTPServer, serve

REPO = Path(__file__).resolve().parents[1]

# no test asserts a time (the machines are shared and noisy), and hypothesis's default
# deadline, 200 ms an example, is one: a property test failed under load for an example
# that took 269 ms once and 0.14 ms when hypothesis ran it again
settings.register_profile("scofeed", deadline=None)
settings.load_profile("scofeed")

# flask-websub (a test extra: the third-party WebSub subscriber) installs a stray
# top-level ``tests`` package, which would shadow this folder in ``from tests.x import``
if list(getattr(sys.modules.get("tests"), "__path__", [])) != [str(REPO / "tests")]:
    sys.modules["tests"] = types.ModuleType("tests")
    sys.modules["tests"].__path__ = [str(REPO / "tests")]
# werkzeug (pytest-httpserver's server) logs each request it answers, to a stderr
# handler of its own or the root's, either of which may be a finished test's captured
# stream: a request answered after its test ended (a handler held until then) printed
# "Logging error ... I/O operation on closed file". No test reads those lines.
_werkzeug = logging.getLogger("werkzeug")
_werkzeug.addHandler(logging.NullHandler())
_werkzeug.propagate = False
SEED = REPO / "sources" / "000_8062ea63522097a7.txt"
DATA = Path(__file__).resolve().parent / "data"


@dataclass
class Site:
    root: Path
    config_path: Path

    @property
    def sources(self) -> Path:
        return self.root / "sources"

    @property
    def feeds(self) -> Path:
        return self.root / "feeds"

    def config(self, *overrides: str) -> config_mod.Config:
        return config_mod.load(self.config_path, list(overrides))

    def store(self) -> Store:
        return Store(self.config().paths.state)

    def write_config(
        self, extra: str = "", limits: str = "", base_url: str = "", actor_key: bool = True
    ) -> None:
        """The base config, ``limits`` lines added to its [limits] table, then ``extra``;
        ``base_url``: the site's address in place of the base config's. With the actor
        enabled, its key file is the suite's (``place_actor_key``) unless ``actor_key``
        is False: scofeed then makes one, as it does on a site's first start."""
        base = BASE_CONFIG.replace(
            "[limits]\n", "[limits]\n" + limits + "\n" if limits else "[limits]\n"
        )
        text = base + extra
        if base_url:
            text = text.replace(BASE_URL, base_url)
        self.config_path.write_text(text, encoding="utf-8")
        if actor_key:
            place_actor_key(self.root, text)


# an RSA key of 2048 bits takes ~0.1 s of CPU to make, and the actor's was made anew for
# each of ~140 sites with the actor on (~18 of the suite's ~500 CPU-seconds). A site whose
# config enables it gets this worker's one key, made by scofeed once, in the file where
# scofeed keeps it (0600), as a site that has run before has it. What scofeed makes
# itself is tested where the key is the subject (test_activitypub_documents.py's
# key file, test_activitypub_fediverse.py's daemon, test_cli_errors.py's unwritable
# folder, the sites whose config the tests write themselves).
_ACTOR_KEY: list[bytes] = []


def place_actor_key(root: Path, text: str) -> None:
    """Put the suite's actor key where the config ``text`` (at ``root``) has scofeed keep
    it, when the config enables the actor and names no key file of its own, and there is
    none yet (a config that is no TOML is left to the test's own use)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    actor, paths = doc.get("activitypub"), doc.get("paths")
    if not isinstance(actor, dict) or actor.get("enabled") is not True or "key" in actor:
        return
    state = paths.get("state") if isinstance(paths, dict) else None
    if not isinstance(state, str):
        return  # a config the test means to be refused
    path = root / Path(state).parent / "activitypub-key.pem"
    if not _ACTOR_KEY:
        _ACTOR_KEY.append(keys.private_pem(keys.generate()))
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(_ACTOR_KEY[0])


BASE_URL = "http://127.0.0.1:8080/"
# the daemon with ActivityPub on: quick ticks, private addresses allowed (all is local)
ACTIVITYPUB_DAEMON = (
    '\n[schedule]\nscan_interval = 1\ndeliver_interval = 1\n\n[log]\nlevel = "INFO"\n'
    "\n[activitypub]\nenabled = true\nallow_private = true\ntimeout = 5\n"
)


BASE_CONFIG = """
[site]
base_url = "http://127.0.0.1:8080/"
id_authority = "test.example,2026"

[paths]
sources = "sources"
feeds = "feeds"
state = "state/test.sqlite3"

[limits]
settle = 0  # tests write files and build at once; tests/test_settle.py sets its own

[tags]
economy = ["e-commerce", "digital economy"]
"""


@pytest.fixture
def site(tmp_path: Path) -> Site:
    """An empty site with the seed release in its sources/."""
    s = Site(tmp_path, tmp_path / "config.toml")
    s.sources.mkdir()
    shutil.copy(SEED, s.sources / SEED.name)
    s.write_config()
    return s


def entry_of(site: Site, origin: str) -> Entry:
    """The stored entry an input (a file in sources/) belongs to."""
    db = site.store().db
    entry_id = origin_rows.entry_of_file(db, origin)
    assert entry_id is not None, f"no entry has {origin}"
    return entry_rows.get(db, entry_id)


def shown_inputs(site: Site, entry_id: str) -> list[tuple[str, str]]:
    """(role, origin) of each input `scofeed show ENTRY` lists, in its order."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["--config", str(site.config_path), "show", entry_id]) == 0
    lines = out.getvalue().split("inputs:\n", 1)[1].split("content:\n", 1)[0].splitlines()
    return [(line.split()[1], line.split()[-1]) for line in lines]


# what undoes each migration that cannot run twice (newest first: undone in this order)
UNDO = {
    41: ["ALTER TABLE entries DROP COLUMN stated_tags"],
    42: [
        "ALTER TABLE webhook_endpoints DROP COLUMN format",
        "ALTER TABLE webhook_endpoints DROP COLUMN events",
    ],
    43: ["ALTER TABLE sources DROP COLUMN catch_up_held"],
    40: ["DROP TABLE departures"],
    39: [
        "ALTER TABLE ap_deliveries DROP COLUMN first_attempt",
        "ALTER TABLE websub_distributions DROP COLUMN first_attempt",
    ],
    38: ["DROP INDEX deliveries_by_entry"],
    37: ["DROP INDEX ap_deliveries_rejects"],
    36: [
        "DROP INDEX ap_followers_by_domain",
        "ALTER TABLE ap_followers DROP COLUMN server",
        "ALTER TABLE ap_followers DROP COLUMN domain",
        "DELETE FROM meta WHERE key = 'activitypub.domains'",
    ],
    35: [
        "DROP INDEX websub_subscriptions_by_domain",
        "DROP INDEX websub_intents_by_domain",
        "ALTER TABLE websub_subscriptions DROP COLUMN domain",
        "ALTER TABLE websub_intents DROP COLUMN domain",
        "DELETE FROM meta WHERE key = 'websub.domains'",
    ],
    34: [
        "DROP INDEX entries_by_folded",
        "ALTER TABLE entries DROP COLUMN folded",
        "DELETE FROM meta WHERE key = 'folded'",
    ],
    33: ["DROP INDEX ap_keys_used", "ALTER TABLE ap_keys DROP COLUMN used_at"],
    32: ["DROP INDEX entries_restored", "ALTER TABLE entries DROP COLUMN restored_at"],
    31: [
        "ALTER TABLE websub_intents DROP COLUMN topic_given",
        "ALTER TABLE websub_subscriptions DROP COLUMN topic_given",
    ],
    30: ["ALTER TABLE feed_files DROP COLUMN stamp"],
    29: ["DROP INDEX ap_deliveries_accepts"],
    28: ["ALTER TABLE webhook_endpoints DROP COLUMN hold_until"],
    27: ["DROP INDEX deliveries_to_prune", "DROP INDEX ap_deliveries_delivered"],
    26: ["DROP INDEX files_rejected"],
    25: ["DROP TABLE files_left"],
    24: ["ALTER TABLE feed_files DROP COLUMN empty_since"],
    23: [
        "ALTER TABLE entry_origins DROP COLUMN name_kind",
        "ALTER TABLE entry_origins DROP COLUMN name_of",
    ],
    22: [
        "ALTER TABLE sources DROP COLUMN catch_up",
        "ALTER TABLE rejects DROP COLUMN since",
        "ALTER TABLE rejects DROP COLUMN tries",
    ],
    21: ["ALTER TABLE sources DROP COLUMN failures"],
    20: ["ALTER TABLE websub_intents DROP COLUMN verify_token", "DROP TABLE websub_pings"],
    19: ["ALTER TABLE page_checks DROP COLUMN format"],
}


def rewind(db: sqlite3.Connection, version: int) -> None:
    """Set a migrated store back to schema ``version``, so that opening it runs the later
    migrations again (an upgrade test). A migration that cannot run twice (``UNDO``) is
    undone first."""
    for undone, statements in UNDO.items():
        if version < undone:
            for statement in statements:
                db.execute(statement)
    db.execute(f"PRAGMA user_version = {version}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def held_port() -> tuple[int, socket.socket]:
    """A port on 127.0.0.1 that refuses connections until a server is started on it:
    held by a socket bound there, not listening, that a server binding the port with
    ``SO_REUSEADDR`` (http.server's) may share. A port only picked (``free_port``) and
    left empty a while could be taken by another test meanwhile. Close it once done."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return int(sock.getsockname()[1]), sock


@contextlib.contextmanager
def scofeed_serving(
    config: Path,
    command: str,
    port: int,
    ready: Callable[[requests.Response], bool] = lambda answer: True,
    timeout: float = 30.0,
) -> Iterator[str]:
    """``scofeed --config CONFIG COMMAND`` (``run`` or ``serve``) on 127.0.0.1:``port``, a
    subprocess in the config's folder (its stderr in ``<command>.err`` there, shown if it
    exits); yields its address once its ``/healthz`` answers as ``ready`` says, and
    stops it after."""
    folder = config.parent
    err = folder / f"{command}.err"
    with open(err, "wb") as e:
        proc = forkserver.Popen(
            [sys.executable, "-m", "scofeed", "--config", str(config), command]
            + ["--host", "127.0.0.1", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=e,
            cwd=folder,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            assert proc.poll() is None, err.read_text(errors="replace")
            try:
                if ready(requests.get(url + "healthz", timeout=5)):
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"scofeed {command} did not answer in {timeout:g} s"
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


# -- webhook receivers (issue 4) -------------------------------------------------------

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET_OLD = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class Receiver:
    """A real HTTP receiver on 127.0.0.1 that answers from a script, one step per request
    (the last step repeats). Steps: an int status; (status, headers, body); "hang"
    (no answer until the test ends); "close" (no answer, connection closed);
    "close-mid" (a 200 that promises 1000 bytes and closes after 7; "close-mid-500" the
    same with a 500); ("slow", seconds,
    status) (that status after that many seconds)."""

    def __init__(self, script: list, port: int = 0) -> None:
        import http.server
        import threading

        self.script = list(script) or [200]
        self.received: list[Received] = []
        self.release = threading.Event()
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: without this, Nagle's algorithm and
            # the client's delayed ACK hold each answer ~40 ms
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                import time

                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-body (the chaos test kills
                    self.close_connection = True  # it): no request, as a real server
                    return  # would see it; the sender never had an answer and retries
                with outer.lock:
                    n = len(outer.received)
                    outer.received.append(
                        Received(self.path, dict(self.headers.items()), body, time.time())
                    )
                    step = outer.script[min(n, len(outer.script) - 1)]
                outer.answer(self, step)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.thread = serve(self.server)

    def answer(self, h, step) -> None:
        if step == "hang":
            self.release.wait(30)
            h.close_connection = True
            return
        if step == "close":
            h.close_connection = True
            return
        if isinstance(step, tuple) and step[0] == "slow":  # ("slow", seconds, status)
            import time

            time.sleep(step[1])
            step = step[2]
        if step in ("close-mid", "close-mid-500"):
            status = b"500 Internal Server Error" if step == "close-mid-500" else b"200 OK"
            h.wfile.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 1000\r\n\r\npartial")
            h.wfile.flush()
            h.close_connection = True
            return
        status, headers, body = (step, {}, b"ok") if isinstance(step, int) else step
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        if status in (204, 304):
            # no body, as HTTP has it: the "ok" of a bare 204 stayed in the connection,
            # and the next answer on it read "okHTTP/1.1 204": a delivery failed only
            # when those two bytes came after the sender's check for a closed connection
            body = b""
        else:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        import time

        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"{len(self.received)} of {count} requests came"
            time.sleep(0.01)
        return self.received

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    """Make receivers with ``receivers([500, 500, 200])``; all stop at the end."""
    made: list[Receiver] = []

    def make(script: list | None = None, port: int = 0) -> Receiver:
        r = Receiver(script or [200], port)
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


class SlowReceiver:
    """A raw socket endpoint on 127.0.0.1 that holds its answer: it reads each
    request's head, then sends ``answer[:start]`` at once and the rest one byte every
    ``every`` seconds, or, with ``silent``, says nothing until it is stopped. How each
    answer ended goes to ``outcomes`` ("whole", "client gone": the client closed the
    connection before all of it was sent, or "stopped"), and ``ended`` is set."""

    def __init__(
        self, answer: bytes, every: float = 1.0, start: int = 0, silent: bool = False
    ) -> None:
        self.answer, self.every, self.start, self.silent = answer, every, start, silent
        self.requests = 0
        self.heads: list[bytes] = []  # each request as it came, up to its blank line
        self.outcomes: list[str] = []
        self.ended = threading.Event()
        self.done = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(60)
            try:
                got = b""
                while b"\r\n\r\n" not in got:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    got += chunk
                self.requests += 1
                self.heads.append(got)
                outcome = self._answer(conn)
            except OSError:
                outcome = "client gone"
        self.outcomes.append(outcome)
        self.ended.set()

    def _answer(self, conn: socket.socket) -> str:
        if self.silent:
            self.done.wait(120)
            return "stopped"
        conn.sendall(self.answer[: self.start])
        for i in range(self.start, len(self.answer)):
            if self.done.wait(self.every):
                return "stopped"
            conn.sendall(self.answer[i : i + 1])
        return "whole"

    def stop(self) -> None:
        self.done.set()
        self.sock.close()


SLOW = "slow-dns.test"


@pytest.fixture
def slow_resolver(monkeypatch):
    """``socket.getaddrinfo`` held (up to 60 s, until the test ends) for the one name
    ``SLOW``, which then resolves to 127.0.0.1: a resolver that does not answer, which
    cannot be made on this machine without changing its system files."""
    real = socket.getaddrinfo
    state = {"answered": threading.Event(), "release": threading.Event(), "calls": 0}

    def getaddrinfo(host, port, *args, **kwargs):
        if host == SLOW:
            state["calls"] += 1
            state["release"].wait(60)
            state["answered"].set()
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield state
    state["release"].set()


@pytest.fixture
def wildcard_dns(monkeypatch):
    """``socket.getaddrinfo`` answers 127.0.0.1 for every name under the domains given
    to the function it yields (``wildcard_dns("evil.test")``: ``a.evil.test``,
    ``b.evil.test``, ...), as a subscriber's wildcard DNS record would; other names go
    to the real resolver."""
    real = socket.getaddrinfo
    domains: set[str] = set()

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.rstrip(".").lower() if isinstance(host, str) else host
        if isinstance(name, str) and any(name == d or name.endswith("." + d) for d in domains):
            host = "127.0.0.1"
        return real(host, port, *args, **kwargs)

    def under(*names: str) -> None:
        domains.update(names)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return under


def webhook_toml(name: str, url: str, **extra: object) -> str:
    """One [[webhooks]] table; extra keys are written as TOML values."""
    import json as _json

    lines = ["", "[[webhooks]]", f'name = "{name}"', f'url = "{url}"']
    extra.setdefault("secret", [SECRET, SECRET_OLD])
    extra.setdefault("allow_private", True)
    for k, v in extra.items():
        if isinstance(v, bool):
            lines.append(f"{k} = {'true' if v else 'false'}")
        else:
            lines.append(f"{k} = {_json.dumps(v)}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def web():
    """A pytest-httpserver on 127.0.0.1 for one test: pages, feeds and sources to poll."""
    server = HTTPServer()
    server.start()
    yield server
    server.clear()
    server.stop()


def run_cli(site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    """``scofeed --config <site's> ARGS`` as a subprocess in the site's folder, its
    output captured as text."""
    return forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), *args],
        capture_output=True,
        text=True,
        cwd=site.root,
        timeout=120,
    )


def modes_apply() -> list[str]:
    """The command prefix under which file modes bind a scofeed process: root reads and
    writes whatever the modes say, so as root it runs under ``setpriv`` without the
    capabilities that let it (``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH``); as any
    other user the modes apply as they are."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file modes would not apply")
    drop = "-dac_override,-dac_read_search,-fowner"
    return [setpriv, f"--bounding-set={drop}", "--inh-caps=-all", "--"]
