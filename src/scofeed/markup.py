"""What counts as markup in text meant to be plain (a title, a summary, a feed's own
title): the rule ``normalise.plain`` takes tags out by and ``config`` refuses site
titles by, kept in one place below both.

A bare word between angle brackets is prose ("SCO <Digital> Forum"), and so is a "<"
in a sentence ("fell <a third", "x<y"), and words between a "<" and a ">" ("x<y and
y>z", "a<b and c>d"); a bare tag of HTML (``<b>``, ``</b>``, ``<br/>``), the start
tag of an element whose content is no text (``<script defer>``, ``<svg ...>``), any
tag with an attribute given a value (a browser runs the handlers of an unknown
element: ``<x onfocus=... autofocus>``), a comment, and a tag with an attribute left
unclosed are markup. Markdown's raw HTML is judged by the same
rule (``sources.markdown``): what is no markup here is text there too.

Below the rule, what the HTML readers ask of an lxml tree alike: whether an element
holds another (``holds``), containers made paragraphs (``paragraph_containers``), and
every element's text from one walk (``Texts``).
"""

from __future__ import annotations

import functools
import html
import itertools
import re
from collections.abc import Callable, Collection
from typing import Any

from scofeed.patterns import later

# the elements of HTML (with SVG's and MathML's roots and the obsolete ones readers
# still honour): a title or summary that renders as HTML somewhere must hold none of
# them, nor any tag with an attribute given a value (a browser runs the handlers of an
# unknown element: <x onfocus=... autofocus>); a bare word between angle brackets is
# prose ("SCO <Digital> Forum") and stays, and so do words ("x<y and y>z")
HTML_NAMES = (
    "a abbr acronym address applet area article aside audio b base basefont bdi bdo bgsound "
    "big blink blockquote body br button canvas caption center cite code col colgroup data "
    "datalist dd del details dfn dialog dir div dl dt em embed fieldset figcaption figure "
    "font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr html i iframe "
    "image img input ins isindex kbd keygen label legend li link listing main map mark "
    "marquee math menu menuitem meta meter multicol nav nextid nobr noembed noframes "
    "noscript object ol optgroup option output p param picture plaintext portal pre "
    "progress q rb rp rt rtc ruby s samp script search section select slot small source "
    "spacer span strike strong style sub summary sup svg table tbody td template textarea "
    "tfoot th thead time title tr track tt u ul var video wbr xmp"
).split()
# A tag runs to its ">" across any "<", as an HTML parser reads it. One left unclosed
# with an attribute ("SCO <img src=x onerror=alert(1) Forum") runs to the end of the
# text: a reader that puts the title in its own markup ("<h3>...</h3>") made an image
# with its handler of it. A "<" in prose ("fell <a third", "x<y") is no tag, closed or not
# the elements whose start tag is markup whatever follows its name: their text is not
# shown as text (script, style, the raw-text and template elements), or what they hold
# is another document (frames, objects, SVG and MathML)
ACTIVE_NAMES = (
    "applet embed frame frameset iframe math noembed noframes noscript object plaintext "
    "script style svg template textarea title xmp"
).split()
_NAMES = "|".join(HTML_NAMES)
_TAG = (
    r"<(?:[!?][^<>]*"  # a comment, a doctype, a processing instruction
    r"|/(?:" + _NAMES + r")(?=[\s/>])[^<>]*"  # an end tag of HTML
    r"|(?:" + _NAMES + r")\s*/?"  # a start tag of HTML, bare: <b>, <br/>
    r"|(?:" + "|".join(ACTIVE_NAMES) + r")[\s/][^<>]*"  # <script defer>, <svg ...>
    # any name with an attribute given a value (<x onfocus=...>, <b style=...>,
    # <x=1 style=...>): bare words are prose ("x<y and y>z", "a<b and c>d"), and an
    # element does nothing through attributes without a value to run or style with
    r"|[A-Za-z][^<>\s/]*[\s/][^<>=]*=[^<>]*)>"
    r"|<[A-Za-z][^<>\s/=]*[\s/]+[^<>\s/=]+\s*=[^>]*$"  # unclosed, with an attribute
)


# the pattern of markup (above), compiled on first use: ~1.5 ms at each start (its
# two alternations of ~140 names) that a build whose texts hold no "<" never needs
# (every caller looks for one first)
tag = later(_TAG, re.IGNORECASE)


ENTITY_REF = re.compile(r"&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")


# Elements one release's HTML may hold (a saved page, a JSON release's html, what a
# Markdown body renders to): a page of the SCO site has a few thousand with all its
# furniture; 500,000 paragraphs or list items took 8 s to read and sanitise, past the
# per-file budget. Refused once parsed (a page) or before nh3 (a fragment).
MAX_ELEMENTS = 50_000
_START_TAG = re.compile(r"<[A-Za-z]")


def start_tags(fragment: str) -> int:
    """How many start tags ``fragment`` holds, counted only when it has more than
    ``MAX_ELEMENTS`` "<" (an ordinary fragment costs one ``str.count``)."""
    if fragment.count("<") <= MAX_ELEMENTS:
        return 0
    return sum(1 for _ in _START_TAG.finditer(fragment))


def too_many_elements(n: int) -> str:
    """The reason an input of ``n`` elements is refused."""
    return (
        f"HTML of {n:,} elements (limit {MAX_ELEMENTS:,}; "
        "a whole page of the SCO site has a few thousand)"
    )


# Attributes one element may hold. libxml2 (lxml) checks each new attribute against
# those before it: 10,000 on one element took 0.2 s to parse, 20,000 0.8 s, 40,000 10 s,
# in C, where the per-file time budget cannot stop it (a page of 150,000 held the
# daemon's scan for four minutes). An element of a real page has a few dozen at most;
# at 256 the parse stays linear in the file's size. Refused before any parse.
MAX_ATTRIBUTES = 256
LONG_TAG = 512  # characters: a start tag shorter than this holds fewer attributes
# white space as HTML's tokenizer has it (libxml2 2.14 reads HTML5's; not Python's \s: a
# no-break space is part of a name, and counted as a separator it hid 20,000 attributes
# in one value). Carriage return is a line feed to it.
_SPACE = "\t\n\x0c\r "
# one attribute as HTML5's tokenizer reads it: separators (white space, "/") or none
# after a quoted value, a name (which may open with "=" and hold quotes), maybe "=" and
# a value quoted (holding ">" or "<" freely) or not; possessive throughout, so that no
# input makes the search go back over what it read
_ONE_ATTRIBUTE = (
    rf"""[{_SPACE}/]*+[^{_SPACE}/>][^{_SPACE}/>=]*+"""
    rf"""(?:[{_SPACE}]*+=[{_SPACE}]*+(?:"[^"]*+"|'[^']*+'|[^{_SPACE}>]*+))?+"""
)


@functools.cache
def _attribute_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The start tag with its attributes (group 1), and one attribute: compiled on
    first use (~0.5 ms that a build of .txt releases, which never asks, is spared)."""
    tag = rf"<[A-Za-z][^{_SPACE}/>]*+((?:{_ONE_ATTRIBUTE})*+)"
    return re.compile(tag), re.compile(_ONE_ATTRIBUTE)


def most_attributes(text: str) -> int:
    """The most attributes one start tag in ``text`` holds, as HTML's tokenizer reads
    the tag (counted to ``MAX_ATTRIBUTES`` + 1 at most); only tags of ``LONG_TAG``
    characters or more are counted, so an ordinary page costs one pass of a regex.
    ``text`` is what lxml will be given, once the reader has cleaned it (``xml_text``,
    ``meta.readable``): what the cleaning takes out or makes a space changes the tags
    (a control character between "<" and the name, a vertical tab between attributes),
    so a count made before it is no count of what lxml reads."""
    tag, one = _attribute_patterns()
    most = 0
    for m in tag.finditer(text):
        if m.end() - m.start() < LONG_TAG:
            continue
        found = one.finditer(text, m.start(1), m.end(1))
        most = max(most, sum(1 for _ in itertools.islice(found, MAX_ATTRIBUTES + 1)))
    return most


# the reason an input with such an element is refused
TOO_MANY_ATTRIBUTES = (
    f"an HTML element with more than {MAX_ATTRIBUTES} attributes (one of a real page has "
    "a few dozen at most): refused unparsed"
)


# elements that only hold others (nh3 unwraps them; a page's own text ignores them)
CONTAINERS = ("div", "section", "article", "header", "footer", "main", "aside", "address", "center")
_BLOCK_LEVEL = frozenset(CONTAINERS) | {
    "p", "ul", "ol", "li", "table", "blockquote", "pre", "figure", "hr",
    "h1", "h2", "h3", "h4", "h5", "h6", "dl", "dt", "dd",
}  # fmt: skip


def holds(el: Any, tags: Collection[str]) -> bool:
    """Whether an lxml element holds, anywhere below it, an element named in ``tags``."""
    return any(isinstance(d.tag, str) and d.tag in tags for d in el.iterdescendants())


def paragraph_containers(root: Any, which: Callable[[Any], bool] | None = None) -> int:
    """Each container below ``root`` (an lxml element) holding no block of its own, a
    paragraph written as ``<div>...</div>``, made a ``<p>`` (only those ``which`` takes,
    when given); how many were. Unwrapped, such paragraphs ran together ("...a
    delegation.The sides discussed...")."""
    made = 0
    for el in list(root.iter(*CONTAINERS)):
        if el is root or holds(el, _BLOCK_LEVEL) or (which is not None and not which(el)):
            continue
        el.tag = "p"
        el.attrib.clear()
        made += 1
    return made


class Texts:
    """The text of each element in ``container`` (an lxml element) as
    ``normalise.collapse(el.text_content())`` gives it, from one collapsed text of the
    whole container made in one walk (each element's: the span between where it opens
    and where it ends). Making each element's text made a text again at every level
    around it: 2 MB of words in 250 nested blocks took ~6 s to judge as furniture. The
    spans are those of the tree as it was when made."""

    def __init__(self, container: Any) -> None:
        self._pieces: list[str] = []
        self._size = 0
        self._spaced = False
        self._spans: dict[object, tuple[int, int]] = {}
        walks = [(container, iter(container))]
        opened = {container: self._add(container.text)}
        while walks:
            el, children = walks[-1]
            child = next(children, None)
            if child is None:
                walks.pop()
                self._spans[el] = (opened.pop(el), self._size)
                if el is not container:
                    self._add(el.tail)
            elif isinstance(child.tag, str):
                opened[child] = self._add(child.text)
                walks.append((child, iter(child)))
            else:  # a comment's text is no text; what follows it is
                self._add(child.tail)
        self._text = "".join(self._pieces)
        self._pieces = []

    def _add(self, piece: str | None) -> int:
        """Add ``piece`` collapsed (no space first, never two running); the size before."""
        before = self._size
        if not piece:
            return before
        if piece[0].isspace():
            self._space()
        words = " ".join(piece.split())
        if words:
            self._pieces.append(words)
            self._size += len(words)
            self._spaced = False
        if piece[-1].isspace():
            self._space()
        return before

    def _space(self) -> None:
        if self._size and not self._spaced:
            self._pieces.append(" ")
            self._size += 1
            self._spaced = True

    def length(self, el: Any) -> int:
        """The length of ``el``'s text, without making it."""
        start, end = self._spans[el]
        if start == end:
            return 0
        ends = (self._text[start] == " ") + (self._text[end - 1] == " ")
        return max(end - start - ends, 0)

    def text(self, el: Any, most: int | None = None) -> str:
        """``el``'s text, or its first ``most`` characters or so."""
        start, end = self._spans[el]
        if most is not None:
            end = min(end, start + most + 1)
        return self._text[start:end].strip(" ")


# A start tag of an element whose content HTML reads as text to its end tag (raw text,
# RCDATA), written as a word in prose ("the <script> tag is banned") and never closed,
# takes the rest of the fragment with it: nh3 leaves it out, or shows it as escaped
# markup ("&lt;/p&gt;&lt;p&gt;"). ``closed_raw_text`` shows such a tag as text.
RAW_TEXT = "script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|plaintext|template"
_raw_text_tag = later(rf"<(/?)({RAW_TEXT})(?=[\s/>])[^<>]*>?", re.IGNORECASE)


def closed_raw_text(
    html_text: str, names: Collection[str] | None = None, empty: bool = False
) -> str:
    """``html_text`` with each raw-text start tag (of ``names`` only, when given) that no
    end tag of its element follows shown as text (escaped), as written, or with
    ``empty`` closed at once (an element holding nothing, what follows read as it is):
    one pass, and one over the tags found, whatever their number."""
    if "<" not in html_text:
        return html_text
    found = [
        m for m in _raw_text_tag().finditer(html_text) if names is None or m[2].lower() in names
    ]
    if not found:
        return html_text
    last_end: dict[str, int] = {}
    for m in found:
        if m[1]:
            last_end[m[2].lower()] = m.start()
    out: list[str] = []
    at = 0
    for m in found:
        if not m[1] and m.start() > last_end.get(m[2].lower(), -1):
            shown = f"{m[0]}</{m[2]}>" if empty else html.escape(m[0], quote=False)
            out += (html_text[at : m.start()], shown)
            at = m.end()
    if not out:
        return html_text
    out.append(html_text[at:])
    return "".join(out)
