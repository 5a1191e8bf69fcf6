"""Who sent a request: the peer's address, or behind a trusted reverse proxy the client
its ``X-Forwarded-For`` (or ``Forwarded``, RFC 7239) names.

Behind a proxy every request comes from the proxy's address, so what is counted by
address (the WebSub hub's request rate) counted everyone as one client: one abuser
used up everybody's allowance. With ``serve.trusted_proxies`` set, a request whose
peer is one of them is the client its header names: the rightmost hop that is not a
trusted proxy (each proxy appends the address it got the request from, so what is
left of the first untrusted hop is whatever the client wrote and is never read). A
peer that is no trusted proxy is the client, whatever it sends: anyone may write
these headers. Only the header ``serve.client_header`` names is read; a proxy that
sets one passes the other through as the client wrote it. A hop that is no address
(``unknown``, ``_hidden``, junk) stops the walk at the proxy that wrote it.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from typing import Any

from scofeed.config import Config

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# the WSGI keys of the headers serve.client_header may name
HEADER_KEYS = {"X-Forwarded-For": "HTTP_X_FORWARDED_FOR", "Forwarded": "HTTP_FORWARDED"}


def client_address(cfg: Config, environ: Mapping[str, Any]) -> str:
    """The address a request is counted against (see the module text)."""
    peer = environ.get("REMOTE_ADDR", "")
    trusted = _networks(cfg.serve.trusted_proxies)
    if not trusted:
        return str(peer)
    address = parse_address(str(peer))
    if address is None or not _inside(address, trusted):
        return str(peer)
    header = str(environ.get(HEADER_KEYS[cfg.serve.client_header], ""))
    hops = forwarded_for(header) if cfg.serve.client_header == "Forwarded" else header.split(",")
    for hop in reversed(hops):
        found = parse_address(hop)
        if found is None:  # what the nearest trusted proxy wrote is no address
            break
        address = found
        if not _inside(address, trusted):
            break
    return str(address)


def forwarded_for(header: str) -> list[str]:
    """The ``for=`` of each element of a ``Forwarded`` header, in order (an element
    without one counts as a hop that is no address)."""
    hops = []
    for element in header.split(","):
        value = ""
        for pair in element.split(";"):
            name, _, v = pair.partition("=")
            if name.strip().lower() == "for":
                value = v.strip()
        hops.append(value)
    return hops if header.strip() else []


def parse_address(text: str) -> Address | None:
    """An address as proxies write it: ``192.0.2.1``, ``192.0.2.1:4711``, ``2001:db8::1``,
    ``"[2001:db8::1]:4711"`` (quoted, in ``Forwarded``), ``fe80::1%eth0``; an IPv4
    address written as IPv6 (``::ffff:192.0.2.1``) is the IPv4 one. None: no address."""
    text = text.strip().strip('"').strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


@functools.lru_cache(maxsize=8)
def _networks(texts: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(_unmapped(ipaddress.ip_network(t)) for t in texts)  # checked in config


def _unmapped(network: Network) -> Network:
    """An IPv4-mapped network (``::ffff:10.0.0.1``, as a dual-stack proxy's logs show
    its IPv4 peers) as the IPv4 one: ``parse_address`` reads every address, peer and
    hop, so; the proxy written mapped was never trusted."""
    mapped = network.network_address
    if isinstance(mapped, ipaddress.IPv6Address) and mapped.ipv4_mapped and network.prefixlen >= 96:
        return ipaddress.IPv4Network(f"{mapped.ipv4_mapped}/{network.prefixlen - 96}")
    return network


def _inside(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def trusted_peer(cfg: Config, peer: str) -> bool:
    """Whether a connection's peer address is one of ``serve.trusted_proxies``."""
    trusted = _networks(cfg.serve.trusted_proxies)
    address = parse_address(peer) if trusted else None
    return address is not None and _inside(address, trusted)
