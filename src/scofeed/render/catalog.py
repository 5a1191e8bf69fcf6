"""The feed layout: which sets of feeds exist and where each lives under feeds/.

One set is the main stream (``feeds/atom.xml``...), then one per language present
(``feeds/ru/atom.xml``...) and one per configured tag (``feeds/tags/security/atom.xml``...).
Everything that names a feed (publishing, the index and entry pages, OPML, webhook
payloads, WebSub topics) asks this module, so the layout is stated once. Pure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from scofeed.config import FEED_FILES, Config

# a language's own name, for feed titles when the config gives none
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "zh": "中文"}


@dataclass(frozen=True)
class FeedSet:
    key: str  # "main", "lang:ru", "tag:security"
    title: str
    prefix: str  # folder under feeds/ and under base_url: "", "ru/", "tags/security/"
    language: str | None = None  # entries of this language only
    tag: str | None = None  # entries with this tag only

    def path(self, fmt: str) -> str:
        """The feed's path relative to feeds/ (and to the site's base URL)."""
        return self.prefix + FEED_FILES[fmt]

    def url(self, cfg: Config, fmt: str) -> str:
        return cfg.site.base_url.rstrip("/") + "/" + self.path(fmt)


def main_set(cfg: Config) -> FeedSet:
    return FeedSet("main", cfg.site.title, "")


def language_set(cfg: Config, language: str) -> FeedSet:
    name = LANGUAGE_NAMES.get(language, language)
    return FeedSet(
        f"lang:{language}", f"{cfg.site.title} ({name})", f"{language}/", language=language
    )


def tag_set(cfg: Config, tag: str) -> FeedSet:
    return FeedSet(f"tag:{tag}", f"{cfg.site.title}: {tag}", f"tags/{tag}/", tag=tag)


def feed_sets(cfg: Config, languages: Iterable[str]) -> list[FeedSet]:
    """Every set of feeds: main first, then each language present, then each tag of
    the config's [tags] table, each group sorted by name."""
    return (
        [main_set(cfg)]
        + [language_set(cfg, lang) for lang in sorted(set(languages))]
        + [tag_set(cfg, tag) for tag in sorted(cfg.tags)]
    )
