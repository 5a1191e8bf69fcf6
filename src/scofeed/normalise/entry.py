"""Release -> Entry: the normalise stage put together. Pure: no I/O, no clock.

``normalise`` splits the release into title and body (``headline``), builds its HTML
(``sanitise``), dates it, declares its language and tags, and mints its id (``ids``).
The publication date and the event date are chosen by ``dating`` (metadata, then the
page's own date, then the text, then the file's date); date-stamp lines are taken out of
the text. Every value without a zone is put in the configured one (``site.timezone``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from scofeed.config.redact import logged
from scofeed.dates import aware, date_from_url
from scofeed.errors import NormaliseError
from scofeed.frozen import frozen
from scofeed.languages import language_tag
from scofeed.model import Entry, Release
from scofeed.normalise.dating import choose, day_in, plausible, take_stamps
from scofeed.normalise.headline import split_release
from scofeed.normalise.ids import (
    canonical_url,
    content_hash,
    entry_page,
    fingerprint,
    fingerprints,
    identity_of,
    mint_id,
    web_address,
)
from scofeed.normalise.language import detect_language
from scofeed.normalise.sanitise import (
    drop_heading,
    drop_lines,
    heading_keys,
    heading_levels,
    paragraphs_html,
    paragraphs_joined,
    sanitise,
    shows_nothing,
    spaced_once,
)
from scofeed.normalise.text import (
    SENTENCE_ENDS,
    collapse,
    compare_key,
    drop_invisible,
    list_item,
    plain,
    shorten,
    xml_safe,
)
from scofeed.render.links import untracked_links
from scofeed.typography import ascii_but_marks

log = logging.getLogger(__name__)

SUMMARY_MAX = 600
TAGS_MAX = 20  # tags a release states that are kept (the first ones)
TAG_MAX = 100  # characters of one tag, past which it is shortened


SUMMARY_LOOK = 6  # paragraphs looked at for one a summary may be made of
SHORT_LINE = 60  # characters of a paragraph that, not ending as a sentence, is no summary
_TABLE_CELLS = " | "  # how a table's row reads as text (``sources.blocks.row_text``)


def summarised(paras: list[str], headings: frozenset[str] = frozenset()) -> str:
    """The paragraph a summary is made of: the first among the first few that ends as
    a sentence (or leads into what follows with a colon), or is longer than a line and
    no table's row; the first if none. Passed over: a table's rows ("Country | Trade,
    bn USD"), a heading ("Key points"; in HTML or Markdown, one ending as a sentence
    too, "What happened?": ``headings``, their ``compare_key``), a date or view count
    under the headline ("18.03.2025 15:20 Views: 345"), a dateline ("Dushanbe, 22 April
    2025"), each once a release's summary, and a list's items (the last one, "-
    culture.", ended as a sentence) but for a communiqué's long numbered paragraphs."""
    for n, para in enumerate(paras[:SUMMARY_LOOK]):
        text = para.rstrip()
        if list_item(text) and (len(text) <= SHORT_LINE or not text[:1].isdigit()):
            continue  # an item; a communiqué's numbered paragraph ("1. The Heads ...") is text
        if headings and compare_key(text) in headings:
            continue
        if (
            text.endswith((":", "："))
            and n + 1 < len(paras)  # leads into what follows
            or text.endswith(SENTENCE_ENDS)
            or (len(text) > SHORT_LINE and _TABLE_CELLS not in text)
        ):
            return para
    return paras[0]


Rules = tuple[tuple[str, tuple[str, ...]], ...]  # [tags]: (tag, its keywords), by tag


@frozen
class Settings:
    """The parts of the configuration normalise needs; built once from Config."""

    authority: str
    base_url: str
    author: str
    language: str
    timezone: str
    tags: Rules = ()


def settings_from(cfg: object) -> Settings:
    site = cfg.site  # type: ignore[attr-defined]
    tags = tuple(sorted((k, tuple(v)) for k, v in cfg.tags.items()))  # type: ignore[attr-defined]
    return Settings(
        authority=site.id_authority,
        base_url=site.base_url,
        author=site.author,
        language=site.language,
        timezone=site.timezone,
        tags=tags,
    )


# scripts written without spaces between words: a keyword in them matches inside a run
_UNSPACED = ((0x3040, 0x30FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xAC00, 0xD7AF),
             (0xF900, 0xFAFF))  # fmt: skip


def _unspaced(char: str) -> bool:
    """``char`` (one character, or none) is in a script written without spaces."""
    return len(char) == 1 and any(lo <= ord(char) <= hi for lo, hi in _UNSPACED)


@functools.lru_cache(maxsize=1024)
def _delimited(word: str) -> tuple[bool, bool]:
    """Whether a letter may not touch the start, and the end, of ``word``: the same for
    every release, so judged once per keyword."""
    return not _unspaced(word[:1]), not _unspaced(word[-1:])


def _word_char(char: str) -> bool:
    """What ``\\w`` matches (for one character of a str)."""
    return char.isalnum() or char == "_"


def holds_keyword(folded: str, word: str) -> bool:
    """``word`` occurs in ``folded`` as a whole word: a letter, digit or "_" may not
    touch either end, unless that end is in a script without spaces (Chinese,
    Japanese), where words are not delimited. Each occurrence is found by a fast
    substring search and its two neighbours judged (a regex opening with a lookbehind
    tried every position of the text: ~30 us a keyword on a 2.5 KB release)."""
    head, tail = _delimited(word)
    at = folded.find(word)
    while at >= 0:
        end = at + len(word)
        if not (head and at > 0 and _word_char(folded[at - 1])) and not (
            tail and end < len(folded) and _word_char(folded[end])
        ):
            return True
        at = folded.find(word, at + 1)
    return False


def stated_tags(origin: str, given: tuple[str, ...]) -> list[str]:
    """The tags a release states, as plain text (a tag feed's title and an RSS category
    repeat them, and readers may show either as HTML): the first ``TAGS_MAX`` distinct
    ones, each shortened to ``TAG_MAX`` characters. A source stating thousands (a
    broken or hostile feed) would otherwise put them all in every feed's entry and,
    with ``feeds.metadata_tags``, give each a set of feeds."""
    clean = (" ".join(plain(drop_invisible(xml_safe(tag))).split()) for tag in given)
    tags = distinct_tags(shorten(t, TAG_MAX) for t in clean if t)
    if len(tags) > TAGS_MAX:
        log.info("tags_capped origin=%s kept=%d stated=%d", logged(origin), TAGS_MAX, len(tags))
    return tags[:TAGS_MAX]


def distinct_tags(tags: Iterable[str]) -> list[str]:
    """The tags, each once whatever its case, as first spelled: "Sport", "sport" and
    "SPORT" stated by one release were three categories in its feeds' entry (and one
    tag feed, which folds case)."""
    given = list(tags)
    if len(given) < 2:  # most releases: none, or one
        return given
    seen: dict[str, str] = {}
    for tag in given:
        seen.setdefault(_folded(tag), tag)
    return list(seen.values())


def match_tags(text: str, rules: Rules) -> list[str]:
    if not rules:
        return []
    return _matching(_folded(collapse(text)), rules)


def _folded(text: str) -> str:
    return text.lower() if text.isascii() else text.casefold()  # the same for ASCII, faster


@functools.lru_cache(maxsize=16)
def _keywords(rules: Rules) -> Rules:
    """The rules with each keyword case-folded and each run of white space in it one
    space: made once for a set of rules, not again for every release."""
    return tuple(
        (tag, tuple(" ".join(w.casefold().split()) for w in words)) for tag, words in rules
    )


def _matching(folded: str, rules: Rules) -> list[str]:
    """The tags of ``rules`` a text holds a keyword of, in the rules' order. ``folded``
    is case-folded, each run of white space one space (``collapse``): a keyword of
    several words matches across any white space between them (a line break in a
    paragraph, as a page's ``<br>`` gives), so the stored content, whose breaks are
    markup, is tagged as the text it was made from (``retagged_tags``)."""
    return [t for t, words in _keywords(rules) if any(holds_keyword(folded, w) for w in words)]


def _facts(
    title: str,
    summary: str,
    content: str,
    published: datetime,
    url: str | None,
    tags: list[str],
    language: str,
) -> dict[str, object]:
    """What an entry's content hash is made of (stored: these never change)."""
    return {
        "title": title,
        "summary": summary,
        "content": content,
        "published": published.isoformat(),
        # canonical_url, not url_key: a hash stays what it was when url_key's rule grew
        "url": canonical_url(url) if url else None,
        "tags": tags,
        "language": language,
    }


def read_alike(stored: Entry, fresh: Entry) -> bool:
    """Whether ``fresh`` says what ``stored`` says, but for what an older scofeed read
    otherwise: the spacing of its content's text (``sanitise.spaced_once``), and a
    summary it took from a heading ending as a sentence ("What happened?",
    ``summarised``), and the order of its tags (a re-tag's, ``retag``). Such an entry,
    read again (a page rechecked, a file re-read, the
    other items of a list file that gained one), is not edited: each such reading sent
    a correction of nothing to every subscriber."""
    content = stored.content_html
    summary = stored.summary
    published = stored.published
    tags = stored.tags
    if tags != fresh.tags and set(tags) == set(fresh.tags):  # a re-tag's order (``retag``)
        tags = fresh.tags
    if content != fresh.content_html:
        content = spaced_once(content)
        # a link's tracking parameters are shown nowhere (``render.links.shown``): a
        # text that differs in them alone ("?utm_campaign=a" now "=b", a page rechecked
        # daily) sent every subscriber a correction of nothing
        if content != fresh.content_html and untracked_links(content) == untracked_links(
            fresh.content_html
        ):
            content = fresh.content_html
        # text an older scofeed read as HTML, its paragraphs run together (a polled Atom
        # item of type="text": every one was sent out as corrected after the upgrade)
        if content != fresh.content_html and "<" not in content:
            joined = paragraphs_joined(fresh.content_html)
            if joined is not None and collapse(joined) == collapse(content):
                content = fresh.content_html
    if summary != fresh.summary and compare_key(summary) in heading_keys(stored.content_html):
        summary = fresh.summary
    if published != fresh.published and _read_as_utc(published, fresh.published):
        published = fresh.published
    if (content, summary, published, tags) == (
        stored.content_html, stored.summary, stored.published, stored.tags
    ):  # fmt: skip
        return False  # nothing an older reading explains: what differs is something else
    again = replace(stored, content_html=content, summary=summary, published=published, tags=tags)
    return _rehashed(again).content_hash == fresh.content_hash


def _read_as_utc(stored: datetime, fresh: datetime) -> bool:
    """Whether ``stored`` is ``fresh``'s time of day read in UTC: a feed item's date
    stating no zone ("25 Nov 2025", "2025-11-25T09:00:00"), which an older scofeed took
    for UTC, and this one reads in ``site.timezone`` (its first poll after the upgrade
    sent every such item out as corrected)."""
    same_clock = stored.replace(tzinfo=None) == fresh.replace(tzinfo=None)
    return same_clock and stored.utcoffset() == timedelta(0)


def _rehashed(entry: Entry) -> Entry:
    """``entry`` with its content hash made again from its fields."""
    facts = _facts(
        entry.title,
        entry.summary,
        entry.content_html,
        entry.published,
        entry.url,
        list(entry.tags),
        entry.language,
    )
    return replace(entry, content_hash=content_hash(facts))


def redated(entry: Entry, published: datetime, source: str) -> Entry:
    """``entry`` published at ``published`` (its date taken from ``source``), its
    content hash made again to match: what ``normalise`` gives with that date."""
    updated = published if entry.updated == entry.published else max(entry.updated, published)
    return _rehashed(replace(entry, published=published, updated=updated, date_source=source))


def retagged_tags(
    title: str,
    content_html: str,
    tags: tuple[str, ...],
    old: Rules,
    new: Rules,
    stated: tuple[str, ...] | None = None,
) -> tuple[str, ...]:
    """A stored entry's tags with the ``[tags]`` rules changed from ``old`` to ``new``, as
    ``normalise`` now gives them: the ones its release states first (``stated``, as
    stored), then those the new rules give its text. Where the stated ones are not known
    (an entry stored before they were kept) the tags the old rules gave are taken for
    theirs: a stated tag an old rule also gave is then lost with the rule. The text is
    read from what is stored, title and content with the markup dropped: the words
    ``normalise`` matched."""
    if not old and not new and stated is None:
        return tags
    folded = _folded(collapse(title + " " + plain(content_html)))
    if stated is None:
        given = _matching(folded, old)
        stated = tuple(t for t in tags if t not in given)
    return tuple(distinct_tags([*stated, *_matching(folded, new)]))


def with_language(entry: Entry, language: str) -> Entry:
    """The entry in this language, its content hash made again to match."""
    return _rehashed(replace(entry, language=language))


def with_tags(entry: Entry, tags: tuple[str, ...]) -> Entry:
    """The entry with these tags, its content hash made again to match."""
    return _rehashed(replace(entry, tags=tags))


def normalise(release: Release, settings: Settings, now: datetime) -> Entry:
    """Turn one release into one entry. Raises NormaliseError when it cannot."""
    if release.url is not None:
        address = web_address(release.url)
        if address is None:
            raise NormaliseError(
                f"{release.origin}: 'url' must be an absolute http:// or https:// address"
            )
        if address != release.url:
            release = replace(release, url=address)
    # told once (scofeed.typography): the title, the paragraphs and the chrome lines are
    # cut from the text, cleaned and collapsed (characters taken out, spaces put in), so
    # they are ASCII but for the typographic marks when it is and the title still is
    plain_text = ascii_but_marks(release.text)
    title, paras, chrome = split_release(release, plain_text)
    tz = settings.timezone
    ctx = day_in(release.context_date, tz) if release.context_date else None
    paras, preamble, stamps, stamp_lines = take_stamps(
        paras, chrome, date_from_url(release.url) or ctx
    )
    # plain-text fields (title, summary) carry no markup and no entity reference,
    # whatever the source (split_release gives the title so, cut after the markup is
    # out); a text release's content resolves its references and shows markup escaped
    if not title:
        raise NormaliseError(f"{release.origin}: no usable title")
    plain_parts = plain_text and ascii_but_marks(title)  # the title may be the release's own
    if release.html is not None:
        # the date stamps, and the chrome above the headline, are no body text
        content = drop_lines(sanitise(release.html), [*stamp_lines, *chrome])
        if not paras or compare_key(paras[0]) != compare_key(title):  # not made from it
            content = drop_heading(content, title)
        if paras and shows_nothing(content):  # its text came apart from its HTML (a feed
            content = paragraphs_html(paras)  # item's content_text): the text is shown
        content = heading_levels(content)  # last: a heading dropped above may leave a skip
    else:
        content = paragraphs_html(paras)
    if not paras and shows_nothing(content):
        raise NormaliseError(f"{release.origin}: the release has a title but no body")
    headings = heading_keys(content) if release.html is not None else frozenset()
    summary = (
        shorten(plain(summarised(paras, headings)), SUMMARY_MAX) if paras else title
    ) or title
    texts = [*preamble, *paras[:6], title]
    dates = choose(release, texts, stamps, tz, now, plain_parts, lead=len(preamble))
    published = dates.published
    updated = aware(release.updated, tz) if release.updated else published
    if not plausible(updated, now, release.origin, "updated"):
        updated = published
    # never after the moment it is read, as ``published`` (a stated time hours ahead
    # dated the entry, and the feed, ahead of the clock)
    seen = now.replace(microsecond=0).astimezone(updated.tzinfo)
    updated = max(min(updated, seen), published)
    whole = title + " " + " ".join(paras)  # made once: the language and the tags read it
    language = language_tag(release.lang) or detect_language(whole, settings.language, plain_parts)
    # stated tags are plain text like the title: a tag feed's title and RSS category
    # repeat them, and readers may show either as HTML
    stated = stated_tags(release.origin, release.tags)
    tags = distinct_tags([*stated, *match_tags(whole, settings.tags)])
    if plain_parts or (title.isascii() and (not paras or paras[0].isascii())):
        # nothing to fold (no mark is a letter or a digit, in NFKC either): spared for
        # an English release
        fp = folded = fingerprint(title, paras[0] if paras else "")
    else:
        fp, folded = fingerprints(title, paras[0] if paras else "")
    identity, _key = identity_of(release, fp)
    entry_id = mint_id(settings.authority, identity)
    link = release.url or entry_page(settings.base_url, entry_id)
    facts = _facts(title, summary, content, published, release.url, tags, language)
    return Entry(
        id=entry_id,
        title=title,
        summary=summary,
        content_html=content,
        published=published,
        updated=updated,
        author=settings.author,
        language=language,
        link=link,
        url=release.url,
        tags=tuple(tags),
        content_hash=content_hash(facts),
        fingerprint=fp,
        origin=release.origin,
        date_source=dates.source,
        event_date=dates.event,
        paragraphs=tuple(paras),
        year_guessed=dates.year_guessed,
        day_guessed=dates.day_guessed,
        event_guessed=dates.event_guessed,
        folded=folded,
        stated=tuple(stated),
    )
