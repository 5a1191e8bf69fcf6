"""The one exception tree of scofeed.

    ScofeedError                      exit 1
    ├── ConfigError                   exit 2   bad config.toml, bad flag value
    ├── UsageError                    exit 2   a command used the wrong way
    ├── SourceError                   exit 1   a release could not be read or fetched
    │   ├── RejectedInput                      one input refused, with its reason
    │   └── KnownRelease                       `scofeed add` of a release already stored
    ├── NormaliseError                exit 1   a release has no usable title or body
    ├── StoreError                    exit 1   the SQLite state store
    │   ├── UnknownEntry (LookupError)
    │   └── AlreadyRunning                     another daemon holds the store's lock
    ├── RenderError                   exit 1
    ├── PublishError                  exit 1
    ├── DeliveryError                 exit 1   webhook configuration or sending
    ├── ServeError                    exit 1   the HTTP server cannot listen
    └── HubRequestError      http 4xx          a WebSub subscription request refused

The CLI maps every error to its ``exit_code`` in one place; the HTTP layer maps
``http_status`` in one place. Messages are one line, naming the file, URL or key.
"""

from __future__ import annotations


class ScofeedError(Exception):
    exit_code = 1
    http_status = 500


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
    pass


class KnownRelease(SourceError):
    """``scofeed add`` of a release the store already holds (and no ``--update``)."""

    def __init__(self, origin: str, entry_id: str, message: str) -> None:
        super().__init__(message)
        self.origin = origin
        self.entry_id = entry_id


class ServeError(ScofeedError):
    pass


class HubRequestError(ScofeedError):
    """A WebSub subscription request the hub refuses; the message is the plain-text
    reason sent back, ``http_status`` the 4xx status."""

    http_status = 400

    def __init__(self, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.http_status = http_status
