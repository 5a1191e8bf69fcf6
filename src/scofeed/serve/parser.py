"""The request parser of the HTTP server (``serve.server``): waitress's, stricter.

Requests are read strictly: lines end in CRLF, and the request line names HTTP/1.0 or
HTTP/1.1. waitress alone would wait forever on a bare LF or lone CR and serve HTTP/0.9
or "HTTP/7.3" as HTTP/1.0; here they get 400 and a closed connection, as do what RFC
9112 has a server refuse (see ``StrictParser``).
"""

from __future__ import annotations

import re
import time
from typing import Any

from waitress.adjustments import Adjustments
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.utilities import BadRequest, RequestEntityTooLarge

# the request target: a path (origin form), a whole http(s) URL (absolute form, which a
# server must take), or "*" (OPTIONS); the authority form is CONNECT's, not served here
_REQUEST_LINE = re.compile(
    rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+ (?:/|(?i:https?)://|\*(?= ))[^\x00-\x20\x7f]* HTTP/1\.[01]"
)
# a Host header's value (RFC 9112 3.2, RFC 3986 3.2.2): a name or address, a port
_HOST = re.compile(r"(?:\[[0-9A-Za-z:.%_~-]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]*)(?::[0-9]*)?")
LONGEST_TARGET = 8192  # bytes of request line answered 414 past (nginx's 8 KB buffer)
RAW = 8  # a chunked body's bytes on the wire per byte of it, at most (1-byte chunks: 6)


class UriTooLong(BadRequest):  # type: ignore[misc]
    code = 414
    reason = "URI Too Long"


class StrictParser(HTTPRequestParser):  # type: ignore[misc]
    """waitress's parser, refusing what it would hang on or misread (see the module),
    and what RFC 9112 says a server must refuse: an HTTP/1.1 request without a Host
    header, one with two or with an invalid one (3.2), one with both Content-Length and
    Transfer-Encoding or chunked twice (6.1, 6.3); a request line too long is a 414."""

    def __init__(self, adj: Adjustments) -> None:
        super().__init__(adj)
        self.started = time.time()  # its first byte came now (``HttpServer._maintenance``)

    route_limit: int | None = None  # the largest body this request's path takes

    def received(self, data: bytes) -> int:
        if self.completed or self.body_rcv is not None or self.headers_finished:  # type: ignore[has-type]
            taken = super().received(data)
            limit = self.route_limit
            body = self.body_rcv  # type: ignore[has-type]
            # the body's own bytes: a chunked one's framing (sizes, line ends) counted
            # too refused a body under the limit; the framing is held to RAW times it
            # (a chunk-size line or trailer that never ends, read whole: megabytes, and
            # waitress joins it anew at each read)
            got = len(body) if self.chunked and body is not None else self.body_bytes_received
            raw = self.body_bytes_received if self.chunked else 0
            if limit is not None and (got > limit or raw > RAW * limit) and not self.error:  # type: ignore[has-type]
                # a chunked body, whose length no header says: refused once past its
                # path's limit (it had the server's, the largest route's, 256 KiB)
                self.error = RequestEntityTooLarge(f"exceeds max_body of {limit}")
                self.completed = True
            return self._continue_if_awaited(taken)
        head = (self.header_plus + data).lstrip(b"\r\n")
        end = head.find(b"\r\n\r\n")
        head = head if end < 0 else head[:end]
        if end < 0 and head.endswith(b"\r"):
            head = head[:-1]  # the first half of a CRLF still on its way
        problem = None
        crlf = head.count(b"\r\n")  # every LF after a CR, every CR before an LF
        line = head.split(b"\r\n", 1)[0]
        if head.count(b"\n") != crlf or head.count(b"\r") != crlf:
            problem = "line endings other than CRLF"
        elif len(line) > LONGEST_TARGET:
            problem = f"the request line is longer than {LONGEST_TARGET} bytes"
        elif (b"\r\n" in head or end >= 0) and not _REQUEST_LINE.fullmatch(line):
            problem = "not an HTTP/1.0 or HTTP/1.1 request line"
        if problem is None:
            return self._continue_if_awaited(super().received(data))
        self.parse_header(b"GET / HTTP/1.0\r\n")
        self.error = (UriTooLong if problem.startswith("the request line") else BadRequest)(problem)
        self.completed = True
        return len(data)

    def _continue_if_awaited(self, taken: int) -> int:
        """A request complete once its head is in (no body, or refused: a 413 or 400)
        asks for no "100 Continue" (RFC 9110 10.1.1): waitress sent one all the same,
        then took the request for unfinished, and the client waited for an answer that
        never came (``Expect: 100-continue`` on a GET, or on a body too large)."""
        if self.completed:
            self.expect_continue = False
        return int(taken)

    def parse_header(self, header_plus: bytes) -> None:
        """waitress's ``parse_header``, remembered by the header block's bytes: a client
        polling a feed sends the same bytes each time (a reader's conditional GET, a
        health check), and parsing them again was a quarter of the poll loop's time
        under a stream of 304s (py-spy). Only a request without a body is remembered
        (what parsing sets is then plain values and the headers, copied out on use)."""
        key = (header_plus, self.adj.url_scheme)
        known = _PARSED.get(key)
        if known is not None:
            self.__dict__.update(known)
            self.headers = dict(known["headers"])
            return
        before = dict(self.__dict__)
        super().parse_header(header_plus)
        self._check_framing(header_plus)
        limit_of = getattr(self.adj, "body_limit", None)  # ``HttpServer(body_limit=)``
        if limit_of is not None and (self.content_length or self.chunked):
            self.route_limit = limit_of(self.path)
            if self.content_length > self.route_limit:
                # refused before a byte of it is read: every route took the largest
                # route's body (an inbox's 256 KiB), held by each connection sending one
                self.error = RequestEntityTooLarge(f"exceeds max_body of {self.route_limit}")
                self.completed = True
        if self.body_rcv is not None or self.chunked or len(header_plus) > PARSED_BYTES:
            return
        if len(_PARSED) >= PARSED_LIMIT:
            _PARSED.clear()  # a cache, not a record: start again
        made = {k: v for k, v in self.__dict__.items() if k not in before or before[k] is not v}
        made["headers"] = dict(self.headers)
        _PARSED[key] = made

    def _check_framing(self, header_plus: bytes) -> None:
        """What RFC 9112 has a server refuse (see the class), as a ``ParsingError``
        (waitress answers 400 and closes); ``Connection: keep-alive, close`` (a list
        holding "close") closes the connection after the answer, as "close" alone does."""
        headers = self.headers
        host = headers.get("HOST")
        if host is None and self.version == "1.1":
            raise ParsingError("no Host header")
        if host is not None and not _HOST.fullmatch(host):  # two are joined by ", "
            raise ParsingError("more than one Host header, or one that is not a host")
        if self.chunked and "CONTENT_LENGTH" in headers:
            raise ParsingError("both Content-Length and Transfer-Encoding")
        if self.chunked and _codings(header_plus).count("chunked") > 1:
            raise ParsingError("chunked more than once")
        tokens = {t.strip(" \t").lower() for t in headers.get("CONNECTION", "").split(",")}
        if "close" in tokens:
            self.connection_close = True
            headers["CONNECTION"] = "close"  # as waitress's task reads it


def _codings(header_plus: bytes) -> list[str]:
    """The transfer codings the Transfer-Encoding lines of a request head name, in
    order (waitress takes the header out once read)."""
    found = []
    for line in header_plus.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon and name.strip().lower() == b"transfer-encoding":
            found += [c.strip(b" \t").decode("latin-1").lower() for c in value.split(b",")]
    return found


PARSED_LIMIT = 512  # header blocks remembered (StrictParser.parse_header)
PARSED_BYTES = 4096  # a larger header block is parsed each time
_PARSED: dict[tuple[bytes, str], dict[str, Any]] = {}
