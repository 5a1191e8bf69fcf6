"""What waitress's tasks write, made to fit scofeed's server (``serve.server``): the head
of a response (``KeepAliveTask``, kept for the poll loop's answers by ``HeadCache``), a
request's headers under their WSGI names (``WsgiHeaders``), and waitress's own refusals
(``NoSniffErrorTask``)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from waitress.task import ErrorTask, WSGITask

from scofeed.serve.answers import Response
from scofeed.serve.parser import RAW


class KeepAliveTask(WSGITask):  # type: ignore[misc]
    """waitress closes an HTTP/1.1 connection after any response without a
    Content-Length, even a 304 or 204, which has no body to delimit: every conditional
    GET then cost a new connection. Those keep the connection open here."""

    def build_response_header(self) -> bytes:
        keep = (
            not self.has_body
            and not self.close_on_finish  # type: ignore[has-type]
            and self.version == "1.1"
            and self.request.headers.get("CONNECTION", "").lower() != "close"
        )
        if not keep:
            return bytes(super().build_response_header())
        self.close_on_finish = True  # skips waitress's "no length: close" step
        try:
            return bytes(super().build_response_header())
        finally:
            self.close_on_finish = False


class WsgiHeaders(Mapping[str, str]):
    """A request's headers under their WSGI names (``HTTP_IF_NONE_MATCH``), looked up in
    waitress's parsed headers rather than copied into a new dict for every request."""

    __slots__ = ("_headers",)

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = headers

    def __getitem__(self, key: str) -> str:
        if not key.startswith("HTTP_"):
            raise KeyError(key)
        return self._headers[key[5:]]

    def get(self, key: str, default: Any = None) -> Any:  # Mapping's, minus a raise
        return self._headers.get(key[5:], default) if key.startswith("HTTP_") else default

    def __iter__(self) -> Iterator[str]:
        return ("HTTP_" + name for name in self._headers)

    def __len__(self) -> int:
        return len(self._headers)


class HeadCache:
    """The status line and headers of the poll loop's answers, built by waitress's own
    task code once per answer, kind of request and second, then reused: built for every
    request they took a sixth of the loop's time under a stream of 304s (py-spy). The
    key is all they depend on: the answer (its status and headers), the request's HTTP
    version and ``Connection`` header, the server's ident, and the Date (whole seconds,
    as waitress writes it). Made for the poll loop; were two loops to share it, a head
    could be built twice, never given in another second (the second is in the key)."""

    LIMIT = 256  # heads kept at once (odd Connection headers add some)

    def __init__(self) -> None:
        self._second = -1
        # (answer's id, version, Connection, ident, second) -> (answer, head, body?, close?)
        self._heads: dict[tuple[Any, ...], tuple[Response, bytes, bool, bool]] = {}

    def head(self, channel: Any, request: Any, answer: Response) -> tuple[bytes, bool, bool]:
        """(the head's bytes, whether the response has a body, whether the connection
        closes after it) for ``answer`` to ``request`` on ``channel``."""
        now = time.time()
        second = int(now)
        if second != self._second or len(self._heads) >= self.LIMIT:
            self._heads.clear()  # the past seconds' heads are of no more use
            self._second = second
        connection = request.headers.get("CONNECTION", "").lower()
        key = (id(answer), request.version, connection, channel.server.adj.ident, second)
        hit = self._heads.get(key)
        if hit is not None and hit[0] is answer:  # held here: its id is not reused
            return hit[1], hit[2], hit[3]
        task = channel.task_class(channel, request)  # the worker's header code, never run
        task.start_time = now
        task.status = answer.status_line
        task.response_headers = list(answer.headers)
        if answer.status != 304:  # as start_response reads it from Content-Length
            task.content_length = len(answer.body)
        head = task.build_response_header()
        self._heads[key] = (answer, head, task.has_body, task.close_on_finish)
        return head, task.has_body, task.close_on_finish


HEADS = HeadCache()


class NoSniffErrorTask(ErrorTask):  # type: ignore[misc]
    """waitress's own answer to a request it refuses (400, 413, 431): one line, as every
    other refusal of ours (waitress's own body ran over five, and its 413 named the
    server-wide limit, which is no route's but the largest: a 413 names the limit of the
    request's path), with the
    ``X-Content-Type-Options: nosniff`` every other answer carries."""

    def execute(self) -> None:
        error = self.request.error
        if error.code == 413:
            limit = getattr(self.request, "route_limit", None)  # StrictParser's: its path's
            if limit is not None:
                line = f"the body is larger than this path takes ({limit} bytes)"
            else:  # a body of no path yet (its head unread)
                limit = (self.channel.adj.max_request_body_size - 1) // RAW
                line = f"the body is larger than any route here takes ({limit} bytes)"
        else:
            line = " ".join(f"{error.reason.lower()}: {error.body}".split())
        body = (line + "\n").encode("utf-8", "replace")
        self.status = f"{error.code} {error.reason}"
        self.response_headers.extend(
            [("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")]
        )
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)
