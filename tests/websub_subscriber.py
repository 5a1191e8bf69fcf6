"""A small WebSub subscriber for tests: a threaded HTTP server on 127.0.0.1 that answers
verifications of intent (echoing the challenge, or not) and records distributions."""

from __future__ import annotations

import http.server
import threading
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from servers import serve


@dataclass
class Post:
    headers: dict[str, str]
    body: bytes


class Subscriber:
    """``echo``: "challenge" (confirm), "wrong" (answer something else), "404" (refuse).
    ``token``: the hub.verify_token a verification must carry (PubSubHubbub 0.3).
    ``topic``: the hub.topic a verification must carry, as the subscriber sent it (it
    confirms the topic is the one it asked for, WebSub 5.3); None: any.
    ``statuses``: the status for each distribution POST in turn, then 204;
    ``retry_after``: the Retry-After header of each 429 and 503 among them."""

    def __init__(
        self,
        echo: str = "challenge",
        statuses: tuple[int, ...] = (),
        token: str | None = None,
        topic: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        self.echo = echo
        self.retry_after = retry_after
        self.token = token  # a verification without this hub.verify_token gets a 404
        self.topic = topic  # a verification of another hub.topic gets a 404
        self.statuses = deque(statuses)
        self.verifications: list[dict[str, str]] = []
        self.posts: list[Post] = []
        self._cond = threading.Condition()
        sub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                if status in (429, 503) and sub.retry_after is not None:
                    self.send_header("Retry-After", sub.retry_after)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                with sub._cond:
                    sub.verifications.append(query)
                    sub._cond.notify_all()
                if query.get("hub.mode") == "denied":
                    self._answer(200, b"ok")
                elif sub.token is not None and query.get("hub.verify_token") != sub.token:
                    self._answer(404, b"no such subscription")  # NewsBlur's push callback
                elif sub.topic is not None and query.get("hub.topic") != sub.topic:
                    self._answer(404, b"not the topic asked for")
                elif sub.echo == "challenge":
                    self._answer(200, query.get("hub.challenge", "").encode())
                elif sub.echo == "wrong":
                    self._answer(200, b"not-the-challenge")
                else:
                    self._answer(404, b"no such subscription")

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sub._cond:
                    status = sub.statuses.popleft() if sub.statuses else 204
                    sub.posts.append(Post({k.lower(): v for k, v in self.headers.items()}, body))
                    sub._cond.notify_all()
                self._answer(status)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = serve(self.server)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/callback?token=t0k3n"

    def at(self, name: str) -> str:
        """Its callback under another host name (one that resolves to 127.0.0.1)."""
        return self.url.replace("127.0.0.1", name)

    def wait(self, what: str, n: int = 1, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(getattr(self, what)) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"subscriber got {len(getattr(self, what))} {what}")
                self._cond.wait(left)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
