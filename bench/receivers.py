"""Real HTTP receivers on 127.0.0.1 for the fan-out benches (webhooks, WebSub,
ActivityPub): N ThreadingHTTPServers spread over a few child processes, a share of
them hanging, each POST reported to the parent as (index, path, time). With
``hosts``, receiver i listens on 127.0.0.(i % hosts + 1) (all of 127/8 is loopback on
Linux): subscribers on that many hosts, as the WebSub hub's per-host share counts them.

A receiver answers a WebSub verification GET with its challenge and every POST with
``status``; with ``mark``, a POST outside /hook counts only when its body holds it (a
WebSub distribution of the feed with the new release, not of an older one).
"""

from __future__ import annotations

import http.server
import multiprocessing as mp
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
REPO = Path(__file__).resolve().parents[1]


def hanging_share(n: int, share: float) -> set[int]:
    """The indexes of the hanging receivers: every 1/share-th one."""
    step = max(1, round(1 / share)) if share > 0 else n + 1
    return {i for i in range(n) if i % step == step // 2}


def address(i: int, hosts: int) -> str:
    """The loopback address receiver ``i`` listens on."""
    return f"127.0.0.{i % hosts + 1}"


def _serve(
    conn, arrivals, indexes, hanging, hang_for, status: int, mark: bytes, hosts: int
) -> None:  # type: ignore[no-untyped-def]
    """Child process: one server per receiver; report ports, then arrivals."""

    def handler(index: int) -> type[http.server.BaseHTTPRequestHandler]:
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, code: int, body: bytes = b"") -> None:
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                self._answer(200, query.get("hub.challenge", [""])[0].encode())

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if not mark or self.path.startswith("/hook") or mark in body:
                    arrivals.put((index, self.path, time.time()))
                if index in hanging:
                    time.sleep(hang_for)
                    self.close_connection = True
                    return
                self._answer(status)

        return Handler

    servers = []
    for i in indexes:
        s = http.server.ThreadingHTTPServer((address(i, hosts), 0), handler(i))
        s.daemon_threads = True
        servers.append(s)
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    conn.send([s.server_address[1] for s in servers])
    conn.recv()  # until the parent is done


@dataclass
class Receivers:
    """``n`` receivers in ``processes`` child processes; ``ports[i]`` is receiver i's."""

    n: int
    hanging: set[int]
    hang_for: float
    processes: int = 2
    status: int = 204
    mark: bytes = b""
    hosts: int = 1
    ports: dict[int, int] = field(default_factory=dict)
    _children: list[tuple[Any, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        ctx = mp.get_context("spawn")
        self.arrivals = ctx.Queue()
        for p in range(self.processes):
            indexes = list(range(p, self.n, self.processes))
            parent, child = ctx.Pipe()
            proc = ctx.Process(
                target=_serve,
                args=(child, self.arrivals, indexes, self.hanging, self.hang_for,
                      self.status, self.mark, self.hosts),
                daemon=True,
            )  # fmt: skip
            proc.start()
            self._children.append((proc, parent))
            self.ports.update(zip(indexes, parent.recv(), strict=True))

    @property
    def healthy(self) -> set[int]:
        return set(range(self.n)) - self.hanging

    def url(self, i: int, path: str = "/hook") -> str:
        return f"http://{address(i, self.hosts)}:{self.ports[i]}{path}"

    def drain(self, deadline: float, hooks: bool = True) -> dict[int, float]:
        """The first arrival time per healthy receiver, until all have one or the
        deadline: POSTs to /hook (``hooks``) or to any other path."""
        want = self.healthy
        got: dict[int, float] = {}
        while not want <= set(got) and time.time() < deadline:
            try:
                index, path, at = self.arrivals.get(timeout=0.1)
            except Exception:  # queue.Empty
                continue
            if path.startswith("/hook") == hooks:
                got.setdefault(index, at)
        return got

    def stop(self) -> None:
        for proc, parent in self._children:
            parent.send("stop")
            proc.join(5)


def site_with_webhooks(root: Path, urls: list[str], timeout: float, extra: str = "") -> None:
    """A site in ``root``: the seed release and one webhook per URL (loopback allowed)."""
    (root / "sources").mkdir()
    seed = next((REPO / "sources").glob("*.txt"))
    (root / "sources" / seed.name).write_bytes(seed.read_bytes())
    hooks = "".join(
        f'\n[[webhooks]]\nname = "e{i:04d}"\nurl = "{u}"\nsecret = "{SECRET}"\n'
        f"timeout = {timeout}\nallow_private = true\n"
        for i, u in enumerate(urls)
    )
    (root / "config.toml").write_text(
        '[site]\nid_authority = "bench.example,2026"\n[limits]\nsettle = 0\n' + extra + hooks,
        encoding="utf-8",
    )
