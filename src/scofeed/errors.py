"""The one exception tree of scofeed.

    ScofeedError                      exit 1
    ├── ConfigError                   exit 2   bad config.toml, bad flag value
    ├── UsageError                    exit 2   a command used the wrong way
    ├── SourceError                   exit 1   a release could not be read or fetched
    │   ├── RejectedInput                      one input refused, with its reason
    │   │   └── TemporaryFailure     retryable  a fetch that may work later (timeout, 5xx)
    │   └── KnownRelease                       `scofeed add` of a release already stored
    ├── NormaliseError                exit 1   a release has no usable title or body
    ├── StoreError                    exit 1   the SQLite state store
    │   ├── UnknownEntry (LookupError)
    │   └── AlreadyRunning                     another daemon holds the store's lock
    ├── RenderError                   exit 1
    ├── PublishError                  exit 1
    ├── DeliveryError                 exit 1   a webhook request got no HTTP answer
    │   ├── EndpointUnreachable  retryable  timeout, refused, reset, name not resolved
    │   └── AddressForbidden               the address guard refused the host
    └── ServeError                    exit 1   the HTTP server cannot listen

An error class with ``retryable = True`` names a failure worth trying again later (the
next poll); any other is permanent. Code tests the type or the attribute, never the text.

The CLI maps every error to its ``exit_code`` in one place; the HTTP layer maps
``http_status`` in one place. Messages are one line, naming the file, URL or key.
"""

from __future__ import annotations


class ScofeedError(Exception):
    exit_code = 1
    http_status = 500
    retryable = False  # True: the same action may succeed later


class ConfigError(ScofeedError):
    exit_code = 2


class UsageError(ScofeedError):
    exit_code = 2


class SourceError(ScofeedError):
    pass


class RejectedInput(SourceError):
    """One input (file, URL, stdin) refused; ``origin`` names it, ``reason`` says why."""

    def __init__(self, origin: str, reason: str) -> None:
        super().__init__(f"{origin}: {reason}")
        self.origin = origin
        self.reason = reason


# the prefix a retryable rejection's reason carries, so a person reading the rejects
# table (and the store, deciding what the next poll fetches again) sees it
TEMPORARY = "temporary: "


class TemporaryFailure(RejectedInput):
    """An input that could not be fetched for a passing reason (timeout, connection
    error, 5xx): recorded, and tried again on the next poll."""

    retryable = True

    def __init__(self, origin: str, reason: str) -> None:
        super().__init__(origin, TEMPORARY + reason)


class NormaliseError(ScofeedError):
    pass


class StoreError(ScofeedError):
    pass


class UnknownEntry(StoreError, LookupError):
    http_status = 404


class AlreadyRunning(StoreError):
    pass


class RenderError(ScofeedError):
    pass


class PublishError(ScofeedError):
    pass


class DeliveryError(ScofeedError):
    """A webhook request that got no HTTP answer. (Any answer, even a 500, is an outcome
    for the retry policy, not an error.)"""


class EndpointUnreachable(DeliveryError):
    retryable = True


class AddressForbidden(DeliveryError):
    """The endpoint's host resolves to an address the guard refuses: retrying cannot
    help until the configuration changes."""


class KnownRelease(SourceError):
    """``scofeed add`` of a release the store already holds (and no ``--update``)."""

    def __init__(self, origin: str, entry_id: str, message: str) -> None:
        super().__init__(message)
        self.origin = origin
        self.entry_id = entry_id


class ServeError(ScofeedError):
    pass
