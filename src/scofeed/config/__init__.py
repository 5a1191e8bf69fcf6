"""config.toml -> frozen dataclasses, validated once at start-up.

- ``config.schema``: the sections and keys, their defaults and allowed values;
- ``config.load``: reading the TOML into them, with errors naming the dotted key;
- ``config.show``: the effective configuration back as TOML, secrets redacted;
- ``config.redact``: what of a value may be shown (never a secret or a URL's token).

Everything callers need is importable from ``scofeed.config`` itself.
"""

from __future__ import annotations

from scofeed.config.load import load, resolve_secret
from scofeed.config.redact import redact_url, safe_url
from scofeed.config.schema import (
    DEFAULT_RETRY,
    FEED_FILES,
    FORMATS,
    LEVELS,
    PAGE_PRESETS,
    SOURCE_KINDS,
    WEBHOOK_EVENTS,
    WEBHOOK_FORMATS,
    Config,
    FeedsConfig,
    LanguageFeed,
    LimitsConfig,
    LogConfig,
    PathsConfig,
    RecheckConfig,
    RemoteSource,
    ScheduleConfig,
    Secret,
    ServeConfig,
    SiteConfig,
    Webhook,
    WebSubConfig,
    check,
    host_in,
    tag_slug,
)
from scofeed.config.show import show

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
