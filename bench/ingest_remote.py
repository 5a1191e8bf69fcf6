"""Remote ingest benchmark: N SCO-shaped article pages from a local threaded server.

Prints releases per second for a first poll (listing + N article pages) and for a
second poll of the unchanged site (one 304), and their ratio. Run:

    .venv/bin/python bench/ingest_remote.py [N]
"""

from __future__ import annotations

import argparse
import html
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from scofeed import config as config_mod
from scofeed.poll import poll_due
from scofeed.store import Store

ARTICLE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} - SCO</title></head><body>
<header><nav><a href="/">Home</a> <a href="/news/">News</a></nav></header>
<div class="news-detail"><h1>{title}</h1><div class="date">{dotted}</div>
<p>On {day} the SCO Secretary-General held meeting number {n} with a delegation.</p>
<p>The parties discussed cooperation in trade, security and culture, item {n}.</p>
</div><footer>SCO Secretariat</footer></body></html>"""


def make_site(n: int) -> dict[str, bytes]:
    pages: dict[str, bytes] = {}
    links = []
    start = datetime(2020, 1, 1)
    for i in range(n):
        d = start + timedelta(days=i)
        path = f"/{d:%Y%m%d}/{800000 + i}.html"
        title = f"SCO Secretary-General meets delegation {i}"
        body = ARTICLE.format(
            title=html.escape(title), dotted=f"{d:%d.%m.%Y}", day=f"{d:%-d %B %Y}", n=i
        )
        pages[path] = body.encode()
        links.append(f'<li><a href="{path}">{html.escape(title)}</a></li>')
    pages["/news/"] = ("<html><body><ul>" + "".join(links) + "</ul></body></html>").encode()
    return pages


def serve(pages: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server interface
            body = pages.get(self.path)
            if body is None:
                self.send_error(404)
                return
            if self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.send_header("ETag", '"v1"')
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", '"v1"')
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@dataclass
class PollFigures:
    pages: int
    new: int
    first_seconds: float
    first_requests: int
    second_seconds: float
    second_requests: int
    second_status: str


def measure_polls(n: int, root: Path) -> PollFigures:
    """Serve n article pages locally; time a first poll and a second, all-304 poll."""
    server = serve(make_site(n))
    port = server.server_address[1]
    try:
        (root / "config.toml").write_text(
            f"""
[paths]
state = "state.sqlite3"
[feeds]
entries = 50
[[sources]]
name = "bench"
kind = "page-list"
url = "http://127.0.0.1:{port}/news/"
preset = "sco"
delay = 0
timeout = 10
max_items = {n}
""",
            encoding="utf-8",
        )
        cfg = config_mod.load(root / "config.toml")
        store = Store(cfg.paths.state)
        now = datetime(2026, 1, 1, tzinfo=UTC)
        t0 = time.perf_counter()
        first = poll_due(cfg, store, now)
        t1 = time.perf_counter()
        second = poll_due(cfg, store, now + timedelta(hours=2))
        t2 = time.perf_counter()
        store.close()
    finally:
        server.shutdown()
    return PollFigures(
        n,
        first.results[0].new,
        t1 - t0,
        first.results[0].fetched,
        t2 - t1,
        second.results[0].fetched,
        second.results[0].status,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=500, help="article pages (default 500)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        f = measure_polls(args.n, Path(tmp))
    cold, warm = f.first_seconds, f.second_seconds
    print(f"pages={f.pages} new={f.new} status_second={f.second_status}")
    print(
        f"first poll:  {cold:8.3f} s  {f.new / cold:9.1f} releases/s  requests={f.first_requests}"
    )
    print(  # one conditional request, nothing ingested: no rate per release
        f"second poll: {warm:8.3f} s  requests={f.second_requests} (the listing, unchanged)"
    )
    print(f"second/first time ratio: {warm / cold:.4f}")


if __name__ == "__main__":
    main()
