"""How log lines are written (``[log] format``): one line per message, as text or JSON.

- ``text`` (the default): ``2026-12-02 16:53:24,510 INFO scofeed.schedule: scan new=1 ...``,
  local time, what journald and a terminal show.
- ``json``: one JSON object per line, for a log shipper (Loki, Elasticsearch, Vector):
  ``time`` (UTC, ISO 8601 to the millisecond), ``level``, ``logger``, ``event`` (the
  message's first word, when it is one of scofeed's lower-case event names: ``scan``,
  ``activitypub_delivery``, ``watch_rearmed``; a library's prose has none), ``message`` (the
  whole line, as the text format has it), the fields of its own a line carries (the
  access log's ``client``, ``status``, ``agent``...) and, when there is one,
  ``exception`` (the traceback, in the same line).

Either way a message is one line, whatever it quotes: a log line quotes what other
servers send (an inbox's actor, a feed's title, a URL), and a newline or an ANSI escape
in it forged whole lines in the log or rewrote the operator's terminal. Control
characters are escaped (``errors.shown``); JSON escapes the line breaks of a traceback.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from scofeed.errors import shown

FORMATS = ("text", "json")
# a record's own fields (``extra={FIELDS: {...}}``): in JSON, keys of the line's object
# beside the message (the access log's client, status, agent...), read from the values
# themselves, never parsed back out of the message, where a value may hold "key=value"
FIELDS = "scofeed_fields"
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_EVENT = re.compile(r"[a-z][a-z0-9_]*")  # scofeed's events: scan, delivery, ...


class OneLine(logging.Formatter):
    """The text format: each message on one line, control characters escaped. A
    traceback, added after the message, keeps its lines, each behind ``| ``: what an
    exception quotes (a remote answer with a newline in it) cannot start a line that
    reads as a log line of its own."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = shown(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return _continued(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _continued(stack_info)


def _continued(text: str, mark: str = "| ") -> str:
    """A traceback's lines, each escaped (``shown``) and behind ``mark``."""
    return "\n".join(mark + shown(line) for line in text.splitlines())


class JsonLines(logging.Formatter):
    """The JSON format: one object per line (see the module text)."""

    def format(self, record: logging.LogRecord) -> str:
        message = shown(record.getMessage())
        when = datetime.fromtimestamp(record.created, UTC)
        doc = {
            "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
        }
        event = _EVENT.match(message)
        if event is not None and event.end() in (len(message), message.find(" ")):
            doc["event"] = event.group()
        doc["message"] = message
        fields = getattr(record, FIELDS, None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                if key not in doc:
                    doc[key] = shown(value) if isinstance(value, str) else value
        if record.exc_info:
            doc["exception"] = _continued(self.formatException(record.exc_info), mark="")
        if record.stack_info:
            doc["stack"] = _continued(record.stack_info, mark="")
        return json.dumps(doc, ensure_ascii=False)


def formatter(fmt: str) -> logging.Formatter:
    return JsonLines() if fmt == "json" else OneLine(TEXT)


def writes_json() -> bool:
    """Whether log lines are JSON now (``use_format``): what else a command writes to
    the log's streams (its last line, the daemon's banner) is written as one too."""
    return any(isinstance(h.formatter, JsonLines) for h in logging.getLogger().handlers)


def use_format(fmt: str) -> None:
    """Write every log line from now on in ``fmt`` (``FORMATS``): the root logger's
    handlers, set up by the command line (``cli.setup_logging``), get its formatter.
    In JSON an uncaught exception (a bug), in the main thread or another, is a log line
    too (``uncaught_exception``, CRITICAL), not Python's traceback over many lines."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter(fmt))
    if fmt == "json":
        sys.excepthook, threading.excepthook = _uncaught, _uncaught_in_thread
    elif sys.excepthook is _uncaught:
        sys.excepthook, threading.excepthook = sys.__excepthook__, threading.__excepthook__


def _uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    log = logging.getLogger("scofeed")
    log.critical("uncaught_exception error=%s", kind.__name__, exc_info=(kind, exc, tb))


def _uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:  # a thread ended quietly, as Python's own hook has it
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("scofeed").critical(
        "uncaught_exception thread=%s error=%s", name, args.exc_type.__name__,
        exc_info=(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback),
    )  # fmt: skip
