"""The config's outbound sections: ``[[webhooks]]``, ``[websub]`` and ``[activitypub]``
(their keys, defaults and checks; ``config.schema`` puts them in ``Config``)."""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Any

from scofeed.config.fields import (
    DEFAULT_RETRY,
    MAX_SECONDS,
    Secret,
    check,
    delays,
    http_url,
    language_tags,
    one_of,
    plain_name,
    positive,
    request_timeout,
    seconds_up_to,
    tag_slug,
    whatwg_parsable,
)
from scofeed.errors import ConfigError
from scofeed.frozen import frozen

# -- webhooks (issue 4) ----------------------------------------------------------------

WEBHOOK_EVENTS = ("release.published", "release.updated", "release.withdrawn", "release.restored")
WEBHOOK_FORMATS = ("standard", "slack", "discord")


def _events(v: tuple[str, ...]) -> str | None:
    if v and all(e in WEBHOOK_EVENTS for e in v):
        return None
    return "a non-empty list drawn from " + ", ".join(repr(e) for e in WEBHOOK_EVENTS)


def _filter_tags(v: tuple[str, ...]) -> str | None:
    bad = [t for t in v if not tag_slug(t)]
    return f"tag names with a letter or digit (not {bad[0]!r})" if bad else None


WHSEC = "'whsec_' followed by base64 of 16 to 128 bytes, or that base64 alone"


def is_whsec(value: str) -> bool:
    """A Standard Webhooks secret: base64 of a 16- to 128-byte key, ``whsec_`` in front
    or not, padded or not (the standardwebhooks libraries take all four forms). Padded,
    with the padding base64 has, no more: the JavaScript libraries refuse "===" after a
    key that takes one "=" (Python's base64 took it, and the config did)."""
    body = value.removeprefix("whsec_")
    raw = body.rstrip("=")
    if body != raw and body != raw + "=" * (-len(raw) % 4):
        return False
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return 16 <= len(key) <= 128


def _padding_hint(value: str) -> str:
    """What is wrong with a secret that would be one but for its "=" padding (an earlier
    scofeed took any): how many base64 gives its key, so the fix is plain (the key is
    the same)."""
    body = value.removeprefix("whsec_")
    raw = body.rstrip("=")
    if body == raw or not is_whsec(value[: len(value) - len(body)] + raw):
        return ""
    wanted, has = -len(raw) % 4, len(body) - len(raw)
    if has == wanted:
        return ""
    ending = f"no '=' or {wanted}" if wanted else "no '='"
    return (
        f", its base64 ending in {ending} (this one has {has}; JavaScript receivers refuse "
        "it: drop or add them, the key is the same)"
    )


@frozen
class Webhook:
    """One ``[[webhooks]]`` endpoint."""

    name: str = check(plain_name)
    url: str = check(http_url, redact=True)  # may hold a token: shown as https://host/***
    # one secret, or a list while rotating: every delivery carries one signature per secret
    secret: Secret | tuple[Secret, ...] = ()
    events: tuple[str, ...] = check(_events, default=WEBHOOK_EVENTS)
    # only entries with one of these tags (empty: all), matched as the tags' feeds are:
    # by tag_slug, so "Security" takes the entries of feeds/tags/security/
    tags: tuple[str, ...] = check(_filter_tags, default=())
    # only entries in one of these languages (empty: all), by code: "en" is "en-GB"
    languages: tuple[str, ...] = check(language_tags, default=())
    title_pattern: str | None = None  # only entries whose title matches (regex, any case)
    format: str = check(one_of(*WEBHOOK_FORMATS), default="standard")
    # Standard Webhooks recommends 15 to 30 s: a receiver answering 200 after 12 s has
    # the message, and must not get it again on every attempt
    timeout: float = check(request_timeout, default=15.0)
    retry_schedule: tuple[int, ...] = check(delays, default=DEFAULT_RETRY)
    # cap on a 429/503 Retry-After
    retry_after_max: int = check(seconds_up_to(MAX_SECONDS), default=3600)
    allow_private: bool = False  # allow loopback, private and link-local addresses

    def __repr__(self) -> str:
        return f"Webhook({self.name!r})"

    @property
    def secrets(self) -> tuple[Secret, ...]:
        return self.secret if isinstance(self.secret, tuple) else (self.secret,)

    def secret_problems(self) -> list[str]:
        """Why each of its secrets could not be read here (``Secret.problem``)."""
        return [s.problem for s in self.secrets if s.problem is not None]

    @staticmethod
    def problems_beside(values: dict[str, Any], key: str) -> list[str]:
        """``validate``'s word on the keys that were read, when another key of the table
        was refused: a secret that is no Standard Webhooks secret was said only once the
        URL beside it was mended (one ``config check`` is to list every problem)."""
        return Webhook._checked(
            key,
            values.get("secret"),
            values.get("format", "standard"),
            values.get("title_pattern"),
        )

    @staticmethod
    def _no_secret(key: str, fmt: str) -> str:
        # a chat webhook's URL is its token, and the operator who set one up from
        # Slack's or Discord's page had no reason to think a secret was wanted too
        chat = f": a {fmt} endpoint's requests are signed too" if fmt != "standard" else ""
        return (
            f"{key}.secret: required key is missing{chat} (make one: docs/webhooks.md, "
            "Adding an endpoint)"
        )

    @staticmethod
    def _checked(key: str, secret: Any, fmt: str, title_pattern: str | None) -> list[str]:
        """The problems of the secret(s) and the title pattern, one a line."""
        problems = []
        secrets = secret if isinstance(secret, tuple) else (secret,) if secret else ()
        if not secrets:
            problems.append(Webhook._no_secret(key, fmt))
        for i, s in enumerate(secrets):
            if s.problem is None and not is_whsec(s.value):  # unread here: checked where used
                where = f"{key}.secret[{i}]" if isinstance(secret, tuple) else f"{key}.secret"
                problems.append(
                    f"{where}: expected {WHSEC}{_padding_hint(s.value)} (from {s.reference}; "
                    "value not shown)"
                )
        if title_pattern is not None:
            try:
                re.compile(title_pattern)
            except re.error as exc:
                problems.append(f"{key}.title_pattern: not a valid regular expression ({exc})")
        return problems

    def validate(self, key: str) -> None:
        problems = self._checked(key, self.secret, self.format, self.title_pattern)
        if problems:
            raise ConfigError("\n".join(problems))


def distinct_names(v: tuple[Webhook | None, ...]) -> str | None:
    """Names unique (deliveries are kept by endpoint name), each one used again named on
    a line of its own. Every item is here, one with problems of its own as what of it
    could be read (see ``check``), so its duplicates are listed in the same run."""
    seen: set[str] = set()
    problems = []
    for i, hook in enumerate(v):
        name = getattr(hook, "name", None)
        if name is None:
            continue
        if name in seen:
            problems.append(f"webhooks[{i}].name: {name!r} is already the name of a webhook")
        seen.add(name)
    if problems:
        raise ConfigError("\n".join(problems))
    return None


# -- WebSub (issue 11) -------------------------------------------------------------------


def _hub_path(v: str) -> str | None:
    ok = re.fullmatch(r"/[A-Za-z0-9._~/-]{1,100}", v) and "//" not in v
    return None if ok else "a path such as '/websub'"


def _hub_urls(v: tuple[str, ...]) -> str | None:
    bad = [u for u in v if http_url(u)]
    return "a list of http:// or https:// hub URLs" if bad else None


@frozen
class WebSubConfig:
    """``[websub]``: the built-in hub (served by ``scofeed run``) and external hubs."""

    enabled: bool = True  # advertise and run the built-in hub at base_url + path
    hub_path: str = check(_hub_path, default="/websub")
    hubs: tuple[str, ...] = check(_hub_urls, urls=True, default=())  # pinged on a change
    # the lease granted when none is asked for
    lease_seconds: int = check(seconds_up_to(MAX_SECONDS), default=10 * 86400)
    lease_min: int = check(seconds_up_to(MAX_SECONDS), default=300)
    lease_max: int = check(seconds_up_to(MAX_SECONDS), default=30 * 86400)
    allow_private: bool = False  # callbacks on loopback, private, link-local addresses
    timeout: float = check(request_timeout, default=10.0)  # per verification or distribution
    retry_schedule: tuple[int, ...] = check(delays, default=DEFAULT_RETRY)
    max_per_host: int = check(positive, default=50)  # subscriptions per callback host
    # subscriptions (and subscribe requests waiting for their verification) in all: past
    # it a new one gets 503; renewals and unsubscribes still go through
    max_subscriptions: int = check(positive, default=10_000)
    max_body: int = check(positive, default=8192)  # bytes of a subscription request
    rate: int = check(positive, default=30)  # subscription requests per minute per client

    def validate(self, key: str) -> None:
        if self.lease_min > self.lease_max:  # blamed on lease_seconds, which was not set
            raise ConfigError(
                f"{key}.lease_min: expected at most lease_max ({self.lease_max}), "
                f"got {self.lease_min}"
            )
        if not self.lease_min <= self.lease_seconds <= self.lease_max:
            raise ConfigError(
                f"{key}.lease_seconds: expected a value from lease_min ({self.lease_min}) "
                f"to lease_max ({self.lease_max}), got {self.lease_seconds}"
            )


# -- ActivityPub (issue 12) ------------------------------------------------------------

AP_OBJECT_TYPES = ("Note", "Article")


def fediverse_url(v: str) -> str | None:
    """An http(s) URL fediverse servers read: a Fedify-based one refuses a whole actor
    whose icon it cannot parse (``fields.whatwg_parsable``)."""
    problem = http_url(v)
    if problem is None and not whatwg_parsable(v):
        problem = "a URL with a host the fediverse's URL parser reads (WHATWG)"
    return problem


def _ap_username(v: str) -> str | None:
    ok = re.fullmatch(r"[a-z0-9_]{1,30}", v)
    return None if ok else "1 to 30 lower-case letters, digits or '_'"


@frozen
class ActivityPubConfig:
    """``[activitypub]``: scofeed as a followable actor (``@username@host``)."""

    enabled: bool = False
    username: str = check(_ap_username, default="releases")
    name: str | None = None  # shown name; default: site.title
    summary: str | None = None  # profile text; default: site.description
    icon: str | None = check(lambda v: None if v is None else fediverse_url(v), default=None)
    object_type: str = check(one_of(*AP_OBJECT_TYPES), default="Note")
    key: Path | None = None  # the RSA key pair (PEM); default: beside the state store
    allow_private: bool = False  # allow loopback and private addresses (inboxes, keys)
    max_body: int = check(positive, default=256 * 1024)  # inbox bodies above it get 413
    timeout: float = check(request_timeout, default=10.0)
    retry_schedule: tuple[int, ...] = check(delays, default=DEFAULT_RETRY)
    page_size: int = check(positive, default=20)  # outbox items per page
    # followers in all: past it a new follower's Follow gets 503 (those following stay)
    max_followers: int = check(positive, default=20_000)
    # follower servers (actor hosts) of one registrable domain: past it a Follow from a
    # new server of that domain gets a Reject (those following stay)
    max_servers_per_domain: int = check(positive, default=50)
    # remote public keys cached: past it the least recently used go (fetched again if needed)
    max_keys: int = check(positive, default=10_000)

    def key_path(self, state: Path) -> Path:
        return self.key if self.key is not None else state.parent / "activitypub-key.pem"
