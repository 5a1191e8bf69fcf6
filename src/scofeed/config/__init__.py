"""config.toml -> frozen dataclasses, validated once at start-up.

- ``config.schema``: the sections and keys, their defaults and allowed values (the
  outbound ones, webhooks, WebSub and ActivityPub, in ``config.push``; the remote
  sources, ``[[sources]]``, in ``config.sources``; what fields are made of, ``check``
  and ``Secret``, in ``config.fields``);
- ``config.load``: reading the TOML into them, with errors naming the dotted key;
- ``config.show``: the effective configuration back as TOML, secrets redacted;
- ``config.redact``: what of a value may be shown (never a secret or a URL's token).

Everything callers need is importable from ``scofeed.config`` itself.
"""

from __future__ import annotations

from scofeed.config.fields import DEFAULT_RETRY, Secret, check
from scofeed.config.load import load, resolve_secret
from scofeed.config.push import WEBHOOK_EVENTS, WEBHOOK_FORMATS, Webhook, WebSubConfig
from scofeed.config.redact import redact_url, safe_url
from scofeed.config.schema import (
    FEED_FILES,
    FORMATS,
    LEVELS,
    Config,
    FeedsConfig,
    LanguageFeed,
    LimitsConfig,
    LogConfig,
    PathsConfig,
    RecheckConfig,
    ScheduleConfig,
    ServeConfig,
    SiteConfig,
    host_in,
    tag_slug,
)
from scofeed.config.show import show
from scofeed.config.sources import PAGE_PRESETS, SOURCE_KINDS, RemoteSource

__all__ = [
    "DEFAULT_RETRY",
    "FEED_FILES",
    "FORMATS",
    "LEVELS",
    "PAGE_PRESETS",
    "SOURCE_KINDS",
    "WEBHOOK_EVENTS",
    "WEBHOOK_FORMATS",
    "Config",
    "FeedsConfig",
    "LanguageFeed",
    "LimitsConfig",
    "LogConfig",
    "PathsConfig",
    "RecheckConfig",
    "RemoteSource",
    "ScheduleConfig",
    "Secret",
    "ServeConfig",
    "SiteConfig",
    "Webhook",
    "WebSubConfig",
    "check",
    "tag_slug",
    "host_in",
    "load",
    "redact_url",
    "resolve_secret",
    "safe_url",
    "show",
]
