"""The hub's outbound requests: the verification GET, the content distribution POST and
the publish ping to an external hub.

Callbacks are third-party input, so their requests go through webhooks' address guard
(``deliver.sender``: every address the host resolves to must be global unless
``[websub] allow_private``, and the connection goes to the address checked), never
follow redirects, ignore proxy settings from the environment, and read at most a
small part of the answer. Pings go to hubs the operator configured: no guard.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import requests

from scofeed.config import Config
from scofeed.deliver import sender
from scofeed.deliver.policy import Result
from scofeed.sources import deadline
from scofeed.store.websub import Content, Distribution, Intent
from scofeed.websub import hub

MAX_VERIFY_RESPONSE = 1024  # a challenge is 43 characters; more is not an echo of it


def session(allow_private: bool) -> requests.Session:
    return sender.session(allow_private)  # the pushes' one session recipe


def verification_url(intent: Intent) -> str:
    """The callback with the hub's parameters added to any query it already has."""
    joiner = "&" if "?" in intent.callback else "?"
    return intent.callback + joiner + urlencode(hub.verification_query(intent))


def verify(s: requests.Session, intent: Intent, timeout: float) -> tuple[bool, str]:
    """Send the verification (or denial) GET; whether the subscriber confirmed, and why
    not in our own words (never the URL: a callback may carry a token)."""
    late = sender.timed_out(timeout)
    with deadline.within(timeout) as watch:  # the whole GET, as a delivery's POST
        try:
            url = verification_url(intent)
            resp = s.get(url, timeout=timeout, allow_redirects=False, stream=True)
        except Exception as exc:  # any failure is an outcome, never a crash
            return False, late if watch.expired else str(sender.explain(exc, timeout))
        try:
            data = b""
            until = time.monotonic() + timeout
            for chunk in resp.iter_content(256):
                data += chunk
                if len(data) > MAX_VERIFY_RESPONSE or time.monotonic() > until:
                    break
        except (requests.exceptions.RequestException, OSError):
            if watch.expired:
                return False, late
            return False, f"connection closed mid-response (after HTTP {resp.status_code})"
        finally:
            resp.close()
        if watch.expired:  # the answer was cut off at the deadline
            return False, late
    status = resp.status_code
    if intent.mode == "denied":
        return 200 <= status < 300, f"HTTP {status}"
    if hub.confirmed(intent, status, data):
        return True, f"HTTP {status}"
    if not 200 <= status < 300:
        extra = " (redirects are not followed)" if 300 <= status < 400 else ""
        return False, f"HTTP {status}{extra}"
    return False, f"HTTP {status} without the challenge echoed"


def distribute(
    s: requests.Session, cfg: Config, d: Distribution, body: Content, timeout: float
) -> sender.Sent:
    """POST the topic's whole feed body, its Content-Type, the hub and self links, and
    the signature when the subscriber gave a secret (WebSub 7)."""
    headers = {"Content-Type": body.content_type, "Link": hub.link_header(cfg, d.topic)}
    if d.secret:
        headers["X-Hub-Signature"] = hub.signature(d.secret, body.body)
    return sender.post_outcome(s, d.callback, body.body, headers, timeout)


def ping(s: requests.Session, hub_url: str, topic: str, timeout: float) -> Result:
    """Tell an external hub that ``topic`` changed (``hub.mode=publish``). WebSub leaves
    the ping to each hub: Google's, Superfeedr and WordPress read ``hub.url``
    (PubSubHubbub 0.4), hubs written for WebSub (websub.rocks' publisher, Switchboard's
    instructions, others that need ``hub.topic``) read ``hub.topic``; both are sent, the
    same URL, and each hub ignores the one it does not read."""
    form = {"hub.mode": "publish", "hub.url": topic, "hub.topic": topic}
    headers = {"Content-Type": hub.FORM_TYPE}
    sent = sender.post_outcome(s, hub_url, urlencode(form).encode("ascii"), headers, timeout)
    return sent.result
