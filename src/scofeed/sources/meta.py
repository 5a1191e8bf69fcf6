"""Release metadata shared by the structured formats (Markdown front matter, JSON).

The keys are the same everywhere: ``title``, ``date``, ``updated``, ``url``, ``tags``,
``lang``, ``id``, ``withdrawn`` (true / false, or the reason as text) and
``withdrawn_reason``. A wrong type or value rejects the input with the key's name;
keys scofeed does not know are ignored (front matter written for other tools often
carries more). ``html_paragraphs`` turns an HTML body into the plain-text paragraphs
that ``Release.text`` must always hold.
"""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

from scofeed.dates import parse_stamp
from scofeed.digest import sha256
from scofeed.errors import RejectedInput
from scofeed.languages import language_tag
from scofeed.markup import holds
from scofeed.model import Release
from scofeed.normalise.text import UNSHOWABLE, join_wraps

log = logging.getLogger(__name__)

KEYS = ("title", "date", "updated", "url", "tags", "lang", "id", "withdrawn", "withdrawn_reason")
_BLOCK_TAGS = {
    "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
    "table", "tr", "dl", "dt", "dd", "figure", "figcaption", "section", "article",
    "header", "footer", "aside", "hr", "main", "center", "address", "nav", "details",
    "summary",
}  # fmt: skip
# a table's row is one paragraph, its cells parted by " | ": a cell a paragraph, a table
# of three rows took six of the paragraphs the date is looked for in, and one opening
# the release made its summary "Country"
_CELL_TAGS = {"td", "th"}
# what lxml refuses, and lone surrogates (a JSON "\ud800" escape) that no encoding carries
_NOT_XML = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff{UNSHOWABLE}]")
_DROP_TAGS = ("script", "style", "template", "noscript", "iframe", "object", "embed", "svg")


def _when(origin: str, key: str, value: Any) -> datetime | None:
    """A metadata date: TOML/YAML date or datetime, or an ISO 8601 string. A date-only
    value stays naive at midnight (normalise puts it in the configured time zone)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None  # as an empty url, id, tags or title is none
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0))
    if isinstance(value, str) and (found := parse_stamp(value)) is not None:
        return found
    raise RejectedInput(
        origin, f"{key!r} must be a date like 2020-06-03 or 2020-06-03T10:30:00+08:00"
    )


def _string(origin: str, key: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RejectedInput(origin, f"{key!r} must be a string")
    text = _NOT_XML.sub("", str(value)).strip()
    return text or None


def _url(origin: str, value: Any) -> str | None:
    text = _string(origin, "url", value)
    if text is None:
        return None
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise RejectedInput(origin, "'url' must be an http:// or https:// address")
    return text


def _tags(origin: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise RejectedInput(origin, "'tags' must be a list of strings")
    clean = (_NOT_XML.sub("", t).strip() for t in value)
    return tuple(dict.fromkeys(t for t in clean if t))


def _lang(origin: str, value: Any) -> str | None:
    text = _string(origin, "lang", value)
    if text is None:
        return None
    # a well-formed tag, as a page's lang is read (``language_tag``): its variant,
    # extension or private use ("en-US-x-sco") is left out there, not refused here
    if language_tag(text) is None:
        raise RejectedInput(origin, f"'lang' must be a language tag like 'en', got {text!r}")
    # a language tag is read in any case (BCP 47 2.1.1): "EN", "Ru" and "EN-us" are en, ru
    primary, dash, rest = text.partition("-")
    return primary.lower() + dash + rest


_SAID_NO = frozenset({"false", "no", "off", "0"})
_SAID_YES = frozenset({"true", "yes", "on", "1"})


def _withdrawn(origin: str, meta: dict[str, Any]) -> tuple[bool | None, str]:
    """``withdrawn``: true / false (or as text: "false", "no", "true", "yes"...), or a
    non-empty text (withdrawn, the text its reason); ``withdrawn_reason`` gives the
    reason beside ``withdrawn: true``."""
    value = meta.get("withdrawn")
    reason = _string(origin, "withdrawn_reason", meta.get("withdrawn_reason")) or ""
    if value is None or isinstance(value, bool):
        return value, reason
    # a text of only what no reason can hold ("\u0000", as "  ") is none: it withdrew the
    # release with an empty reason
    said = _string(origin, "withdrawn", value) if isinstance(value, str) else None
    # a pipeline that writes every value as text: "false" withdrew the release, its
    # reason "false"
    if said and said.casefold() in _SAID_NO:
        return False, reason
    if said and said.casefold() in _SAID_YES:
        return True, reason
    if said:
        return True, reason or said
    raise RejectedInput(origin, "'withdrawn' must be true, false or the reason as text")


def release_from_meta(
    origin: str,
    meta: dict[str, Any],
    text: str,
    html: str | None,
    context: datetime | None,
) -> Release:
    """A release from validated metadata, plain-text paragraphs and an optional HTML body."""
    if not isinstance(meta, dict):
        raise RejectedInput(origin, "metadata must be a table of keys and values")
    withdrawn, reason = _withdrawn(origin, meta)
    return Release(
        origin=origin,
        text=text,
        title=_string(origin, "title", meta.get("title")),
        html=html,
        published=_when(origin, "date", meta.get("date")),
        updated=_when(origin, "updated", meta.get("updated")),
        url=_url(origin, meta.get("url")),
        tags=_tags(origin, meta.get("tags")),
        lang=_lang(origin, meta.get("lang")),
        key=_string(origin, "id", meta.get("id")),
        context_date=context,
        withdrawn=withdrawn,
        withdrawn_reason=reason,
    )


def readable(fragment: str) -> str:
    """An HTML fragment as ``html_paragraphs`` gives it to lxml: without what XML cannot
    carry (``markup.most_attributes`` counts what lxml will read)."""
    return _NOT_XML.sub("", fragment)


def html_paragraphs(fragment: str) -> list[str]:
    """The visible text of an HTML body as paragraphs, one per block element.
    Script, style and similar elements contribute nothing."""
    fragment = readable(fragment)
    if not fragment.strip():
        return []
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return []
    except (AssertionError, IndexError):  # lxml: a document with no <body> ("<html>")
        return []
    doomed = [el for el in root.iter() if not isinstance(el.tag, str) or el.tag in _DROP_TAGS]
    for el in doomed:  # comments, processing instructions, scripts and the like
        if el.getparent() is not None:
            el.drop_tree()
    # the parser writes character references out ("&#1;" as U+0001), and lxml refuses
    # to be given back a text holding what XML cannot carry: such text is cleaned first
    for el in root.iter():
        if el.tag == "br":
            el.tail = " " + _NOT_XML.sub("", el.tail or "")
        elif el.tag in _BLOCK_TAGS:
            el.text = "\n\n" + _NOT_XML.sub("", el.text or "")
            el.tail = "\n\n" + _NOT_XML.sub("", el.tail or "")
        elif el.tag in _CELL_TAGS:
            # a cell holding paragraphs of its own is parted by them, as any block is
            blocks = holds(el, _BLOCK_TAGS)
            before = el.getprevious()
            inline = (
                before is not None and before.tag in _CELL_TAGS and not holds(before, _BLOCK_TAGS)
            )
            lead = " | " if inline else ""
            el.text = ("\n\n" if blocks else lead) + _NOT_XML.sub("", el.text or "")
            el.tail = ("\n\n" if blocks else " ") + _NOT_XML.sub("", el.tail or "")
    out = []
    for block in re.split(r"\n\s*\n", root.text_content()):
        para = " ".join(join_wraps(block).split())
        if para:
            out.append(para)
    return out


def said_name(*said: str) -> str:
    """The name of a list or feed item that has no id or URL of its own, made of what it
    says (``sources.feed``: title, date and text; ``sources.jsonfile``: title and date):
    20 hex digits of their hash, the same for the same words wherever the item stands.
    Half a character (a JSON "\\udc80" escape in the text) is hashed as it stands: it
    failed the whole file with UnicodeEncodeError."""
    return sha256("\n".join(said).encode("utf-8", "surrogatepass")).hexdigest()[:20]
