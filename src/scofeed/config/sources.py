"""Remote sources (``[[sources]]``): a page listing releases or a feed, each polled on its
own schedule; their names and URLs unique across the configuration."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from scofeed.config.fields import (
    MAX_SECONDS,
    check,
    crontab_line,
    http_url,
    instead_of,
    one_of,
    plain_name,
    positive,
    seconds_up_to,
)
from scofeed.config.redact import safe_url
from scofeed.errors import ConfigError
from scofeed.frozen import frozen
from scofeed.selectors import compile_selector

SOURCE_KINDS = ("page-list", "feed")
AUTHORITIES = ("official", "mirror")


def _authority_kind(v: str | None) -> str | None:
    return None if v is None else one_of(*AUTHORITIES)(v)


PAGE_PRESETS = ("sco",)  # scofeed.sources.htmlpage.PRESETS


MAX_PAGES = 5  # a page-list source's max_pages when unset


def _count_or_unset(v: int | None) -> str | None:
    return None if v is None else positive(v)


@frozen
class RemoteSource:
    """A web page listing releases, or an RSS/Atom/JSON feed, polled on its own schedule."""

    name: str = check(plain_name)
    kind: str = check(one_of(*SOURCE_KINDS))
    url: str = check(http_url)
    enabled: bool = True
    interval: int = check(seconds_up_to(MAX_SECONDS), default=3600)  # seconds between polls
    cron: str | None = instead_of("interval", default=None)  # a crontab line: "*/30 * * * *"
    timeout: float = check(seconds_up_to(3600), default=20.0)  # seconds to connect, and per read
    max_bytes: int = check(positive, default=2_000_000)  # a larger response is rejected
    # seconds between requests to one host
    delay: float = check(seconds_up_to(3600, zero=True), default=2.0)
    max_items: int = check(positive, default=30)  # article pages fetched per poll, at most
    # page-list only: listing pages read per poll at most, the first included; the next
    # page is read only while the last article link of a page is new (a catch-up).
    # Unset: ``MAX_PAGES``; set on a feed source, an error (it was ignored)
    max_pages: int | None = check(_count_or_unset, default=None)
    # "official": its releases are the official record; "mirror": a copy, which never
    # revises an entry an official page or a local file made. Unset: official for a
    # page-list source, or a feed on one of site.official_hosts; else mirror
    authority: str | None = check(_authority_kind, default=None)
    # page-list only: a preset, and selectors (XPath if starting with "/", "./" or "(",
    # else CSS) that override the preset's
    preset: str | None = None
    item_selector: str | None = None  # links to article pages on the listing page
    link_pattern: str | None = None  # a regex each article link's path must match
    title_selector: str | None = None
    date_selector: str | None = None
    body_selector: str | None = None

    @property
    def pages(self) -> int:
        """Listing pages read per poll at most (``max_pages``, else ``MAX_PAGES``)."""
        return MAX_PAGES if self.max_pages is None else self.max_pages

    def __repr__(self) -> str:  # the URL may carry credentials or a token
        return f"RemoteSource({self.name!r}, {self.kind!r}, {safe_url(self.url)!r})"

    def validate(self, key: str) -> None:
        if self.name == "local":
            raise ConfigError(f"{key}.name: 'local' names sources/ and scofeed add; pick another")
        if self.cron is not None and (problem := crontab_line(self.cron)):
            raise ConfigError(f"{key}.cron: {problem}")
        page_keys = ("preset", "item_selector", "link_pattern", "title_selector",
                     "date_selector", "body_selector")  # fmt: skip
        if self.kind == "feed":
            for k in (*page_keys, "max_pages"):
                if getattr(self, k) is not None:
                    raise ConfigError(f"{key}.{k}: only page-list sources take {k}")
            return
        if self.preset is not None and self.preset not in PAGE_PRESETS:
            raise ConfigError(
                f"{key}.preset: expected one of {', '.join(map(repr, PAGE_PRESETS))}, "
                f"got {self.preset!r}"
            )
        for k in ("item_selector", "title_selector", "date_selector", "body_selector"):
            value = getattr(self, k)
            if value is None:
                continue
            try:
                compile_selector(value)
            except ConfigError as exc:
                raise ConfigError(f"{key}.{k}: {exc}, got {value!r}") from None
        if self.link_pattern is not None:
            try:
                re.compile(self.link_pattern)
            except re.error as exc:
                raise ConfigError(
                    f"{key}.link_pattern: expected a regular expression ({exc})"
                ) from None
        if self.preset is None and self.item_selector is None and self.link_pattern is None:
            raise ConfigError(
                f"{key}.preset: a page-list source needs a preset, item_selector or link_pattern"
            )


def same_url(url: str) -> str:
    """What two source URLs that fetch the same thing have in common: scheme and host in
    lower case, no default port, '/' for an empty path, no fragment."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    user, at, host = parts.netloc.rpartition("@")
    host = host.lower().removesuffix({"http": ":80", "https": ":443"}.get(scheme, ":"))
    return urlunsplit((scheme, user + at + host, parts.path or "/", parts.query, ""))


def unique_names(v: tuple[RemoteSource | None, ...]) -> str | None:
    """Names and URLs unique: a source's HTTP cache (ETag, Last-Modified) is kept by its
    URL, so a second source of one URL was answered 304 and never took anything in.
    Every item is here, one with problems of its own as what of it could be read (a name
    or URL missing when it was not valid, None when it was not a table: see
    ``check``), so its duplicates are listed in the same run as its problems."""
    seen: set[str] = set()
    urls: dict[str, int] = {}
    problems = []  # each one, so that one `config check` lists them all
    for i, src in enumerate(v):
        name = getattr(src, "name", None)
        if name is not None:
            if name in seen:
                problems.append(f"sources[{i}].name: {name!r} is already the name of a source")
            seen.add(name)
        url = getattr(src, "url", None)
        if url is None:
            continue
        first = urls.setdefault(same_url(url), i)
        if first != i:
            problems.append(
                f"sources[{i}].url: {_source(name)} has the URL of "
                f"{_source(getattr(v[first], 'name', None))} (sources[{first}]); "
                "poll each URL from one source"
            )
    if problems:
        raise ConfigError("\n".join(problems))
    return None


def _source(name: str | None) -> str:
    return "a source" if name is None else f"source {name!r}"
