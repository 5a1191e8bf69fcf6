"""One signed POST to one endpoint, and the address guard.

Each endpoint gets its own ``requests.Session`` (keep-alive across its deliveries), with
no proxies from the environment and no redirects. The response body is read up to
``MAX_RESPONSE`` bytes. Every attempt has one wall-clock deadline, the endpoint's
``timeout``, for all of it (name resolution, connect, headers, body): a watchdog shuts the attempt's
socket down when it passes (``sources.deadline``, shared with the poller), so a
receiver that drips its answer a byte at a time cannot hold it longer (the per-read
socket timeouts alone never fire on a drip). The status line is the answer: a 2xx whose
body is cut off (by the deadline, or a connection closed mid-way) is still a 2xx. The
pushes' GETs (WebSub verification, ActivityPub fetches) read their answers inside
``deadline.within`` themselves. The endpoint's lease (``runner``) outlasts this
deadline. Errors are described in our own words: never the URL (chat webhook URLs carry
tokens), never a header (signatures). Discord is asked to confirm (``target``).

The address guard (unless ``allow_private``): the host is resolved at send time and
every address it resolves to must be global; the connection then goes to the address
that was checked, so a name that changes its answer between the check and the
connection (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import ssl
import time
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests
from urllib3.exceptions import HTTPError, NameResolutionError, NewConnectionError, ReadTimeoutError

from scofeed import USER_AGENT
from scofeed.config import Webhook
from scofeed.deliver import signing
from scofeed.deliver.policy import Result
from scofeed.errors import AddressForbidden, DeliveryError, EndpointUnreachable
from scofeed.sources import deadline, http

MAX_RESPONSE = 64 * 1024
KEEP_RESPONSE = 2000  # characters of the response body stored with the attempt


class AddressRefused(NewConnectionError):
    """The host resolves to an address that is not global and allow_private is off."""

    def __init__(self, conn: Any, message: str) -> None:
        super().__init__(conn, message)
        self.message = message


_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix
# IPv4-compatible (RFC 4291 2.5.5.1, deprecated): Python calls ::7f00:1 global
_COMPATIBLE = ipaddress.ip_network("::/96")
# IPv4-translated (SIIT, RFC 2765): ::ffff:0:a00:1 is 10.0.0.1 behind a translator
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
# never global, yet global to Python 3.11 (its table predates them, or forgets them):
# local-use IPv4/IPv6 translation (RFC 8215: 64:ff9b:1::a00:1 is 10.0.0.1 through a
# site's own NAT64), site-local (RFC 3879, still routed inside some networks),
# documentation (RFC 9637) and SRv6 SIDs (RFC 9602)
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(n) for n in ("64:ff9b:1::/48", "fec0::/10", "3fff::/20", "5f00::/16")
)


def address_allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Only global unicast addresses; an IPv6 address carrying an IPv4 one (mapped,
    compatible, translated, 6to4, NAT64) is judged by the IPv4 address inside it."""
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in n for n in _NOT_GLOBAL):
            return False
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is None and (ip in _NAT64 or ip in _COMPATIBLE or ip in _TRANSLATED):
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            return address_allowed(inner)
    return ip.is_global and not ip.is_multicast


class _Guard:
    """The address guard: every address the host resolves to must be global, checked
    before the connection goes to one of them (so a name that changes its answer in
    between cannot slip through)."""

    def check(self, host: str, addresses: list[str]) -> None:
        for a in addresses:
            if not address_allowed(ipaddress.ip_address(a)):
                raise AddressRefused(
                    self,
                    f"refused: {host} resolves to {a}, a loopback, private, link-local or "
                    "reserved address (set allow_private = true to allow it)",
                )


class GuardedHTTPConnection(_Guard, deadline.WatchedHTTPConnection):
    pass


class GuardedHTTPSConnection(_Guard, deadline.WatchedHTTPSConnection):
    pass


class GuardedHTTPPool(deadline.WatchedHTTPPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSPool(deadline.WatchedHTTPSPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(deadline.WatchedAdapter):
    pools = {"http": GuardedHTTPPool, "https": GuardedHTTPSPool}


def session(allow_private: bool) -> requests.Session:
    """The one way every push (webhooks, WebSub, ActivityPub) makes its HTTP session: no
    proxies or netrc from the environment, a CA bundle named there honoured, the address
    guard unless ``allow_private``, and the per-attempt deadline either way."""
    s = requests.Session()
    s.trust_env = False  # no proxies or netrc from the environment
    s.verify = http.ca_bundle()  # ...but a CA bundle named there is honoured (a private CA)
    adapter = deadline.WatchedAdapter() if allow_private else GuardedAdapter()
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    # answers as they are: the body kept (the first KEEP_RESPONSE characters) is read
    # raw, and a gzipped error came out as "\x1f\x8b\x08..." (requests asks for gzip)
    s.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    return s


def wire_url(url: str) -> str:
    """``url`` as requests puts it on the wire: the host in IDNA, the path and query
    percent-encoded where they were not (a space, ``|``, a letter outside ASCII). A
    signature over the request target (ActivityPub) must cover this form, which is
    what the receiver reads from the request line."""
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, None)
    return prepared.url or url


def session_for(hook: Webhook) -> requests.Session:
    s = session(hook.allow_private)
    s.headers["Content-Type"] = "application/json"
    return s


def _readable(raw: bytes, encoding: str | None) -> str:
    """The answer's body as text, its first ``KEEP_RESPONSE`` characters. A receiver that
    compresses though asked not to (``Accept-Encoding: identity``): gzip or deflate is
    undone, at most ``MAX_RESPONSE`` bytes of it (a bomb stays small); another coding
    is named, not shown as bytes."""
    coding = (encoding or "").strip().lower()
    if coding in ("gzip", "x-gzip", "deflate"):
        try:  # wbits 47: gzip or zlib by its header; a cut-off stream gives what it holds
            raw = zlib.decompressobj(47).decompress(raw, MAX_RESPONSE)
        except zlib.error:
            return f"(a body in {coding} that does not decode)"
    elif coding not in ("", "identity"):
        return f"(a body in {coding[:40]})"
    return raw.decode("utf-8", "replace")[:KEEP_RESPONSE]


@dataclass(frozen=True)
class Sent:
    result: Result
    response: str  # the body as text, truncated
    duration: float


def timed_out(timeout: float) -> str:
    """What every push says of an attempt that ran out of time."""
    return f"timeout: no response within {timeout:g}s"


def explain(exc: BaseException, timeout: float) -> DeliveryError:
    """A failed request in our own words, as the error it is."""
    chain = http.causes(exc)
    for e in chain:
        if isinstance(e, AddressRefused):
            return AddressForbidden(e.message)
    tls = isinstance(exc, requests.exceptions.SSLError)
    if tls or any(isinstance(e, ssl.SSLCertVerificationError) for e in chain):
        return EndpointUnreachable(http.tls_problem(exc))  # the poller's words
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return EndpointUnreachable(f"connect timeout after {timeout:g}s")
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return EndpointUnreachable(timed_out(timeout))
    kinds = [type(e).__name__ for e in chain]
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return EndpointUnreachable("connection refused")
    if any(isinstance(e, NameResolutionError) for e in chain):
        slow = any("no answer from the resolver" in str(e) for e in chain)
        return EndpointUnreachable(
            f"cannot resolve the host name within {timeout:g}s"
            if slow
            else "cannot resolve the host name"
        )
    if "RemoteDisconnected" in kinds or "BadStatusLine" in kinds:
        return EndpointUnreachable("connection closed without a response")
    if any(isinstance(e, ConnectionResetError) for e in chain):
        return EndpointUnreachable("connection reset by the endpoint")
    return EndpointUnreachable(f"request failed ({type(exc).__name__})")


def target(hook: Webhook) -> str:
    """Where the endpoint's requests go: its URL, with ``wait=true`` added for Discord
    (unless the URL says ``wait`` itself). Without it Discord answers 204 before the
    message is saved, and a message that then is not saved returns no error."""
    if hook.format != "discord":
        return hook.url
    parts = urlsplit(hook.url)
    if "wait" in parse_qs(parts.query, keep_blank_values=True):
        return hook.url
    query = f"{parts.query}&wait=true" if parts.query else "wait=true"
    return urlunsplit(parts._replace(query=query))


def sign_and_post(
    session: requests.Session, hook: Webhook, webhook_id: str, body: bytes, stamp: int
) -> Sent:
    """Sign ``body`` with every secret of the endpoint and POST it: the one way a
    request leaves (deliveries and ``scofeed webhook test``). A request that gets no
    answer is an outcome too (status None), for the retry policy to judge."""
    headers = signing.headers([s.value for s in hook.secrets], webhook_id, stamp, body)
    return post_outcome(session, target(hook), body, headers, hook.timeout)


def post_outcome(
    session: requests.Session, url: str, body: bytes, headers: dict[str, str], timeout: float
) -> Sent:
    """``post``, with a request that got no answer turned into an outcome (status None)
    for the retry policy: what every push (webhook, WebSub) hands to ``policy.decide``."""
    start = time.monotonic()
    try:
        return post(session, url, body, headers, timeout)
    except DeliveryError as exc:
        result = Result(None, str(exc), blocked=not exc.retryable)
        return Sent(result, "", time.monotonic() - start)


def post(
    session: requests.Session, url: str, body: bytes, headers: dict[str, str], timeout: float
) -> Sent:
    """One POST within ``timeout`` seconds in all; its answer, or a ``DeliveryError``
    when it got none in time."""
    start = time.monotonic()
    with deadline.within(timeout) as watch:
        try:
            sent, broken = _exchange(session, url, body, headers, timeout, start)
        except DeliveryError:
            if watch.expired:
                raise EndpointUnreachable(timed_out(timeout)) from None
            raise
        if watch.expired:  # a body without a length ends at the cut as if it were whole
            broken = f"timeout reading the response (after HTTP {sent.result.status})"
        return sent if broken is None else _cut(sent, broken)


def _cut(sent: Sent, why: str) -> Sent:
    """An answer whose body did not come whole: a 2xx is still the receiver's yes (the
    status line is the answer; a chat service has posted the message, and would post it
    again on a retry), noted with what came of the body; any other is no answer."""
    status = sent.result.status
    if status is None or not 200 <= status < 300:
        raise EndpointUnreachable(why)
    return Sent(sent.result, f"{sent.response} [{why}]"[-KEEP_RESPONSE:], sent.duration)


def _exchange(
    session: requests.Session,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    start: float,
) -> tuple[Sent, str | None]:
    """The answer, and what broke off its body (None: it came whole, or up to the cap)."""
    try:
        resp = session.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        )
    except Exception as exc:  # whatever failed, the caller gets our error, never a crash
        raise explain(exc, timeout) from None
    chunks: list[bytes] = []
    size, broken = 0, None
    try:
        # read1: whatever has arrived (not a full 8 KiB), so the deadline is checked often
        while size < MAX_RESPONSE and (chunk := resp.raw.read1(8192)):
            chunks.append(chunk)
            size += len(chunk)
            if time.monotonic() - start > timeout:
                broken = f"timeout reading the response (after HTTP {resp.status_code})"
                break
    except (requests.exceptions.RequestException, OSError, HTTPError) as exc:
        broken = f"connection closed mid-response (after HTTP {resp.status_code})"
        if isinstance(exc, requests.exceptions.Timeout | TimeoutError | ReadTimeoutError):
            broken = f"timeout reading the response (after HTTP {resp.status_code})"
    finally:
        resp.close()
    text = _readable(b"".join(chunks)[:MAX_RESPONSE], resp.headers.get("Content-Encoding"))
    empty = resp.headers.get("X-RateLimit-Remaining", "").strip() == "0"
    reset = resp.headers.get("X-RateLimit-Reset-After") if empty else None
    result = Result(resp.status_code, None, resp.headers.get("Retry-After"), bucket_reset=reset)
    return Sent(result, text, time.monotonic() - start), broken
