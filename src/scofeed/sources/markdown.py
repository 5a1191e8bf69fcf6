"""Markdown releases: optional front matter, then a Markdown body.

Front matter is TOML between ``+++`` lines or YAML between ``---`` lines (read with
PyYAML's safe loader, on libyaml when PyYAML has it; a date or integer Python cannot
make kept as text for its key's check; tags, anchors and aliases are refused, so no
object is built and no "billion laughs" expansion happens; nesting deeper than
``YAML_MAX_DEPTH`` is refused). Without a ``title`` key, a heading that opens the body
is the title. The body is rendered to HTML with markdown-it-py (sanitised by normalise)
and its visible text becomes the plain-text paragraphs.
"""

from __future__ import annotations

import html
import importlib
import logging
import re
import tomllib
from collections.abc import Callable
from datetime import datetime
from typing import Any

import yaml
from markdown_it import MarkdownIt

from scofeed.dates import LINE_CONTEXT, find_dates
from scofeed.errors import RejectedInput
from scofeed.markup import (
    MAX_ATTRIBUTES,
    TOO_MANY_ATTRIBUTES,
    closed_raw_text,
    most_attributes,
    tag,
)
from scofeed.model import Release
from scofeed.patterns import later
from scofeed.sources.meta import html_paragraphs, readable, release_from_meta
from scofeed.sources.text import without_furniture_at_end

log = logging.getLogger(__name__)

FRONT_MATTER_MAX = 64_000
_FENCES = {"+++": ("+++",), "---": ("---", "...")}

_md = MarkdownIt("commonmark").enable("table")


def _inline_html(_self: Any, tokens: list[Any], idx: int, _options: Any, _env: Any) -> str:
    """Raw inline HTML as markup only when it is markup by ``markup.tag`` (an element of
    HTML, a tag with an attribute given a value, a comment), else as the text it is:
    CommonMark reads any ``<name words>`` as a tag, and "x<y and y>z" in a heading lost
    "y and y" from the title (and "SCO <Digital> Forum" its word), where a .txt release
    keeps them."""
    content = tokens[idx].content
    return content if tag().fullmatch(content) else html.escape(content, quote=False)


_md.add_render_rule("html_inline", _inline_html)


def split_front_matter(origin: str, text: str) -> tuple[str | None, str, str]:
    """(fence, front matter, body); fence is None when the file has no front matter."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    first, _sep, rest = text.partition("\n")
    fence = first.strip()
    if fence not in _FENCES:
        return None, "", text
    lines = rest.split("\n")
    for i, line in enumerate(lines):
        if line.strip() in _FENCES[fence]:
            return fence, "\n".join(lines[:i]), "\n".join(lines[i + 1 :])
    raise RejectedInput(origin, f"front matter opened with {fence!r} is never closed")


YAML_MAX_DEPTH = 32  # nested lists and tables in front matter
_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
# libyaml's parser, which PyYAML's wheels carry: the pure-Python one took ~1.4 ms to read
# a five-line front matter, twice what normalising the release takes (a cold build of
# 10,000 Markdown releases spent 40% of its time there). A PyYAML built without libyaml
# has no CSafeLoader: its own parser then reads the same way, only slower.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """``yaml.SafeLoader``, except that a scalar PyYAML's resolver takes for a date or
    an integer but Python cannot make one of (``2023-02-30``, ``T25:00``, an integer of
    more than 4,300 digits) stays the text it is, instead of a ValueError that names no
    key: the key's own check then says what is wrong with it (``'date' must be a date
    like ...``, as for the same text in JSON), and a key scofeed does not read is
    ignored, whatever it holds."""


def _or_text(construct: Callable[[Any, yaml.ScalarNode], object]) -> Any:
    def run(loader: Any, node: yaml.ScalarNode) -> object:
        try:
            return construct(loader, node)
        except ValueError:
            return loader.construct_scalar(node)

    return run


def _number_as_written(loader: Any, node: yaml.ScalarNode) -> object:
    """An integer written plainly (``12``) is one; any other number YAML 1.1 reads
    stays the text it is: ``id: 0012`` was 10 (octal), the id of another release,
    ``0x1F`` 31, and ``2024.5`` or ``1e3`` a float, refused as an id."""
    text = loader.construct_scalar(node)
    if _PLAIN_INT.fullmatch(text):
        return _or_text(yaml.SafeLoader.construct_yaml_int)(loader, node)
    return text


_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp", _or_text(yaml.SafeLoader.construct_yaml_timestamp)
)
_Loader.add_constructor("tag:yaml.org,2002:int", _number_as_written)
_Loader.add_constructor("tag:yaml.org,2002:float", _number_as_written)


def _yaml(origin: str, text: str) -> Any:
    """The front matter's value, after one pass over its parse events has refused tags,
    anchors and aliases, and nesting deeper than ``YAML_MAX_DEPTH``: what ``load`` then
    builds is plain data, of a size the text bounds."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, _OPEN):
                depth += 1
                if depth > YAML_MAX_DEPTH:
                    raise RejectedInput(
                        origin, f"front matter nested too deeply (limit {YAML_MAX_DEPTH})"
                    )
            elif isinstance(event, _CLOSE):
                depth -= 1
            if getattr(event, "tag", None) is not None:
                raise RejectedInput(origin, "YAML tags (!...) are not allowed in front matter")
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise RejectedInput(
                    origin, "YAML anchors and aliases are not allowed in front matter"
                )
        return yaml.load(text, Loader=_Loader)  # a safe loader: no object is built
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 2}" if where is not None else ""
        raise RejectedInput(origin, f"front matter is not valid YAML{at}") from None
    except RecursionError:
        raise RejectedInput(origin, "front matter nested too deeply") from None
    except RejectedInput:  # a ValueError too (errors.py): the checks' own, as they are
        raise
    except ValueError:  # PyYAML's own parser on an escape past U+10FFFF ("\U00110000")
        raise RejectedInput(origin, "front matter is not valid YAML") from None


def parse_front_matter(origin: str, fence: str | None, text: str) -> dict[str, Any]:
    if fence is None or not text.strip():
        return {}
    if len(text.encode()) > FRONT_MATTER_MAX:
        raise RejectedInput(origin, f"front matter too large (limit {FRONT_MATTER_MAX} bytes)")
    if fence == "+++":
        try:
            meta: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RejectedInput(origin, f"front matter is not valid TOML ({exc})") from None
    else:
        meta = _yaml(origin, text)
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise RejectedInput(origin, "front matter must be a table of keys and values")
    return meta


# Line breaks and the characters CommonMark gives a meaning to (emphasis, links and
# images, code, raw HTML, entities, escapes, headings, list, quote and table markers):
# markdown-it's time grows with them, not with plain text. A long release has a few
# thousand; 400 kB of "![" or of "- - - a" lines took 5 s or more (the per-file budget)
# in markdown-it's link-label and list rules. Refused before markdown-it sees them.
MAX_MARKS = 50_000
_MARKS = "\n[]!*_`<>&|\\#-+=.)~"


def check_marks(origin: str, body: str) -> None:
    """Refuse ``body`` when it holds more than ``MAX_MARKS`` marks: a count by
    ``str.count``, some milliseconds for 2 MB; a body shorter than the limit cannot
    exceed it and is not counted."""
    if len(body) <= MAX_MARKS:
        return
    marks = sum(body.count(c) for c in _MARKS)
    if marks > MAX_MARKS:
        raise RejectedInput(
            origin,
            f"Markdown with {marks:,} markup characters and line breaks "
            f"(limit {MAX_MARKS:,}; a long release has a few thousand)",
        )


def render(origin: str, body: str, want_title: bool) -> tuple[str | None, str]:
    """(title taken from an opening heading, or None; the body as HTML). A lesser
    heading right above an opening ``# heading`` is a section's label over it ("## Press
    release"): it was the title and the headline went into the body; it is left out.
    HTML with an element of too many attributes (``markup.MAX_ATTRIBUTES``) is refused
    before lxml reads it, as markdown-it renders it: raw HTML goes through as it is,
    and a "<" in prose ("write to <press@sco.example") comes out escaped, no tag."""
    env: dict[str, Any] = {}
    tokens = _md.parse(body, env)
    for _ in range(RAW_BLOCK_PASSES):
        lines = _open_raw_blocks(tokens)
        if not lines:
            break
        body = _escaped_lines(body, lines)
        env = {}
        tokens = _md.parse(body, env)
    _refuse_expanding_links(origin, tokens, env, len(body))
    title = None
    if (
        want_title
        and len(tokens) >= 6
        and tokens[0].type == "heading_open"
        and tokens[0].tag != "h1"
        and tokens[3].type == "heading_open"
        and tokens[3].tag == "h1"
    ):
        # a label goes ("## Press release No. 45"); a date or a dateline ("## 12 March
        # 2025", "## Beijing, 12 March 2025") is the release's: it stays in the body
        label = tokens[1].content
        dated = any(c.isdigit() for c in label) and bool(find_dates(label, LINE_CONTEXT))
        tokens = [*tokens[3:6], *tokens[:3], *tokens[6:]] if dated else tokens[3:]
    if want_title and len(tokens) >= 3 and tokens[0].type == "heading_open":
        inline = closed_raw_text(_md.renderInline(tokens[1].content))
        _refuse_many_attributes(origin, inline)
        title = " ".join(html_paragraphs(inline)) or None
        if title is not None:
            tokens = tokens[3:]
    for token in tokens:  # the title is the page's one h1: a heading of the body is below it
        if token.tag == "h1" and token.type in ("heading_open", "heading_close"):
            token.tag = "h2"
    html = closed_raw_text(_md.renderer.render(tokens, _md.options, {}))
    _refuse_many_attributes(origin, html)
    return title, html


# A raw-text start tag written as a word ("the <script> tag is banned") and never
# closed took the rest of the release with it (``markup.closed_raw_text`` shows it as
# text, as a .txt release does). CommonMark made it worse for a line opening with
# <script>, <style> or <textarea> (an HTML block of kind 1, to its end tag): the rest
# of the document was that block, its Markdown never read.
_RAW_BLOCK_START = later(r"<(script|style|textarea)(?=[\s>]|$)", re.IGNORECASE)
_RAW_BLOCK_END = later(r"</(?:script|pre|style|textarea)>", re.IGNORECASE)
RAW_BLOCK_PASSES = 4  # an unclosed block read anew may hold another: more is hostile


def _open_raw_blocks(tokens: list[Any]) -> list[int]:
    """The first lines of the HTML blocks of kind 1 that no end tag closes (each ran to
    the end of the document, or of the list item or quote holding it)."""
    return [
        t.map[0]
        for t in tokens
        if t.type == "html_block"
        and t.map
        and _RAW_BLOCK_START().match(t.content.lstrip(" "))
        and not _RAW_BLOCK_END().search(t.content)
    ]


def _escaped_lines(body: str, lines: list[int]) -> str:
    """``body`` with the first "<" of each of ``lines`` escaped ("\\<"): that line is
    then a paragraph, and the lines after it the Markdown they are."""
    rows = body.split("\n")
    for n in lines:
        if n < len(rows) and "<" in rows[n]:
            at = rows[n].index("<")
            rows[n] = rows[n][:at] + "\\" + rows[n][at:]
    return "\n".join(rows)


# what the addresses of references may add up to, written out in the HTML: a reference
# ("[x]: URL") is written out in full at each use ("[x]", three characters), so 12,000
# uses of one to a 100 KB address rendered 1.2 GB (2.4 GB of memory, past the time
# budget) from a 148 KB file. Inline links are not counted: their addresses are in the
# text already (percent-encoded, a Cyrillic or Chinese one is 6 or 9 times as long)
LINKS_OVER_TEXT = 2
LINKS_SLACK = 64 * 1024


def _refuse_expanding_links(origin: str, tokens: list[Any], env: dict[str, Any], text: int) -> None:
    """Refuse Markdown whose references, written out at each of their uses, come to
    more than ``LINKS_OVER_TEXT`` times its text (and ``LINKS_SLACK``), before it is
    rendered."""
    refs = {str(r.get("href") or "") for r in (env.get("references") or {}).values()}
    if not refs:
        return
    limit = LINKS_OVER_TEXT * text + LINKS_SLACK
    total = 0
    for token in tokens:
        for t in token.children or ():
            if t.type in ("link_open", "image"):
                href = str(t.attrs.get("href") or t.attrs.get("src") or "")
                if href in refs:
                    total += len(href)
        if total > limit:
            raise RejectedInput(
                origin,
                f"Markdown whose references would be written out to over {limit:,} "
                f"characters (its text has {text:,}): a reference used thousands of times",
            )


def _refuse_many_attributes(origin: str, html: str) -> None:
    if most_attributes(readable(html)) > MAX_ATTRIBUTES:  # as html_paragraphs reads it
        raise RejectedInput(origin, TOO_MANY_ATTRIBUTES)


CREDIT_MAX = 120  # characters of a paragraph that may be a photo's credit, at most


def _from_the_text(paragraphs: list[str]) -> list[str]:
    """The text's paragraphs from its first that is no page furniture: a body opening
    with an image and its credit ("*Photo: SCO Secretariat*") had that credit for its
    summary and first paragraph (the HTML keeps it, under its image). Only a short
    first paragraph is asked (``text.without_furniture_at_end`` says why)."""
    if len(paragraphs) < 2 or len(paragraphs[0]) > CREDIT_MAX:
        return paragraphs
    furniture = importlib.import_module("scofeed.sources.furniture")
    start = 0
    while (
        start + 1 < len(paragraphs)
        and len(paragraphs[start]) <= CREDIT_MAX
        and furniture.is_furniture_line(paragraphs[start])
    ):
        start += 1
    return paragraphs[start:]


def read_markdown(origin: str, text: str, context: datetime | None) -> list[Release]:
    fence, front, body = split_front_matter(origin, text)
    meta = parse_front_matter(origin, fence, front)
    check_marks(origin, body)
    heading, html = render(origin, without_furniture_at_end(body), want_title=not meta.get("title"))
    if heading is not None:
        meta = {**meta, "title": heading}
    paragraphs = _from_the_text(html_paragraphs(html))
    plain = "\n\n".join(paragraphs)
    if not re.search(r"\w", plain) and not meta.get("title"):
        raise RejectedInput(origin, "no title and no text")
    return [release_from_meta(origin, meta, plain, html, context)]
