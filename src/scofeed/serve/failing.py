"""The answers of the HTTP server's app (``serve.app``) when something failed: a 4xx
saying what was wrong, a 5xx logged with its traceback; the machine's troubles (memory
short, the store unusable) a 503 and one log line a minute, not a traceback per request."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from scofeed.errors import StoreError, memory_ran_out, out_of_memory
from scofeed.serve.answers import Response
from scofeed.throttle import Throttle

log = logging.getLogger("scofeed.serve.app")  # the app's lines, as they were named


def plain_text(status: int, text: str) -> Response:
    """An answer in plain text, as every error answer of the app is."""
    return Response(status, text.encode(), [("Content-Type", "text/plain; charset=utf-8")])


def error_answer(status: int, exc: Exception, environ: Mapping[str, Any]) -> Response:
    """The one place an error becomes a status: a 4xx says what was wrong, a 5xx is
    logged with its traceback and answers only that something failed."""
    how = memory_ran_out(exc)
    if how is not None:  # the machine's, not a bug: one line, and a 503 to come back to
        held = _OUT_OF_MEMORY.due()
        if held is not None:
            more = f" ({held} more since the last such line)" if held else ""
            log.error(
                "http_error path=%r: %s%s", environ.get("PATH_INFO"), out_of_memory(how), more
            )
        response = plain_text(503, "out of memory: try again shortly\n")
        response.headers.append(("Retry-After", "30"))
        return response
    if status >= 500:
        log.error("http_error path=%r", environ.get("PATH_INFO"), exc_info=exc)
        return plain_text(status, "internal error\n")
    return plain_text(status, f"{exc}\n")


_OUT_OF_MEMORY = Throttle(60.0)  # a flood of requests while memory is short: a line a minute


def store_trouble_answer(error: StoreError, environ: Mapping[str, Any]) -> Response:
    """The answer while the store cannot be read (damaged, its -wal file gone, a full
    disk): a 503 and one log line a minute, not a 500 and a traceback per request (a
    monitor probing /healthz every few seconds flooded the log). /healthz says why, in
    its JSON, as it says any other failure; any other path only that it failed."""
    held = _STORE_TROUBLE.due()
    if held is not None:
        more = f" ({held} more since the last such line)" if held else ""
        log.error(
            "http_store_trouble path=%r error=%r%s", environ.get("PATH_INFO"), str(error), more
        )
    if environ.get("PATH_INFO") == "/healthz":
        body = json.dumps({"status": "failing", "error": str(error)}, indent=2) + "\n"
        headers = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]
        response = Response(503, body.encode(), headers)
    else:
        response = plain_text(503, "the state store cannot be used now: try again later\n")
    response.headers.append(("Retry-After", "30"))
    return response


_STORE_TROUBLE = Throttle(60.0)

BUSY_RETRY_AFTER = 10  # seconds


def busy_answer(environ: Mapping[str, Any]) -> Response:
    """The answer to a request that writes to the store while it cannot now (another
    process holds its write lock, or other such requests take their turn): a 503 to
    come back to shortly, one log line a minute."""
    held = _BUSY.due()
    if held is not None:
        more = f" ({held} more since the last such line)" if held else ""
        log.warning("http_store_busy path=%r: answered 503%s", environ.get("PATH_INFO"), more)
    response = plain_text(503, "busy: try again shortly\n")
    response.headers.append(("Retry-After", str(BUSY_RETRY_AFTER)))
    return response


_BUSY = Throttle(60.0)
