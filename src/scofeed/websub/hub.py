"""WebSub hub rules, pure: which topics exist, what a subscription request must hold,
lease arithmetic, the parameters of a verification or denial, the ``Link`` header and
the ``X-Hub-Signature`` of a body, and the per-client request rate.

Everything here takes its inputs (config, request body, ``now``) and returns data or
raises ``HubRequestError`` with the plain-text reason the hub answers with.
"""

from __future__ import annotations

import codecs
import hashlib
import hmac
import ipaddress
import re
import secrets
from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from scofeed.config import Config
from scofeed.deliver.sender import address_allowed
from scofeed.errors import HubRequestError
from scofeed.hostkey import address_key
from scofeed.render import CONTENT_TYPES
from scofeed.render.catalog import FeedSet, main_set
from scofeed.store.websub import DENIED, SUBSCRIBE, UNSUBSCRIBE, Intent

MAX_SECRET = 200  # bytes: hub.secret must be shorter (WebSub 5.1)
MAX_URL = 2048
MAX_FIELDS = 20
FORM_TYPE = "application/x-www-form-urlencoded"
_CHARSET = re.compile(r';\s*charset\s*=\s*"?([^";\s]*)"?', re.IGNORECASE)
# the request parameters the hub reads; any other is ignored (WebSub 5.1), even given
# twice, as PubSubHubbub 0.3 subscribers send hub.verify (NewsBlur: sync and async)
FIELDS = frozenset(
    ("hub.mode", "hub.topic", "hub.callback", "hub.secret", "hub.lease_seconds",
     "hub.verify_token")
)  # fmt: skip


@dataclass(frozen=True)
class Topic:
    """A feed the hub distributes: its public URL, the file it is published to, and the
    Content-Type its body is sent with."""

    url: str
    path: Path
    content_type: str


def topics(cfg: Config, sets: Sequence[FeedSet] | None = None) -> dict[str, Topic]:
    """Every topic, by URL: exactly the subscription feeds of ``sets`` (main, each
    language, each tag: ``publish.published_sets``; default the main set alone). Archive
    pages are not topics: a reader follows the subscription feed."""
    return {
        fs.url(cfg, fmt): Topic(
            fs.url(cfg, fmt), cfg.paths.feeds / fs.path(fmt), CONTENT_TYPES[fmt]
        )
        for fs in (sets if sets is not None else [main_set(cfg)])
        for fmt in cfg.feeds.formats
    }


def same_topic(given: str, known: Collection[str]) -> str | None:
    """The topic of ``known`` (its URL, as the hub keeps it) that ``given`` names once
    both are normalised (``normal_url``), else None. A subscriber that spells the URL
    otherwise (``HTTPS://Host:443/atom.xml?``, ``%7e`` for ``~``) subscribes to the
    same topic, not to none."""
    if given in known:
        return given
    wanted = normal_url(given)
    return next((url for url in known if normal_url(url) == wanted), None)


_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def normal_url(url: str) -> str:
    """``url`` after RFC 3986's syntax-based normalisation (6.2.2) and the scheme-based
    one of http(s) (6.2.3), so two spellings of one URL compare equal: scheme and host
    in lower case; percent-encodings in upper case (``%2f``: ``%2F``) and those of
    unreserved characters decoded (``%7E``: ``~``); dot segments removed; no default
    port (``:80``, ``:443``), nor an empty one; an empty path is ``/``; an empty query
    (a trailing ``?``) is none. Characters outside ASCII are percent-encoded as UTF-8
    first (an IRI as its URI, RFC 3987 3.1). Not a URL: returned as it is."""
    url = "".join(c if c.isascii() else _encoded(c) for c in url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    userinfo, at, hostport = parts.netloc.rpartition("@")
    # the port follows the last ':' after an IPv6 literal's ']', if any
    close = hostport.find("]") + 1 if hostport.startswith("[") else 0
    host, _, port = hostport[close:].partition(":")
    host = hostport[:close] + host
    if port.isascii() and port.isdigit():
        port = str(int(port))
    if port == _DEFAULT_PORTS.get(scheme):
        port = ""
    netloc = _percent(userinfo) + at + _percent(host).lower() + (":" + port if port else "")
    path = _no_dot_segments(_percent(parts.path))
    if not path and parts.netloc:
        path = "/"
    return urlunsplit((scheme, netloc, path, _percent(parts.query), _percent(parts.fragment)))


def _encoded(c: str) -> str:
    return "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))


def _percent(text: str) -> str:
    """Percent-encodings in upper case, those of unreserved characters decoded."""

    def one(m: re.Match[str]) -> str:
        c = chr(int(m.group(1), 16))
        return c if c in _UNRESERVED else "%" + m.group(1).upper()

    return _PERCENT.sub(one, text) if "%" in text else text


def _no_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4: ``/a/./b/../c`` is ``/a/c``."""
    segments = path.split("/")
    if "." not in segments and ".." not in segments:
        return path
    out: list[str] = []
    for segment in segments:
        if segment == "..":
            if len(out) > 1:
                out.pop()
        elif segment != ".":
            out.append(segment)
    if segments[-1] in (".", ".."):
        out.append("")
    return "/".join(out)


def link_header(cfg: Config, topic_url: str) -> str:
    """``Link: <hub>; rel="hub", <topic>; rel="self"`` for a feed response or a
    distribution (WebSub 4 and 7)."""
    hubs = [f'<{h}>; rel="hub"' for h in cfg.hub_urls()]
    return ", ".join([*hubs, f'<{topic_url}>; rel="self"'])


def signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` value: ``sha256=`` + hex HMAC of the body (WebSub 7.1)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def new_challenge() -> str:
    return secrets.token_urlsafe(32)


def lease(cfg: Config, asked: str | None) -> int:
    """The lease the hub grants: the default when none is asked, else the asked one
    held between ``lease_min`` and ``lease_max``."""
    ws = cfg.websub
    if asked is None or asked == "":
        return ws.lease_seconds
    if not asked.isascii() or not asked.isdigit():
        raise HubRequestError("hub.lease_seconds must be a whole number of seconds\n")
    asked = asked.lstrip("0") or "0"
    if len(asked) > 12:  # more than 30,000 years: held at the most, never converted
        return ws.lease_max
    return max(ws.lease_min, min(int(asked), ws.lease_max))


_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def callback_host(url: str, allow_private: bool) -> str:
    """The callback's host when the URL is acceptable, else HubRequestError. Host names
    are checked again after DNS resolution when the hub sends (deliver.sender's guard)."""
    if len(url) > MAX_URL:
        raise HubRequestError(f"hub.callback is longer than {MAX_URL} characters\n")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise HubRequestError("hub.callback is not a valid URL\n") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise HubRequestError("hub.callback must be an absolute http:// or https:// URL\n")
    if parts.username is not None or parts.password is not None:
        raise HubRequestError("hub.callback must not carry a user name or password\n")
    if parts.fragment or "#" in url:
        raise HubRequestError("hub.callback must not have a fragment\n")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise HubRequestError("hub.callback must not contain spaces or control characters\n")
    if _BAD_PERCENT.search(url):  # sent as "%25zz": another URL than the one given
        raise HubRequestError("hub.callback has a '%' not followed by two hex digits\n")
    if port == 0:
        raise HubRequestError("hub.callback has no usable port\n")
    host = parts.hostname.lower()
    if not allow_private:
        try:
            ip = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            ip = None
        if host == "localhost" or host.endswith(".localhost") or (ip and not address_allowed(ip)):
            raise HubRequestError(
                "hub.callback is on a loopback, private, link-local or reserved address\n"
            )
    return host


def check_content_type(content_type: str) -> None:
    """A subscription request is a form (WebSub 5.1), in UTF-8, as forms are (WHATWG
    URL, application/x-www-form-urlencoded): a ``charset`` naming anything else
    (``ISO-8859-1``, say) is refused rather than read as UTF-8 with its bytes replaced."""
    if content_type.split(";", 1)[0].strip().lower() != FORM_TYPE:
        raise HubRequestError(f"the body must be {FORM_TYPE}\n", 415)
    m = _CHARSET.search(content_type)
    if m is None:
        return
    try:
        name = codecs.lookup(m.group(1)).name
    except LookupError:
        name = m.group(1)
    if name not in ("utf-8", "ascii"):
        raise HubRequestError(f"the form must be UTF-8 (charset={m.group(1)} is not)\n", 415)


def parse(body: bytes, cfg: Config, challenge: str, known: Collection[str] | None = None) -> Intent:
    """A subscription request (``application/x-www-form-urlencoded`` body) as the intent
    to verify, or HubRequestError saying what is wrong with it. ``known``: the topic
    URLs (default: ``topics(cfg)``). Percent-encoded bytes must be UTF-8 in the
    parameters the hub reads: ``hub.secret=%FF%FE`` was read with U+FFFD in their
    place, and the hub signed with a key the subscriber never gave."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FIELDS,
            errors="surrogateescape",  # bytes that are not UTF-8: refused below, by name
        )  # fmt: skip
    except (UnicodeDecodeError, ValueError):
        raise HubRequestError("malformed body: expected a URL-encoded form in UTF-8\n") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key not in FIELDS:
            continue  # WebSub 5.1: a hub ignores the parameters it does not understand
        if key in form:
            raise HubRequestError(f"{key} is given more than once\n")
        if not _utf8(value):
            raise HubRequestError(f"{key} is not UTF-8 once percent-decoded\n")
        form[key] = value
    mode = form.get("hub.mode")
    if mode not in (SUBSCRIBE, UNSUBSCRIBE):
        raise HubRequestError("hub.mode must be 'subscribe' or 'unsubscribe'\n")
    given = form.get("hub.topic", "")
    if not given:
        raise HubRequestError("hub.topic is missing\n")
    topic = same_topic(given, known if known is not None else topics(cfg))
    if topic is None:
        raise HubRequestError("hub.topic is not a feed published here\n", 404)
    callback = form.get("hub.callback", "")
    if not callback:
        raise HubRequestError("hub.callback is missing\n")
    host = callback_host(callback, cfg.websub.allow_private)
    secret = form.get("hub.secret") or None
    if secret is not None and len(secret.encode("utf-8")) >= MAX_SECRET:
        raise HubRequestError(f"hub.secret must be shorter than {MAX_SECRET} bytes\n")
    # WebSub 5.1: hub.lease_seconds "MAY be present for unsubscription requests and MUST
    # be ignored by the hub in that case" (a bad one refused an unsubscribe)
    asked = form.get("hub.lease_seconds") if mode == SUBSCRIBE else None
    lease_seconds = lease(cfg, asked)
    verify_token = form.get("hub.verify_token") or None
    if verify_token is not None and len(verify_token) > MAX_URL:
        raise HubRequestError(f"hub.verify_token is longer than {MAX_URL} characters\n")
    if mode == UNSUBSCRIBE:
        secret = None
    return Intent(mode, topic, callback, host, secret, lease_seconds, challenge,
                  verify_token=verify_token,
                  topic_given=given if given != topic else None)  # fmt: skip


def _utf8(value: str) -> bool:
    """Whether ``value`` came from UTF-8 (surrogateescape keeps other bytes as lone
    surrogates, which do not encode)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def verification_query(intent: Intent) -> list[tuple[str, str]]:
    """The query parameters of the GET to the callback (WebSub 5.3 and 5.2), with the
    subscriber's ``hub.verify_token`` when it gave one (PubSubHubbub 0.3 subscribers,
    NewsBlur among them, refuse a verification without it)."""
    if intent.mode == DENIED:
        query = [("hub.mode", DENIED), ("hub.topic", intent.topic_as_given)]
        return query + ([("hub.reason", intent.reason)] if intent.reason else [])
    query = [
        ("hub.mode", intent.mode),
        ("hub.topic", intent.topic_as_given),  # as the subscriber gave it (WebSub 5.3)
        ("hub.challenge", intent.challenge),
    ]
    if intent.mode == SUBSCRIBE:
        query.append(("hub.lease_seconds", str(intent.lease_seconds)))
    if intent.verify_token is not None:  # PubSubHubbub 0.3, as Google's hub still does
        query.append(("hub.verify_token", intent.verify_token))
    return query


def confirmed(intent: Intent, status: int | None, body: bytes) -> bool:
    """A verification succeeds on a 2xx whose body is exactly the challenge."""
    if status is None or not 200 <= status < 300:
        return False
    return hmac.compare_digest(body, intent.challenge.encode("ascii"))


def client_key(address: str) -> str:
    """Whom a request counts against: its address as ``hostkey.address_key`` keys it (an
    IPv4 address, also written as IPv4-mapped IPv6, or an IPv6 address's /64, the least
    one site is given: counted address by address, one client with a /64 had 2^64
    allowances)."""
    return address_key(address) or address


class RateLimiter:
    """At most ``limit`` requests per ``window`` seconds per client (a sliding window);
    the caller passes ``now``."""

    def __init__(self, limit: int, window: float = 60.0, max_clients: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._seen: dict[str, deque[float]] = {}

    def allow(self, client: str, now: float) -> bool:
        client = client_key(client)
        times = self._seen.get(client)
        if times is None:
            if len(self._seen) >= self.max_clients:  # forget the quiet ones first
                since = now - self.window
                self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > since}
            times = self._seen.setdefault(client, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True
