"""The access log (``serve.access_log``): one line a request, after its answer is made.

``access client=203.0.113.9 method=GET path=/atom.xml status=304 bytes=0 ms=0.4
agent="Feedly/1.0 (+http://www.feedly.com/fetcher.html; 12 subscribers)"`` at INFO, on
the ``scofeed.access`` logger: who polls the feeds, how often a 304 saves the body, what
each reader calls itself (aggregators state their subscriber counts there). The client
is the one ``serve.trusted_proxies`` names (``clients.client_address``); the path is
logged without its query (no route takes one, and what a client puts there is its own),
percent-encoded as a URL spells it (``PATH_INFO`` is decoded: a ``%20`` in it wrote
fields of the client's own into the line, ``client=`` one, and a UTF-8 path showed as
Latin-1); the agent is cut at ``AGENT_CHARS``. Escaped as every log line is
(``logs``); in JSON each field is a key of its own too (``logs.FIELDS``). Off by
default: a reverse proxy in front keeps its own.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from scofeed.config import Config
from scofeed.logs import FIELDS
from scofeed.serve.answers import Response
from scofeed.serve.clients import client_address

log = logging.getLogger("scofeed.access")

AGENT_CHARS = 300
PATH_CHARS = 2000
# what a path may show as it is: RFC 3986's unreserved characters, sub-delims, ":", "@"
_PATH_SAFE = "/:@!$&'()*+,;="


def logged(
    cfg: Config, environ: Mapping[str, Any], method: str, response: Response, started: float
) -> None:
    """One line for a request answered with ``response``, ``started`` (perf_counter) ago."""
    head = method == "HEAD" or response.status in (204, 304)
    size = 0 if head else len(response.body)
    agent = str(environ.get("HTTP_USER_AGENT", ""))[:AGENT_CHARS]
    # PATH_INFO is the path's bytes as Latin-1 (WSGI): encoded back, a byte a character
    raw = str(environ.get("PATH_INFO", "")).encode("latin-1", "replace")
    path = quote(raw[:PATH_CHARS], safe=_PATH_SAFE)[:PATH_CHARS]
    fields = {
        "client": client_address(cfg, environ), "method": method[:16], "path": path,
        "status": response.status, "bytes": size,
        "ms": round((time.perf_counter() - started) * 1000, 1), "agent": agent,
    }  # fmt: skip
    # the agent in double quotes, escaped as JSON: what a logfmt reader takes for one
    # value (Python's repr quoted it with ', and ``agent='a client=10.9.9.9'`` read as
    # a second client= of the client's own choosing)
    log.info(
        "access client=%s method=%s path=%s status=%d bytes=%d ms=%.1f agent=%s",
        *list(fields.values())[:-1],
        json.dumps(agent, ensure_ascii=False),
        extra={FIELDS: fields},
    )
