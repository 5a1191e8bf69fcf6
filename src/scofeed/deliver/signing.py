"""Standard Webhooks signatures: ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``.

The key is the base64-decoded part of the secret after ``whsec_``. With several secrets
(rotation) the header carries one signature per secret, separated by spaces; a receiver
accepts the delivery when any of them matches. ``verify`` is the receiver's side, used
by ``scofeed webhook verify``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping

from scofeed.errors import BadSignature  # raised here; in the errors tree since issue 15

PREFIX = "whsec_"
TOLERANCE = 300  # seconds a receiver accepts between webhook-timestamp and its clock


def key_of(secret: str) -> bytes:
    raw = secret[len(PREFIX) :] if secret.startswith(PREFIX) else secret
    try:
        key = base64.b64decode(raw + "==")
    except (binascii.Error, ValueError):
        raise BadSignature("the secret is not 'whsec_' followed by base64") from None
    if not key:
        raise BadSignature("the secret is empty")
    return key


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(key_of(secret), f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode("ascii")


def sign(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: one signature per secret."""
    return " ".join(signature(s, msg_id, timestamp, body) for s in secrets)


def headers(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secrets, msg_id, timestamp, body),
    }


def verify(
    secret: str, received: Mapping[str, str], body: bytes, now: float, tolerance: int = TOLERANCE
) -> str:
    """Check a received request; returns its webhook-id, raises BadSignature if it fails."""
    h = {k.lower(): v for k, v in received.items()}
    msg_id = h.get("webhook-id")
    stamp = h.get("webhook-timestamp")
    sigs = h.get("webhook-signature")
    names = ("webhook-id", "webhook-timestamp", "webhook-signature")
    missing = [n for n, v in zip(names, (msg_id, stamp, sigs), strict=True) if not v]
    if missing or msg_id is None or stamp is None or sigs is None:
        raise BadSignature("missing header(s): " + ", ".join(missing))
    try:
        ts = int(stamp)
    except ValueError:
        raise BadSignature(f"webhook-timestamp is not a number: {stamp!r}") from None
    if abs(now - ts) > tolerance:
        skew = int(now - ts)
        raise BadSignature(f"webhook-timestamp is {skew} s away from now (limit {tolerance} s)")
    expected = signature(secret, msg_id, ts, body).split(",", 1)[1]
    for item in sigs.split():
        version, _, value = item.partition(",")
        if version == "v1" and hmac.compare_digest(value, expected):
            return msg_id
    raise BadSignature("no v1 signature matches this secret (wrong secret, or body altered)")
