"""HTTP signatures as the fediverse uses them: sign ours, check theirs.

- draft-cavage-http-signatures (what Mastodon sends and expects): a ``Signature`` header
  ``keyId="...",algorithm="rsa-sha256",headers="(request-target) host date digest",
  signature="base64"`` over the lines ``name: value`` of the listed headers; the body is
  bound by ``Digest: SHA-256=base64``, the server by ``Host`` (which must be ours).
- RFC 9421 (HTTP Message Signatures): ``Signature-Input`` + ``Signature``, components
  such as ``"@method"``, ``"@target-uri"``, ``"content-digest"``; the body is bound by
  ``Content-Digest: sha-256=:base64:`` (RFC 9530), the server by ``@authority`` or
  ``@target-uri`` (taken from our own URL). Accepted on the way in; we sign with it
  only on request (``sign_rfc9421``).

Only a digest header the signature covers binds the body (``check_digest``): one sent
beside it unsigned counts for nothing, as anyone replaying the signature could add it.

RSA with PKCS#1 v1.5 and SHA-256 only (``rsa-sha256``, ``hs2019`` with an RSA key,
``rsa-v1_5-sha256``): what every ActivityPub server supports. The strings to sign are
built here; ``cryptography`` only does the RSA arithmetic. Pure: no I/O, the clock is a
parameter. Errors (``BadSignature``) say what is wrong, never a key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from scofeed.errors import BadSignature

# How long a signature lives, as Mastodon has it (app/lib/signed_request.rb,
# matches_time_window?): 5 minutes from its time, or to its signed expires but at most
# 12 hours, and an hour of clock skew either way
LIFETIME = 300
MAX_LIFETIME = 12 * 3600
CLOCK_SKEW = 3600
MIN_BITS = 1024
RFC9421_ALGS = ("rsa-v1_5-sha256",)
CAVAGE_ALGS = ("rsa-sha256", "hs2019")
POST_REQUIRED = ("(request-target)", "host", "date", "digest")
GET_REQUIRED = ("(request-target)", "host", "date")


@dataclass(frozen=True)
class Parsed:
    """A received signature, either kind, before its key is known."""

    key_id: str
    algorithm: str | None
    components: tuple[str, ...]  # cavage header names, or RFC 9421 component names
    signature: bytes
    created: int | None = None
    expires: int | None = None
    rfc9421_params: str | None = None  # the raw "(...);params" of Signature-Input

    @property
    def rfc9421(self) -> bool:
        return self.rfc9421_params is not None


# -- digests ---------------------------------------------------------------------------


def digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def check_digest(parsed: Parsed, headers: Mapping[str, str], body: bytes) -> None:
    """The body must match each digest header the signature covers: ``Digest``
    (SHA-256; draft-cavage) and ``Content-Digest`` (sha-256, RFC 9530; RFC 9421). A
    digest header the signature does not cover counts for nothing: anyone replaying a
    captured signature with another body could add one (RFC 9421 7.2.8)."""
    h = {k.lower(): v for k, v in headers.items()}
    covered = [name for name in ("digest", "content-digest") if name in parsed.components]
    if not covered:
        raise BadSignature("the signature covers no Digest or Content-Digest header")
    raw = hashlib.sha256(body).digest()
    for name in covered:
        if name not in h:
            raise BadSignature(f"signed header {name!r} is missing from the request")
        if name == "digest":
            _check_digest(h[name], raw)
        else:
            _check_content_digest(h[name], raw)


def _check_digest(value: str, raw: bytes) -> None:
    for part in value.split(","):
        algo, _, encoded = part.strip().partition("=")
        if algo.lower() == "sha-256":
            if _b64(encoded) == raw:
                return
            raise BadSignature("Digest does not match the body")
    raise BadSignature("Digest has no SHA-256 value")


def _check_content_digest(value: str, raw: bytes) -> None:
    m = re.search(r"(?:^|,)\s*sha-256=:([A-Za-z0-9+/=]*):", value)
    if m is None:
        raise BadSignature("Content-Digest has no sha-256 value")
    if _b64(m.group(1)) != raw:
        raise BadSignature("Content-Digest does not match the body")


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


# -- draft-cavage ----------------------------------------------------------------------


def http_date(now: float) -> str:
    return format_datetime(datetime.fromtimestamp(now, UTC), usegmt=True)


def request_target(method: str, url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{method.lower()} {path}{'?' + parts.query if parts.query else ''}"


def cavage_string(
    method: str, target_path: str, headers: Mapping[str, str], names: tuple[str, ...],
    created: int | None = None, expires: int | None = None,
) -> str:  # fmt: skip
    """The signing string: one ``name: value`` line per listed header, in order.
    ``target_path`` is the path and query as the request line had them."""
    h = {k.lower(): v for k, v in headers.items()}
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {target_path}")
        elif name == "(created)":
            if created is None:
                raise BadSignature("(created) is signed but the signature has no created")
            lines.append(f"(created): {created}")
        elif name == "(expires)":
            if expires is None:
                raise BadSignature("(expires) is signed but the signature has no expires")
            lines.append(f"(expires): {expires}")
        else:
            if name not in h:
                raise BadSignature(f"signed header {name!r} is missing from the request")
            lines.append(f"{name}: {h[name].strip()}")
    return "\n".join(lines)


def sign_cavage(
    method: str, url: str, body: bytes | None, key_id: str, key: rsa.RSAPrivateKey, now: float,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:  # fmt: skip
    """Headers for a signed request: Host, Date, Digest (with a body) and Signature."""
    parts = urlsplit(url)
    headers = {"Host": parts.netloc, "Date": http_date(now), **(extra or {})}
    names = ["(request-target)", "host", "date"]
    if body is not None:
        headers["Digest"] = digest(body)
        names.append("digest")
    for k in extra or {}:
        names.append(k.lower())
    target = request_target(method, url).split(" ", 1)[1]
    text = cavage_string(method, target, headers, tuple(names))
    sig = base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256()))
    headers["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(names)}",'
        f'signature="{sig.decode("ascii")}"'
    )
    return headers


_CREATED = re.compile(r"[0-9]{1,15}")
_EXPIRES = re.compile(r"[0-9]{1,15}(?:\.[0-9]{0,9})?")
_PARAM = re.compile(r'\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([0-9.]+))\s*(?:,|$)')


def parse_cavage(value: str) -> Parsed:
    params: dict[str, str] = {}
    pos = 0
    value = value.strip()
    if value.lower().startswith("signature "):  # the Authorization header form
        value = value[len("signature ") :]
    while pos < len(value):
        m = _PARAM.match(value, pos)
        if m is None:
            raise BadSignature("the Signature header is malformed")
        if m.group(1) in params:  # which one counts? a proxy may read the first signer
            raise BadSignature(f"the Signature header gives {m.group(1)!r} twice")
        params[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
        pos = m.end()
    if not params.get("keyId") or not params.get("signature"):
        raise BadSignature("the Signature header lacks keyId or signature")
    sig = _b64(params["signature"])
    if not sig:
        raise BadSignature("the signature is not base64")
    names = tuple(params.get("headers", "date").lower().split())
    created, expires = params.get("created"), params.get("expires")
    # whole seconds (expires may have a fraction), 15 digits at most: a longer number
    # is no time, and past 308 digits it is more than a float holds (check_fresh)
    if created is not None and not _CREATED.fullmatch(created):
        raise BadSignature("created is not a whole number of seconds")
    if expires is not None and not _EXPIRES.fullmatch(expires):
        raise BadSignature("expires is not a number of seconds")
    return Parsed(
        params["keyId"], params.get("algorithm"), names, sig,
        None if created is None else int(created),
        None if expires is None else int(float(expires)),
    )  # fmt: skip


# -- RFC 9421 --------------------------------------------------------------------------

_MEMBER = re.compile(r'\s*([a-z*][a-z0-9_.*-]*)=(\((?:[^()"]|"[^"]*")*\)(?:;[^,]*)?)\s*(?:,|$)')
_SIG_MEMBER = re.compile(r"\s*([a-z*][a-z0-9_.*-]*)=:([A-Za-z0-9+/=]*):\s*(?:;[^,]*)?(?:,|$)")


# one component identifier: a string without escapes, and parameters we refuse
_COMPONENT = re.compile(r'"([^"\\]*)"((?:;[^\s;)]*)*)')
# one signature parameter: a string, an integer (15 digits at most, RFC 8941), a
# boolean or a token; anything else is malformed
_SIG_PARAM = re.compile(
    r';\s*([a-z*][a-z0-9_.*-]*)(?:=("[^"\\]*"|-?[0-9]{1,15}(?![0-9.])|\?[01]|[A-Za-z*][^;\s"]*))?'
)


def parse_rfc9421(signature_input: str, signature: str) -> Parsed:
    """The first signature of the request (label order), with its raw parameters.
    Strict where it matters: the covered components are plain names (a parameter such
    as ``;sf`` or ``;req`` is refused), none twice; ``created`` and ``expires`` are
    integers, ``keyid`` and ``alg`` strings, no parameter twice."""
    inputs = _dictionary(signature_input, _MEMBER, "Signature-Input")
    sigs = _dictionary(signature, _SIG_MEMBER, "Signature")
    label = next((k for k in inputs if k in sigs), None)
    if label is None:
        raise BadSignature("Signature-Input and Signature share no label")
    raw = inputs[label].strip()
    components, rest = _components(raw)
    params = _signature_params(rest)
    key_id = _string_param(params, "keyid")
    if not key_id:
        raise BadSignature("Signature-Input has no keyid")
    sig = _b64(sigs[label])
    if not sig:
        raise BadSignature("the signature is not base64")
    created, expires = _int_param(params, "created"), _int_param(params, "expires")
    alg = _string_param(params, "alg")
    return Parsed(key_id, alg, components, sig, created, expires, raw)


def _dictionary(value: str, member: re.Pattern[str], header: str) -> dict[str, str]:
    """The members of a structured-field dictionary (RFC 8941 3.2), label to value,
    read one after the other from the start: a member that does not parse makes the
    header malformed. (Searching for members anywhere in the header, as this did, took
    time growing with the square of its length: 10 s of CPU for 20 kB.)"""
    members: dict[str, str] = {}
    value = value.strip()
    pos = 0
    while pos < len(value):
        m = member.match(value, pos)
        if m is None or m.end() == pos:
            raise BadSignature(f"the {header} header is malformed")
        if m.group(1) in members:
            raise BadSignature(f"{header} gives the label {m.group(1)!r} twice")
        members[m.group(1)] = m.group(2)
        pos = m.end()
    return members


def _components(raw: str) -> tuple[tuple[str, ...], str]:
    """The component names of the inner list ``raw`` opens with, and what follows it."""
    names: list[str] = []
    seen: set[str] = set()
    pos = 1  # past the "("
    while pos < len(raw):
        if raw[pos] == " ":
            pos += 1
            continue
        if raw[pos] == ")":
            return tuple(names), raw[pos + 1 :]
        m = _COMPONENT.match(raw, pos)
        if m is None or not m.group(1) or raw[m.end() : m.end() + 1] not in (" ", ")"):
            raise BadSignature("Signature-Input lists a component that is not a plain name")
        if m.group(2):
            raise BadSignature(f"component parameters are not supported ({m.group(0)})")
        if m.group(1) in seen:
            raise BadSignature(f"Signature-Input lists {m.group(1)!r} twice")
        names.append(m.group(1))
        seen.add(m.group(1))
        pos = m.end()
    raise BadSignature("Signature-Input is malformed")


class _Other:
    """A parameter value that is neither a string nor an integer (a token, a boolean)."""


def _signature_params(rest: str) -> dict[str, str | int | _Other]:
    """The ``;name=value`` parameters: strings unquoted, integers as int."""
    params: dict[str, str | int | _Other] = {}
    pos = 0
    rest = rest.rstrip()
    while pos < len(rest):
        m = _SIG_PARAM.match(rest, pos)
        if m is None:
            raise BadSignature("the parameters of Signature-Input are malformed")
        name, value = m.group(1), m.group(2)
        if name in params:
            raise BadSignature(f"Signature-Input gives {name!r} twice")
        if value is not None and value.startswith('"'):
            params[name] = value[1:-1]
        elif value is not None and value[0] in "-0123456789":
            params[name] = int(value)  # 15 digits at most: the pattern says so
        else:
            params[name] = _Other()
        pos = m.end()
    return params


def _string_param(params: Mapping[str, str | int | _Other], name: str) -> str | None:
    value = params.get(name)
    if value is not None and not isinstance(value, str):
        raise BadSignature(f"the {name} of Signature-Input is not a string")
    return value


def _int_param(params: Mapping[str, str | int | _Other], name: str) -> int | None:
    value = params.get(name)
    if value is not None and not isinstance(value, int):
        raise BadSignature(f"the {name} of Signature-Input is not an integer")
    return value


def rfc9421_base(
    method: str, url: str, headers: Mapping[str, str], components: tuple[str, ...], params: str
) -> str:
    """The signature base of RFC 9421 section 2.5, for the derived components we need."""
    h = {k.lower(): v for k, v in headers.items()}
    parts = urlsplit(url)
    lines = []
    for c in components:
        if c == "@method":
            value = method.upper()
        elif c == "@target-uri":
            value = url
        elif c == "@authority":
            value = authority(url)
        elif c == "@scheme":
            value = parts.scheme.lower()
        elif c == "@path":
            value = parts.path or "/"
        elif c == "@query":
            value = "?" + parts.query
        elif c == "@request-target":
            value = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        elif c.startswith("@"):
            raise BadSignature(f"unsupported component {c!r}")
        elif c in h:
            value = h[c].strip()
        else:
            raise BadSignature(f"signed header {c!r} is missing from the request")
        lines.append(f'"{c}": {value}')
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines)


def sign_rfc9421(
    method: str, url: str, body: bytes | None, key_id: str, key: rsa.RSAPrivateKey, now: float
) -> dict[str, str]:
    headers = {"Host": urlsplit(url).netloc, "Date": http_date(now)}
    components = ["@method", "@authority", "@path"]
    if body is not None:
        headers["Content-Digest"] = content_digest(body)
        components.append("content-digest")
    inner = " ".join(f'"{c}"' for c in components)
    params = f'({inner});created={int(now)};keyid="{key_id}";alg="rsa-v1_5-sha256"'
    base = rfc9421_base(method, url, headers, tuple(components), params)
    sig = base64.b64encode(key.sign(base.encode(), padding.PKCS1v15(), hashes.SHA256()))
    headers["Signature-Input"] = f"sig1={params}"
    headers["Signature"] = f"sig1=:{sig.decode('ascii')}:"
    return headers


# -- checking a received request -------------------------------------------------------


def parse(headers: Mapping[str, str]) -> Parsed:
    """The request's signature, RFC 9421 first when both are present."""
    h = {k.lower(): v for k, v in headers.items()}
    if "signature-input" in h and "signature" in h:
        return parse_rfc9421(h["signature-input"], h["signature"])
    if "signature" in h:
        return parse_cavage(h["signature"])
    if h.get("authorization", "").lower().startswith("signature "):
        return parse_cavage(h["authorization"])
    raise BadSignature("the request is not signed")


def check_fresh(parsed: Parsed, headers: Mapping[str, str], now: float) -> None:
    """Refuse a signature made more than an hour ahead of ``now``, or past its life:
    5 minutes, or its signed ``expires`` (at most 12 hours), and an hour of skew. Its
    time is the signed one: ``(created)`` (any RFC 9421 ``created``) before Date; an
    unsigned Date or ``expires`` counts for nothing (a replay could set either)."""
    signed = set(parsed.components)
    created = parsed.created if parsed.rfc9421 or "(created)" in signed else None
    expires = parsed.expires if parsed.rfc9421 or "(expires)" in signed else None
    when: float | None = None if created is None else float(created)
    h = {k.lower(): v for k, v in headers.items()}
    if when is None and "date" in h and "date" in signed:
        try:
            when = parsedate_to_datetime(h["date"]).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):  # year 10000000000
            raise BadSignature("the Date header is not an HTTP date") from None
    if when is None:
        raise BadSignature("the signature covers neither a Date nor its creation time")
    if when > now + CLOCK_SKEW:
        raise BadSignature(f"the request is dated {int(when - now)} s ahead of now")
    end = min(when + LIFETIME if expires is None else float(expires), when + MAX_LIFETIME)
    if now > end + CLOCK_SKEW:
        raise BadSignature(
            f"the request is dated {int(now - when)} s ago: its signature expired "
            f"{int(now - end)} s ago"
        )


def check_covers(parsed: Parsed, method: str, has_body: bool) -> None:
    """The signature must cover what binds it to this request and body."""
    c = set(parsed.components)
    if parsed.rfc9421:
        if parsed.algorithm not in (None, *RFC9421_ALGS):
            raise BadSignature(f"unsupported algorithm {parsed.algorithm!r}")
        if "@method" not in c or not c & {"@target-uri", "@path", "@request-target"}:
            raise BadSignature("the signature must cover @method and the target")
        if not c & {"@authority", "@target-uri"}:  # else it is good for any server's inbox
            raise BadSignature("the signature must cover @authority or @target-uri")
        if has_body and "content-digest" not in c:
            raise BadSignature("the signature must cover content-digest")
        return
    if parsed.algorithm is not None and parsed.algorithm.lower() not in CAVAGE_ALGS:
        raise BadSignature(f"unsupported algorithm {parsed.algorithm!r}")
    # draft-cavage-12 2.3: (created) and (expires) with an algorithm named after its hash
    # "MUST" be an error (as Mastodon has it): only hs2019, or no algorithm, takes them
    named = parsed.algorithm is not None and parsed.algorithm.lower() != "hs2019"
    if named and c & {"(created)", "(expires)"}:
        raise BadSignature(f"(created) and (expires) are not allowed with {parsed.algorithm}")
    required = POST_REQUIRED if method.upper() == "POST" else GET_REQUIRED
    missing = [n for n in required if n not in c]
    if "date" in missing and "(created)" in c:
        missing.remove("date")
    if missing:
        raise BadSignature("the signature does not cover " + ", ".join(missing))


def check_host(parsed: Parsed, headers: Mapping[str, str], url: str) -> None:
    """A draft-cavage signature covers the ``Host`` header as sent: it must name the
    host of ``url`` (ours), or a signature made for another server's inbox would do
    for ours. RFC 9421's ``@authority`` and ``@target-uri`` are taken from ``url``
    itself, so there is nothing to compare."""
    if parsed.rfc9421 or "host" not in parsed.components:
        return
    sent = next((v for k, v in headers.items() if k.lower() == "host"), None)
    if sent is None:
        raise BadSignature("signed header 'host' is missing from the request")
    ours = authority(url)
    theirs = sent.strip().lower()
    default = {"http": ":80", "https": ":443"}.get(urlsplit(url).scheme)
    if default and theirs.endswith(default):
        theirs = theirs[: -len(default)]
    if theirs != ours:
        raise BadSignature(f"the signature is for host {sent.strip()!r}, not {ours!r}")


def authority(url: str) -> str:
    """The host and port of ``url`` as RFC 9421 2.2.3 has ``@authority``: the host in
    lower case, the port only when not the scheme's default."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


def load_public(pem: str) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii", "replace"))
    except (ValueError, TypeError):
        raise BadSignature("the signer's public key is not a PEM public key") from None
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_BITS:
        raise BadSignature(f"the signer's key is not an RSA key of {MIN_BITS}+ bits")
    return key


def verify(
    parsed: Parsed, method: str, url: str, headers: Mapping[str, str], public_pem: str
) -> None:
    """Raise BadSignature unless ``parsed`` verifies with the key. ``url`` is the full
    URL the request was sent to (scheme, host, path and query)."""
    key = load_public(public_pem)
    if parsed.rfc9421_params is not None:
        text = rfc9421_base(method, url, headers, parsed.components, parsed.rfc9421_params)
    else:
        target = request_target(method, url).split(" ", 1)[1]
        text = cavage_string(
            method, target, headers, parsed.components, parsed.created, parsed.expires
        )
    try:
        key.verify(parsed.signature, text.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise BadSignature("the signature does not verify with the signer's key") from None
