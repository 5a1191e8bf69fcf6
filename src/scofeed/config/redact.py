"""What of a configuration value may be shown, in ``config show`` and in error messages.

- A secret (a ``Secret``, a key named like ``secret``/``token``/``password``, any string
  starting ``whsec_``) is never shown.
- A URL is shown without its credentials (``user:pass@`` -> ``***@``), its query
  (``?token=abc`` -> ``?***``) and its fragment; a webhook URL, whose path may be
  the token itself (Slack, Discord), is shown as ``scheme://host/***``. Log lines at
  INFO show fetched and added pages so too (``logged``).
- A table is never echoed (a mistyped ``[webhooks]`` holds a secret); neither is a list
  holding anything but plain words and numbers.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any
from urllib.parse import SplitResult, urlsplit

from scofeed.errors import shown as one_line

MASK = "***"
SECRET_PREFIX = "whsec_"
# how a key's value is shown: as it is, as a URL without credentials, as a host only, never
VALUE, URL, HOST, HIDDEN = "value", "url", "host", "hidden"
_SECRET_KEY = re.compile(
    r"(^|_)(secrets?|tokens?|passwords?|passwd|credentials?|key)(_|$)", re.IGNORECASE
)


def secret_key(key: str) -> bool:
    """True for a dotted key whose last part names a secret (``webhooks[0].secret``)."""
    leaf = re.sub(r"\[\d+\]$", "", key.rsplit(".", 1)[-1])
    return bool(_SECRET_KEY.search(leaf))


def _netloc(parts: Any) -> str:
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port is not None else ""
    user = f"{MASK}@" if "@" in parts.netloc else ""
    return f"{user}{host}{port}"


def _showable(url: str) -> tuple[SplitResult, str] | None:
    """``url``'s parts and its host as it may be shown, or None when it is no URL (it
    may be anything then, a pasted secret included: nothing of it is shown)."""
    try:
        parts = urlsplit(url)
        netloc = _netloc(parts)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return parts, netloc


def redact_url(url: str) -> str:
    """A webhook URL: ``https://hooks.slack.com/services/T0/B0/XYZ`` -> ``https://hooks.slack.com/***``
    (a URL with no path, query or credentials is shown whole)."""
    shown = _showable(url)
    if shown is None:
        return MASK
    parts, netloc = shown
    if parts.path in ("", "/") and not parts.query and not parts.fragment:
        return f"{parts.scheme}://{netloc}{parts.path}"
    return f"{parts.scheme}://{netloc}/{MASK}"


def safe_url(url: str) -> str:
    """Any other URL: credentials, query and fragment masked, the path kept.
    ``https://u:p@example.org/a?token=x`` -> ``https://***@example.org/a?***``."""
    showable = _showable(url)
    if showable is None:
        return MASK
    parts, netloc = showable
    shown = f"{parts.scheme}://{netloc}{parts.path}"
    if parts.query:
        shown += f"?{MASK}"
    if parts.fragment:
        shown += f"#{MASK}"
    return shown


def logged(text: str) -> str:
    """An input's name as a log line's field shows it: an http(s) URL through
    ``safe_url`` (a query or a user part may hold a token; log files travel further than
    the config) but for its fragment, which names a feed's item (``FEED#ID``, as
    ``scofeed status`` shows it: masked, the items of one feed read alike) and is never
    sent to a server; anything else (a file's name, ``<stdin>``) as it is. On one line
    (``errors.shown``), and quoted as ``%r`` quotes when it is not one word: a file
    named ``x.txt reason='fixed' y.txt`` made ``origin=...`` read as three fields."""
    if text[:8].lower().startswith(("http://", "https://")):
        address, hashed, item = text.partition("#")
        # but a "#" in a user part ("user:pa#ss@host") is no fragment: all masked, as no
        # part of the address can be told from the credentials
        sound = _sound(address, item)
        text = (
            safe_url(address) + hashed + item if sound else text[: text.index(":")] + "://" + MASK
        )
    text = one_line(text)
    if _ONE_FIELD.fullmatch(text):
        return text
    # quoted as %r quotes, its escapes (already made: "\\n") left single
    if "'" in text and '"' not in text:
        return f'"{text}"'
    return "'" + text.replace("'", "\\'") + "'"


def _sound(address: str, fragment: str) -> bool:
    """Whether ``address`` + "#" + ``fragment`` is that URL and that fragment: neither
    a port that is no number (``https://user:pa``) nor an "@" in the fragment tells of
    a "#" inside its credentials."""
    try:
        urlsplit(address).port  # noqa: B018 - raises for "pa"
    except ValueError:
        return False
    return "@" not in fragment


_ONE_FIELD = re.compile(r"[^\s'\"=]+")


def no_credentials(text: str) -> str:
    """An input's name as output shows it: an http(s) URL with ``user:pass@`` masked
    (``https://***@example.org/a?id=3``), its path and query kept (they name the page);
    anything else as it is."""
    if "@" not in text or not text[:8].lower().startswith(("http://", "https://")):
        return text
    try:
        parts = urlsplit(text)
        if "@" not in parts.netloc:
            return text
        return parts._replace(netloc=f"{MASK}@{parts.netloc.rpartition('@')[2]}").geturl()
    except ValueError:
        return text.partition("://")[0] + f"://{MASK}"


def input_name(origin: str, source_urls: Collection[str]) -> str:
    """A rejected input's name as ``scofeed status`` and ``/healthz`` show it, never a
    secret: a configured source's own URL as `config show` shows it (credentials and
    query masked: either may be a token), any other URL without its credentials (its
    query names the page), a file's name as it is."""
    return safe_url(origin) if origin in source_urls else no_credentials(origin)


def _plain(v: Any) -> bool:
    if isinstance(v, str):
        return not v.startswith(SECRET_PREFIX)
    return isinstance(v, bool | int | float)


def shown(value: Any, how: str = VALUE) -> str | None:
    """How ``value`` may appear after "got " in an error message; None: not at all."""
    if how == HIDDEN:
        return None
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        if how == VALUE and all(_plain(v) for v in value):
            return repr(list(value))  # as TOML writes it: ['EN'], not ('EN',)
        return "a list"
    if isinstance(value, str):
        if value.startswith(SECRET_PREFIX):
            return None
        if how in (URL, HOST):
            masked = redact_url(value) if how == HOST else safe_url(value)
            return None if masked == MASK else repr(masked)
    return repr(value)


def got(value: Any, how: str = VALUE) -> str:
    """``, got 'x'`` for an error message, or `` (value not shown)``."""
    s = shown(value, how)
    return " (value not shown)" if s is None else f", got {s}"
