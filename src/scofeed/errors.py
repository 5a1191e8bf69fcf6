"""The one exception tree of scofeed: every exception the package raises is in it.

    ScofeedError (Exception)                     exit 1  HTTP 500
    ├── ConfigError (ValueError)                 exit 2           bad config.toml, bad flag value
    ├── UsageError (ValueError)                  exit 2  HTTP 400 a command or request used wrongly
    ├── SourceError                                               a release could not be read
    │   ├── RejectedInput (ValueError)                   HTTP 422 one input refused, with its reason
    │   │   ├── TemporaryFailure  [retryable]            HTTP 503 for now: timeout, 5xx, 429, 403
    │   │   └── PageGone                                 HTTP 422 the page answers 404 or 410
    │   ├── OverTimeBudget                               HTTP 422 a file past limits.file_seconds
    │   └── KnownRelease                                 HTTP 409 `scofeed add` of a stored release
    ├── NormaliseError (ValueError)                      HTTP 422 no usable title or body
    ├── StoreError                                                the SQLite state store
    │   ├── UnknownEntry (LookupError)                   HTTP 404 no entry with that id
    │   ├── AlreadyRunning                               HTTP 409 another daemon holds the lock
    │   ├── StoreBusy  [retryable]                       HTTP 503 a request's write found no turn
    │   └── StoreUnusable                        exit 2           damaged, or from a newer scofeed
    ├── RenderError
    ├── PublishError                                              writing into feeds/
    ├── DeliveryError                                    HTTP 502 a push got no HTTP answer
    │   ├── BadSignature (ValueError)                    HTTP 401 a signed request does not verify
    │   ├── FetchError                                   HTTP 502 no ActivityPub actor or key
    │   ├── EndpointUnreachable  [retryable]             HTTP 503 timeout, refused, reset, no name
    │   └── AddressForbidden                             HTTP 502 the address guard refused the host
    ├── ServeError                                                the HTTP server cannot listen
    ├── HubRequestError                                  HTTP 4xx a WebSub request refused (or 503)
    ├── OutputError                                               standard output refused a write
    ├── OutOfMemory                                               memory ran out (ulimit -v)
    └── TemporaryError  [retryable]                      HTTP 503 may pass if tried again later
        (also a base of TemporaryFailure, StoreBusy and EndpointUnreachable)

Three class attributes carry the meaning, so no caller parses a message:

- ``exit_code``: the CLI maps every error to it in one place;
- ``http_status``: the HTTP layer maps every error to it in one place;
- ``retryable``: True for the ``TemporaryError`` family (try the same thing again later),
  False for everything else (trying again cannot help until something changes).

A built-in is mixed in where one fits (``except LookupError`` catches ``UnknownEntry``).
Messages are one line, naming the file, URL or dotted config key, and never a secret.

Outside the tree, on purpose: ``deliver.sender.AddressRefused`` (and urllib3's
``NameResolutionError``) are raised inside urllib3's connection hook, so they must be
urllib3 errors for requests to report a refused address as a connection failure; they
never leave ``sender.post``, which turns every failure into a delivery outcome.
"""

from __future__ import annotations

import sys

ENOMEM = 12  # errno.ENOMEM (Linux, the BSDs, macOS), without loading errno at start-up


class ScofeedError(Exception):
    exit_code = 1
    http_status = 500
    retryable = False
    # what went wrong without the facts that move from run to run (counts): the daemon
    # logs a failure the same as the last one once, not at each tick (None: the message)
    gist: str | None = None


class TemporaryError(ScofeedError):
    """A failure that may pass on its own: a timeout, a 5xx, a 429. Retry later."""

    http_status = 503
    retryable = True


class ConfigError(ScofeedError, ValueError):
    exit_code = 2


class UsageError(ScofeedError, ValueError):
    exit_code = 2
    http_status = 400


class SourceError(ScofeedError):
    pass


class RejectedInput(SourceError, ValueError):
    """One input (file, URL, stdin) refused; ``origin`` names it, ``reason`` says why."""

    http_status = 422

    def __init__(self, origin: str, reason: str) -> None:
        super().__init__(f"{origin}: {reason}")
        self.origin = origin
        self.reason = reason

    def __reduce__(self) -> tuple[object, ...]:  # rebuilt intact across a process pool
        return (type(self), (self.origin, self.reason))


# the prefix a retryable rejection's reason carries, so a person reading the rejects
# table (and the store, deciding what the next poll fetches again) sees it
TEMPORARY = "temporary: "


class TemporaryFailure(RejectedInput, TemporaryError):
    """An input refused for now (timeout, connection error, 5xx, 429, 401, 403); retried later."""

    http_status = 503

    def __init__(self, origin: str, reason: str, retry_after: str | None = None) -> None:
        super().__init__(origin, reason if reason.startswith(TEMPORARY) else TEMPORARY + reason)
        self.retry_after = retry_after  # the server's Retry-After header, as sent


class OverTimeBudget(SourceError):
    """A file that took longer than its time budget to prepare. Raised into the thread
    preparing it by a clock or a watchdog (``PyThreadState_SetAsyncExc`` takes a class,
    no arguments), so everything has a default; ``pool.prepare`` names the file. Not a
    ``RejectedInput``, on purpose: that is a ``ValueError``, and an interruption landing
    in a parser's ``except ValueError`` (a date it tries, a regular expression an import
    compiles) was swallowed there, or turned into that parser's own error."""

    http_status = 422

    def __init__(self, origin: str = "", reason: str = "took longer than its time budget"):
        super().__init__(f"{origin}: {reason}")
        self.origin = origin
        self.reason = reason


class PageGone(RejectedInput):
    """A page that answers 404 Not Found or 410 Gone; ``status`` says which."""

    def __init__(self, origin: str, status: int, reason: str | None = None) -> None:
        super().__init__(origin, reason or f"HTTP {status}")
        self.status = status

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.origin, self.status, self.reason))


class KnownRelease(SourceError):
    """``scofeed add`` of a release the store already holds (and no ``--update``)."""

    http_status = 409

    def __init__(self, origin: str, entry_id: str, message: str) -> None:
        super().__init__(message)
        self.origin = origin
        self.entry_id = entry_id

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.origin, self.entry_id, str(self)))


class NormaliseError(ScofeedError, ValueError):
    http_status = 422


class StoreError(ScofeedError):
    pass


class UnknownEntry(StoreError, LookupError):
    http_status = 404


class AlreadyRunning(StoreError):
    http_status = 409


class StoreBusy(StoreError, TemporaryError):
    """A request's write to the store could not take its turn in the time it waits
    (``Store.waiting_at_most``): others were writing; the client tries again later."""

    http_status = 503


class StoreUnusable(StoreError):
    """The store file is damaged, or was written by a newer scofeed: a restart cannot
    fix it (exit 2, which the systemd unit does not restart on)."""

    exit_code = 2


class RenderError(ScofeedError):
    pass


class PublishError(ScofeedError):
    pass


class DeliveryError(ScofeedError):
    """A push (webhook, WebSub, ActivityPub) that got no HTTP answer. (Any answer, even
    a 500, is an outcome for the retry policy, not an error.)"""

    http_status = 502


class BadSignature(DeliveryError, ValueError):
    """A webhook or ActivityPub request does not verify; the message says why (never
    the secret or key)."""

    http_status = 401


class FetchError(DeliveryError):
    """An ActivityPub document (a follower's actor, a signer's key) could not be had.
    ``gone``: the server said 404 or 410; ``refused``: the address guard said no;
    ``later``: no answer now (the host did not answer in time, or was not asked: too
    many fetches at once, or it did not answer a moment ago), so the request that needs
    the document may come again later; ``unanswered``: the host itself did not answer."""

    def __init__(
        self,
        message: str,
        refused: bool = False,
        gone: bool = False,
        later: bool = False,
        unanswered: bool = False,
    ) -> None:
        super().__init__(message)
        self.refused = refused
        self.gone = gone
        self.later = later or unanswered
        self.unanswered = unanswered


class EndpointUnreachable(DeliveryError, TemporaryError):
    """Timeout, refused, reset, name not resolved: the retry schedule applies."""

    http_status = 503


class AddressForbidden(DeliveryError):
    """The host resolves to an address the guard refuses: retrying cannot help until the
    configuration changes."""


class ServeError(ScofeedError):
    pass


class OutputError(ScofeedError):
    """Standard output refused a command's write (a full disk, /dev/full, an I/O error):
    the output's failure, told apart from the command's own (``scofeed.cli``)."""


class OutOfMemory(ScofeedError):
    """Memory ran out: the machine's, or a limit's (``ulimit -v``, systemd
    ``MemoryMax=``). The machine's trouble, not an input's: nothing is quarantined for
    it; a command stops with its one line (exit 1), a daemon job fails and runs again at
    its next tick. ``memory_ran_out`` says which failures are this one."""


class HubRequestError(ScofeedError):
    """A WebSub subscription request the hub refuses; the message is the plain-text
    reason sent back, ``http_status`` the 4xx status (a 503 with ``retry_after`` when
    the hub holds ``websub.max_subscriptions``)."""

    http_status = 400

    def __init__(
        self, message: str, http_status: int = 400, retry_after: int | None = None
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.retry_after = retry_after  # seconds, sent as Retry-After (with a 503)


def shown(name: str) -> str:
    """A file name, path or URL as a message shows it: on one line, every byte visible.
    Control characters (a newline in a file name) are escaped as Python does (``\\n``,
    ``\\x1b``) and bytes that are not UTF-8 (surrogate escapes) as ``\\xff``, so a
    hostile name cannot forge lines in output or logs."""
    try:
        raw = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "backslashreplace")
    text = raw.decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def locale_problem(encoding: str, name: str) -> str:
    """Why ``name`` (text of a file or folder name) cannot be written here: the locale's
    encoding (``encoding``, of file names) lacks it, and how to run instead."""
    return (
        f"this locale's encoding ({encoding}) cannot write {name!r} in a file name (a tag's "
        "or a release's): run scofeed in a UTF-8 locale (LANG=C.UTF-8) or with PYTHONUTF8=1"
    )


def locale_trouble(exc: BaseException) -> str | None:
    """``locale_problem`` for an error of a name the locale cannot encode, else None."""
    encoding = sys.getfilesystemencoding()
    if not isinstance(exc, UnicodeEncodeError) or encoding.lower() in ("utf-8", "utf8"):
        return None
    return locale_problem(encoding, exc.object[exc.start : exc.end])


THREAD_REFUSED = "cannot start a thread"


def memory_ran_out(exc: BaseException) -> str | None:
    """How memory running out showed in ``exc``, or None when it is something else. It
    shows in more ways than ``MemoryError``: a thread that cannot get its stack
    ("can't start new thread"), a library that cannot be mapped at import ("failed to
    map segment from shared object"), a fork refused (``ENOMEM``)."""
    if isinstance(exc, MemoryError):
        return "MemoryError"
    text = str(exc)
    if isinstance(exc, RuntimeError) and "can't start new thread" in text:
        return THREAD_REFUSED
    if isinstance(exc, ImportError) and (
        "failed to map segment" in text or "cannot allocate memory" in text.lower()
    ):
        return f"cannot load {exc.name or 'a module'}"
    if isinstance(exc, OSError) and exc.errno == ENOMEM:
        return exc.strerror or "Cannot allocate memory"
    return None


def out_of_memory(how: str, reading: str | None = None) -> OutOfMemory:
    """The one line for memory that ran out (``how``: ``memory_ran_out``'s answer),
    naming the file or URL being read when there was one."""
    where = f" while reading {shown(reading)}" if reading else ""
    # a thread refused is as often a limit on tasks (threads and processes) as memory
    limits = "ulimit -v, systemd MemoryMax="
    if how == THREAD_REFUSED:
        limits = "ulimit -v or -u, systemd MemoryMax= or TasksMax="
    return OutOfMemory(
        f"memory ran out{where} ({how}); the feeds published stay whole (free some "
        f"memory, or raise the limit: {limits})"
    )


def unexpected(exc: BaseException) -> str:
    """The reason given for an input that failed in a way no reader foresaw (a parser
    hitting RecursionError, ValueError...): the exception's type and the start of its
    message, on one line. (Memory running out is not the input's: ``memory_ran_out``.)"""
    if isinstance(exc, RecursionError):
        return "nested too deeply (RecursionError)"
    message = shown(str(exc).split("\n", 1)[0])[:160]
    return f"could not be processed ({type(exc).__name__}: {message})"
