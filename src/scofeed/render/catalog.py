"""The feed layout: which sets of feeds exist and where each lives under feeds/.

One set is the main stream (``feeds/atom.xml``...), then one per language present
(``feeds/ru/atom.xml``..., the folder and titles from ``[feeds.languages.<code>]``;
an entry in 'az-Arab' is in the 'az' feeds: ``set_language``)
and one per tag (``feeds/tags/security/atom.xml``...): the tags of ``[tags]``, and with
``feeds.metadata_tags`` every tag given in a release's metadata. A tag's folder is its
``tag_slug`` (letters and digits of any script and '-'; never '.', '/' or '..'); two tags
with one slug share a feed. The main set also has RFC 5005 archive pages, one per month
(``feeds/archive/2025-03/atom.xml``), and ``feeds/feeds.opml`` lists every feed.

Everything that names a feed (publishing, the index and entry pages, OPML, webhook
payloads, WebSub topics) asks this module, so the layout is stated once. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import field
from datetime import datetime
from urllib.parse import quote

from scofeed.config import FEED_FILES, Config, tag_slug
from scofeed.config.schema import LANGUAGE_DEFAULTS, SITE_TITLE
from scofeed.frozen import frozen

# a language's own name, for feed titles when neither the config nor the defaults give one
LANGUAGE_NAMES = {"en": "English", "ru": "Русский", "zh": "中文"}
OPML_FILE = "feeds.opml"
ARCHIVE_DIR = "archive"
# the formats with archive pages: RFC 5005's links in Atom and RSS, JSON Feed's next_url
# (the next older page) in JSON; only the XML formats state a complete feed (fh:complete)
ARCHIVE_FORMATS = ("atom", "rss", "json")
COMPLETE_FORMATS = ("atom", "rss")
MONTH = re.compile(r"\d{4}-\d{2}")
SELF_TYPES = {
    "atom": "application/atom+xml",
    "rss": "application/rss+xml",
    "json": "application/feed+json",
}


@frozen
class FeedSet:
    """One set of entries published as feeds: the main one, a language's or a tag's."""

    key: str  # "main", "lang:ru", "tag:security"
    title: str
    prefix: str  # folder under feeds/ and under base_url: "", "ru/", "tags/security/"
    language: str | None = None  # entries of this language only
    tag: str | None = None  # entries with a tag of this slug only
    description: str = ""
    archived: bool = False  # has RFC 5005 archive pages
    # the language the title is written in, when it is not the site's: a language's own
    # title (configured, or a default of LANGUAGE_DEFAULTS), so pages mark it with lang
    title_language: str | None = None

    def path(self, fmt: str) -> str:
        """The feed's path relative to feeds/ (and to the site's base URL)."""
        return self.prefix + FEED_FILES[fmt]

    def url(self, cfg: Config, fmt: str) -> str:
        return _url(cfg, self.path(fmt))

    def archive_path(self, month: str, fmt: str) -> str:
        """The archive page of ``month`` ('2025-03'), relative to feeds/."""
        return f"{self.prefix}{ARCHIVE_DIR}/{month}/{FEED_FILES[fmt]}"

    def archive_url(self, cfg: Config, month: str, fmt: str) -> str:
        return _url(cfg, self.archive_path(month, fmt))

    def home(self, cfg: Config) -> str:
        """The web page the set's feeds stand for (their ``alternate`` link, JSON Feed's
        ``home_page_url``, OPML's ``htmlUrl``): a tag's page (``tags/<slug>/``, served
        by ``serve``), else the site's index."""
        return _url(cfg, self.prefix) if self.tag is not None else cfg.site.home

    def feed_id(self, cfg: Config) -> str:
        """The set's own Atom id, shared by its archive pages (one logical feed). A tag
        URI (RFC 4151) holds URI characters only: a slug in another script
        (``энергетика``) is percent-encoded, as in the feed's address."""
        base = f"tag:{cfg.site.id_authority}:feed"
        return base if self.key == "main" else f"{base}:{quote(self.key, safe=':')}"

    def lang(self, cfg: Config) -> str:
        return self.language or cfg.site.language

    def holds(self, cfg: Config, language: str, slugs: Iterable[str]) -> bool:
        """Whether an entry of this language (its tag) and these tag slugs belongs here."""
        if self.language is not None:
            return set_language(cfg, language) == self.language
        if self.tag is not None:
            return tag_slug(self.tag) in slugs
        return True


def _url(cfg: Config, path: str) -> str:
    return cfg.site.base_url.rstrip("/") + "/" + quote(path)


def main_set(cfg: Config) -> FeedSet:
    site = cfg.site
    return FeedSet("main", site.title, "", description=site.description,
                   archived=cfg.feeds.archives)  # fmt: skip


def set_language(cfg: Config, language: str) -> str:
    """The language whose feeds an entry in ``language`` (a tag) is in: ``site.language``
    as it is written ('pt-BR' on a site in Brazilian Portuguese), else the tag's code: an
    entry in 'az-Arab', 'az-Latn' or 'az-AZ' is in the 'az' feeds (folder ``az/``, its
    ``[feeds.languages.az]``), each entry marked with its own tag (Atom ``xml:lang``,
    JSON Feed ``language``), as one in 'zh-Hant' is in the 'zh' feeds. Every entry is
    in the set its language's code put it in before tags kept their script and region.
    Tags are compared without case (RFC 5646 2.1.1): a release stating 'pt-BR' (its
    canonical case, as stored) is in the set of a site.language written 'pt-br'."""
    if language.lower() == cfg.site.language.lower():
        return cfg.site.language
    return language.partition("-")[0]


def language_set(cfg: Config, language: str) -> FeedSet:
    """The set of feeds of ``language``: a code or ``site.language`` (``set_language``)."""
    own = cfg.feeds.languages.get(language)
    stock = LANGUAGE_DEFAULTS.get(language) if cfg.site.title == SITE_TITLE else None
    default_title, default_description = stock or (
        f"{cfg.site.title} ({LANGUAGE_NAMES.get(language, language)})",
        cfg.site.description,
    )
    title = own.title if own and own.title else default_title
    description = own.description if own and own.description else default_description
    folder = own.path if own and own.path else language
    own_title = bool(own and own.title) or stock is not None
    return FeedSet(f"lang:{language}", title, f"{folder}/", language=language,
                   description=description,
                   title_language=language if own_title else None)  # fmt: skip


def tag_set_prefix(tag: str) -> str:
    """A tag's folder, of its feeds (when it has some) and of its page (``serve``)."""
    return f"tags/{tag_slug(tag)}/"


def tag_set(cfg: Config, tag: str) -> FeedSet:
    slug = tag_slug(tag)
    return FeedSet(f"tag:{slug}", f"{cfg.site.title}: {tag}", tag_set_prefix(tag), tag=tag,
                   description=f"{cfg.site.description} Tag: {tag}.")  # fmt: skip


def tag_names(cfg: Config, metadata_tags: Iterable[str] = ()) -> list[str]:
    """The tags that have feeds, one per slug: [tags] first, then (when configured)
    metadata tags whose slug is new; sorted by slug."""
    chosen: dict[str, str] = {tag_slug(t): t for t in cfg.tags}
    if cfg.feeds.metadata_tags:
        for t in sorted(set(metadata_tags)):
            slug = tag_slug(t)
            if slug and slug not in chosen:
                chosen[slug] = t
    return [chosen[s] for s in sorted(chosen)]


def feed_sets(
    cfg: Config, languages: Iterable[str], metadata_tags: Iterable[str] = ()
) -> list[FeedSet]:
    """Every set of feeds: main first, then each language present, then each tag
    (``tag_names``), each group sorted by name."""
    return (
        [main_set(cfg)]
        + [language_set(cfg, lang) for lang in sorted({set_language(cfg, t) for t in languages})]
        + [tag_set(cfg, tag) for tag in tag_names(cfg, metadata_tags)]
    )


def sets_of(cfg: Config, language: str, tags: Iterable[str]) -> list[FeedSet]:
    """The sets one entry appears in: main, its language's, and its tags' (those with feeds)."""
    tags = list(tags)
    slugs = {tag_slug(t) for t in tags}
    named = [t for t in tag_names(cfg, tags) if tag_slug(t) in slugs]
    own = language_set(cfg, set_language(cfg, language))
    return [main_set(cfg), own] + [tag_set(cfg, t) for t in named]


@frozen
class Head:
    """What a rendered document says about itself: id, titles, language, its own URL,
    the RFC 5005 links (rel, href), whether it is an archive page, whether it is a
    complete feed (RFC 5005 section 2: it holds every entry, so it has no archives), and
    when an entry of its set was last withdrawn or restored (a subscription feed's date
    is never older: a feed whose entries were all withdrawn says when that happened)."""

    id: str
    title: str
    description: str
    language: str
    self_url: str
    links: tuple[tuple[str, str], ...] = ()
    archive: bool = False
    complete: bool = False
    # not in the repr, which publish keys every file on (a new field there would change
    # every archive page's key, so re-render them all once): plan() adds it to the keys
    # of the subscription feeds that have one
    last_withdrawal: datetime | None = field(default=None, repr=False)
    # a subscription feed with no entry and no withdrawal: since when it is published so,
    # its date (not in the repr either: plan() keys those feeds on it)
    empty_since: datetime | None = field(default=None, repr=False)
    # the web page the feed stands for (``FeedSet.home``); not in the repr: plan() keys
    # the subscription feeds on it, and an archive page's is the site's (in every key)
    home: str = field(default="", repr=False)


def head(
    cfg: Config,
    fs: FeedSet,
    fmt: str,
    newest_month: str | None = None,
    complete: bool = False,
    last_withdrawal: datetime | None = None,
    empty_since: datetime | None = None,
) -> Head:
    """The head of a set's subscription feed; ``newest_month`` its prev-archive, or
    ``complete`` when the feed holds all there is (no archive pages then);
    ``last_withdrawal`` when an entry of the set was last withdrawn, if one is;
    ``empty_since`` when it has neither entries nor a withdrawal: its date."""
    links: tuple[tuple[str, str], ...] = ()
    if fs.archived and newest_month and fmt in ARCHIVE_FORMATS:
        links = (("prev-archive", fs.archive_url(cfg, newest_month, fmt)),)
    return Head(fs.feed_id(cfg), fs.title, fs.description, fs.lang(cfg), fs.url(cfg, fmt), links,
                complete=complete and fmt in COMPLETE_FORMATS, last_withdrawal=last_withdrawal,
                empty_since=empty_since, home=fs.home(cfg))  # fmt: skip


def archive_head(
    cfg: Config,
    fs: FeedSet,
    fmt: str,
    month: str,
    older: str | None,
    newer: str | None,
    last_withdrawal: datetime | None = None,
) -> Head:
    """The head of one archive page: ``current`` is the subscription feed, prev/next
    the neighbouring months that have entries; ``last_withdrawal`` when an entry of the
    month was last withdrawn, if one is (the page's date never precedes it)."""
    links = [("current", fs.url(cfg, fmt))]
    if older:
        links.append(("prev-archive", fs.archive_url(cfg, older, fmt)))
    if newer:
        links.append(("next-archive", fs.archive_url(cfg, newer, fmt)))
    title = f"{fs.title} ({month})"
    return Head(fs.feed_id(cfg), title, fs.description, fs.lang(cfg),
                fs.archive_url(cfg, month, fmt), tuple(links), archive=True,
                last_withdrawal=last_withdrawal)  # fmt: skip
