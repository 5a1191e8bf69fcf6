"""Whom a host belongs to, as the limits per host count it: ``host_key(host)``.

Counted by the exact name, a subscriber with wildcard DNS had a limit per name it made
up (``a.evil.example``, ``b.evil.example``, ...): each had its own. A name is counted
by its registrable domain instead, the public suffix (Public Suffix List) and one label
more: ``a.evil.example`` and ``b.evil.example`` are ``evil.example``; ``x.co.uk`` and
``y.x.co.uk`` are ``x.co.uk``. The list's private section counts: ``x.github.io`` and
``y.github.io`` belong to two people and stay apart. A name that is no more than a
public suffix (``co.uk``, ``github.io``) or has one label (``localhost``) is its own key.

Names are keyed as the HTTP client (``requests``: urllib3's ``parse_url``) will ask the
resolver for them: case, a trailing dot, a percent-encoded unreserved character
(``a.evil%2Eexample`` is ``a.evil.example``), Unicode or Punycode labels (IDNA 2008:
``straße`` is ``xn--strae-oqa``, not IDNA 2003's ``strasse``, another registrant's
name) make no difference. A name the client refuses (``a。evil.example``, full-width
letters) is keyed as itself: no request can go to it, and it counts for no one else.
An address is
keyed by itself (IPv4, however spelled: ``127.1`` is what the resolver reads as
``127.0.0.1``; an IPv4-mapped or 6to4 IPv6 address by its IPv4 address) and an IPv6
address by its /64, the least one site is given.

The list is the one bundled with ``publicsuffixlist`` (read once, from its package; it
is never fetched); it is as new as the installed version.

urllib3 (~70 ms with what it loads) and publicsuffixlist load by name at the first key or
host worked out, not with this module: the store's WebSub and ActivityPub rows import
it, and ``scofeed status`` reads only their counts (issue 9).
"""

from __future__ import annotations

import functools
import importlib
import ipaddress
import re
import socket
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList


@functools.cache
def version() -> str:
    """The rules below and the list they read: a store keeps the keys it worked out with
    them (``store.websub.rekey``) and works them out again when this changes."""
    return f"2 publicsuffixlist-{importlib.import_module('publicsuffixlist').__version__}"


# what the resolver reads as an IPv4 address (inet_aton: 1 to 4 parts, decimal, octal
# or hex), whatever Python's ipaddress says of it
_IPV4_SPELLED = re.compile(r"(?:(?:0x[0-9a-f]*|[0-9]+)\.){0,3}(?:0x[0-9a-f]*|[0-9]+)")


@functools.cache
def _psl() -> PublicSuffixList:
    # the bundled copy; reading it takes ~30 ms, done once
    return importlib.import_module("publicsuffixlist").PublicSuffixList()  # type: ignore[no-any-return]


def address_key(text: str) -> str | None:
    """The key of an IP address (``[...]`` and an IPv6 zone allowed): an IPv4 address,
    or an IPv6 /64 (``2001:db8:1:2::/64``); None when ``text`` is no address."""
    text = text.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:  # a zone is an IPv6 address's alone: "127%2E0.0.1" is no "127"
        text = text.split("%", 1)[0]
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        ip = _inet_aton(text)
    if ip is None:
        return None
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            return str(embedded)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def _inet_aton(text: str) -> ipaddress.IPv4Address | None:
    if not _IPV4_SPELLED.fullmatch(text.rstrip(".")):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(text.rstrip(".")))
    except OSError:
        return None


@functools.lru_cache(maxsize=16384)  # the runner keys each request it starts
def host_key(host: str) -> str:
    """What a limit per host counts ``host`` as (see the module text): its registrable
    domain, in lower-case ASCII (Punycode), or its address key."""
    address = address_key(host)
    if address is not None:
        return address
    requested = _requested(host)
    if requested is None:  # no request can go to it: a key no one else has
        return host.strip().lower()
    name = ".".join(label for label in requested.split(".") if label)
    if not name:
        return ""
    address = address_key(name)  # "127%2E0.0.1" is an address once decoded
    if address is not None:
        return address
    return _psl().privatesuffix(name) or name


def _requested(host: str) -> str | None:
    """The name the HTTP client asks the resolver for, sending a request to ``host``
    (urllib3's own reading: percent-encodings of unreserved characters decoded, labels
    in lower case, IDNA 2008 Punycode), or None when it refuses to send one."""
    return url_host(f"http://{host.strip()}/")


def url_host(url: str) -> str | None:
    """The host a request to ``url`` goes to, as the HTTP client reads it (urllib3's
    ``parse_url``: the host ends at a ``\\``, which ``urllib.parse`` reads on past, so
    ``http://a.evil.example\\@b.example/`` goes to ``a.evil.example``, not
    ``b.example``); None when it refuses to send one."""
    parts = _parsed(url)
    return None if parts is None else parts.host or ""


def _parsed(url: str) -> Any:
    """urllib3's ``parse_url`` of ``url`` (its ``Url``), None where it refuses it."""
    refused = importlib.import_module("urllib3.exceptions").LocationParseError
    try:
        return importlib.import_module("urllib3.util").parse_url(url)
    except (refused, ValueError):
        return None


@functools.lru_cache(maxsize=4096)  # an inbox per delivery: followers share few of them
def authority(url: str) -> str | None:
    """The authority (server and port) a request to ``url`` goes to, however the URL spells
    it: the host as the client reads it (``url_host``), without a trailing dot, with its
    port only when it is not the scheme's default (``https://Example.COM.:443/x`` is
    ``example.com``); None when the client refuses to send one."""
    parts = _parsed(url)
    if parts is None:
        return None
    name = (parts.host or "").rstrip(".")
    if parts.port is None or parts.port == _DEFAULT_PORTS.get(parts.scheme or ""):
        return name
    return f"{name}:{parts.port}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def request_key(url: str) -> str | None:
    """``host_key`` of the host a request to ``url`` goes to (``url_host``); None when
    the client refuses to send one."""
    name = url_host(url)
    return host_key(name) if name is not None else None
