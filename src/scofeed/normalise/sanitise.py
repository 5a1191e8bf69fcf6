"""HTML content: given markup sanitised (nh3), or built from plain paragraphs. Pure.

Only harmless markup survives: the tags and attributes below, http(s) and mailto
links (marked noopener noreferrer); no script, no event handlers, no javascript: URLs.
What XML cannot carry is dropped before and after nh3, which writes character
references (``&#1;``, ``&#xFFFE;``) out as the characters they name.

Content from which nh3 took elements out (keeping what they held), or whose containers
were unwrapped, is cleaned a second time, so that it parses back to the tree it was
written from (``_drops_tags``): the W3C Feed Validator parses it strictly.

Headings are renumbered so that their levels never skip (``heading_levels``, called by
``normalise`` once the content is complete).

Markup nested deeper than ``MAX_DEPTH`` elements is refused before nh3 sees it: the
sanitiser's time grows with the square of the depth (100,000 nested ``<div>`` took 18 s),
and no real release nests more than a few dozen levels. So is markup of more than
``markup.MAX_ELEMENTS`` elements (half a million paragraphs took seconds).

nh3 and lxml.html load by name on the first release with markup, not with this module:
a sources/ folder of plain text (the usual case) needs neither, and a one-shot build
need not pay for them (~4 ms; issue 9).
"""

from __future__ import annotations

import functools
import html
import importlib
import re
from collections.abc import Iterable
from typing import Any

from scofeed.errors import NormaliseError
from scofeed.markup import (
    CONTAINERS,
    ENTITY_REF,
    MAX_ELEMENTS,
    closed_raw_text,
    paragraph_containers,
    start_tags,
    too_many_elements,
)
from scofeed.normalise.text import (
    collapse,
    compare_key,
    drop_overrides,
    join_wraps,
    plain,
    xml_safe,
)
from scofeed.patterns import later

MAX_DEPTH = 256  # elements open at once
_TAG = later(r"<(/?)([A-Za-z][A-Za-z0-9-]*)[^>]*?(/?)>")
_VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
}  # fmt: skip
# the open elements a start tag closes, as an HTML parser does (end tags a writer may
# leave out: WHATWG HTML, "optional tags"); a block closes an open paragraph
_BLOCKS = (
    "address article aside blockquote details div dl fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr main nav ol p pre section table ul li dd dt"
).split()
_CLOSED_BY: dict[str, tuple[str, ...]] = {
    **{block: ("p",) for block in _BLOCKS},
    "li": ("p", "li"),
    "dt": ("p", "dt", "dd"),
    "dd": ("p", "dt", "dd"),
    "tr": ("td", "th", "tr"),
    "td": ("td", "th"),
    "th": ("td", "th"),
    "option": ("option",),
}

_ALLOWED_TAGS = {
    "p", "br", "a", "em", "strong", "b", "i", "u", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "h5", "h6", "pre", "code", "table", "thead", "tbody", "tr", "th", "td",
    "img", "figure", "figcaption", "sup", "sub", "hr", "dl", "dt", "dd", "bdi",
}  # fmt: skip
_ALLOWED_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}
# attributes kept with these values only: the direction of a passage in another script
# (an Arabic quotation in an English release, without which its full stop stood at the
# wrong end; ``<bdi>`` isolates a name the same way; never ``<bdo>`` or the override
# characters, which reorder what is shown: ``drop_overrides``), and a table's cells
# spanning rows or columns (without, "Bishkek" stood under "Date") and the header
# cells' scope, which screen readers announce
_SPANS = frozenset(str(n) for n in range(1, 1001))  # HTML's colspan limit; rowspan as far
_CELL = {"colspan": _SPANS, "rowspan": _SPANS | {"0"}}
_TAG_ATTR_VALUES = {
    **{tag: {"dir": {"ltr", "rtl", "auto"}} for tag in _ALLOWED_TAGS},
    "td": {"dir": {"ltr", "rtl", "auto"}, **_CELL},
    "th": {"dir": {"ltr", "rtl", "auto"}, **_CELL, "scope": {"row", "col", "rowgroup", "colgroup"}},
}
# what nh3 keeps: the allowed tags, and the containers, h1, details and summary for
# _blocks_kept, which takes them (taken out by nh3, "<details><summary>Background
# </summary>The council..." read "BackgroundThe council...")
_FOLDED = ("details", "summary")
_KEPT_TAGS = _ALLOWED_TAGS | set(CONTAINERS) | {"h1", *_FOLDED}


def nesting_depth(fragment: str, stop_at: int = MAX_DEPTH) -> int:
    """How many elements are open at once at the deepest point (counted up to ``stop_at``
    + 1): a linear scan of the tags, void and self-closed ones not counted, an end tag
    closing what an HTML parser closes with it, and the end tags HTML lets a writer
    leave out taken as a parser takes them (``_CLOSED_BY``): a JSON release's or a
    feed item's 300 paragraphs with no ``</p>`` were 300 deep, and refused."""
    open_: list[str] = []
    deepest = 0
    for m in _TAG().finditer(fragment):
        closing, name, self_closed = m.groups()
        name = name.lower()
        if closing:
            if name in open_:  # a stray end tag closes nothing
                while open_.pop() != name:
                    pass
        elif not self_closed and name not in _VOID:
            implied = _CLOSED_BY.get(name, ())
            while open_ and open_[-1] in implied:
                open_.pop()
            open_.append(name)
            if len(open_) > deepest:
                deepest = len(open_)
                if deepest > stop_at:
                    break
    return deepest


# what nh3 keeps for ``_blocks_kept`` to read: a container, an h1 (perhaps with the
# lang or title nh3 keeps on any element)
_OPENS_CONTAINER = later("<(?:" + "|".join((*CONTAINERS, "h1", *_FOLDED)) + r")[\s>]")


def _blocks_kept(cleaned: str) -> str:
    """nh3's output with its paragraphs in containers made ``<p>``
    (``paragraph_containers``), the other containers unwrapped, and an ``<h1>`` an
    ``<h2>`` (the feed entry's title is its h1). Unwrapped by nh3, as it does what it does
    not allow, their texts ran together ("...a delegation.The sides discussed..."), or
    stood bare before the first paragraph. Read after nh3, so the parser sees only what
    nh3 wrote (no ``</html>`` in the middle, no ``<noscript>``), and with no limit on
    depth or text size (libxml2's would empty what they cut)."""
    markup = importlib.import_module("lxml.html")  # see the module docstring
    root = markup.fragment_fromstring(cleaned, create_parent="div", parser=_parser(markup))
    for el in root.iter(*_FOLDED):  # a container, its summary a paragraph (or a holder)
        el.tag = "div"
    paragraph_containers(root)
    for el in root.iter("h1"):
        el.tag = "h2"
    _unwrap_containers(root)  # those left hold blocks of their own: they part its text
    inner = html.escape(root.text or "", quote=False)
    return inner + "".join(markup.tostring(child, encoding="unicode") for child in root)


_UNWRAPPED = frozenset(CONTAINERS)


def _unwrap_containers(root: Any) -> None:
    """Every container below ``root`` (an lxml element) taken out, what it held left in
    its place, its text and tail joined to the text around it: what lxml's ``drop_tag``
    does to each, but in one walk. ``drop_tag`` looks for the element among its
    parent's children and moves the children after it: 25,000 sibling ``<div>``s, each
    around a paragraph, took ~2 s that way, four times as long for twice as many."""
    hosts = [el for el in root.iter() if any(c.tag in _UNWRAPPED for c in el)]
    for host in hosts:
        if host is not root and host.tag in _UNWRAPPED:
            continue  # unwrapped itself: its nearest kept ancestor takes its children
        kept: list[Any] = []
        texts: list[list[str]] = [[host.text or ""]]  # before each kept child, and after
        walks = [(iter(host), None)]
        while walks:
            children, opened = walks[-1]
            child = next(children, None)
            if child is None:  # the end of host, or of a container taken out
                walks.pop()
                if opened is not None:
                    texts[-1].append(opened.tail or "")
            elif child.tag in _UNWRAPPED:
                texts[-1].append(child.text or "")
                walks.append((iter(child), child))
            else:
                kept.append(child)
                texts.append([child.tail or ""])
        host[:] = kept
        host.text = "".join(texts[0]) or None
        for el, after in zip(kept, texts[1:], strict=True):
            el.tail = "".join(after) or None


@functools.cache
def _parser(markup: Any) -> Any:
    return markup.HTMLParser(huge_tree=True)


# taken out with what they hold, as script and style are (nh3's own): a <noscript>'s
# content is text to an HTML parser, so a lazy-loading page's "<noscript><img
# src=...></noscript>" showed readers the markup, "<img src=...>", as text (the text of
# a release leaves it out, ``sources.meta``)
_DROPPED_WITH_CONTENT = {"script", "style", "noscript"}
# one never closed, as an <iframe ... /> (no end tag to an HTML parser), took the rest
# of the fragment with it (left out, or shown as escaped markup): it is closed at once
# instead (``closed_raw_text``), holding nothing, and what follows it is read as it is
_OPENED_AS_TEXT = ("noscript", "iframe")


def _cleaned(nh3: Any, fragment: str) -> str:
    return str(
        nh3.clean(
            fragment,
            tags=_KEPT_TAGS,
            clean_content_tags=_DROPPED_WITH_CONTENT,
            attributes=_ALLOWED_ATTRS,
            tag_attribute_values=_TAG_ATTR_VALUES,
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer",
        )
    )


def _drops_tags(fragment: str) -> bool:
    """Whether ``fragment`` holds a tag nh3 takes out, keeping what it holds (``<span>``,
    ``<font>``, ``<button>``...; script and style go with their text). What nh3 writes
    is the tree an HTML parser built, but with such an element gone, or a container
    unwrapped or made a paragraph by ``_blocks_kept``, what was inside it meets what was
    around it: an ``<h3>`` that stood in a ``<span>`` in an ``<h2>`` is then an ``<h3>``
    right inside the ``<h2>``, a ``<figcaption>`` in a ``<div>`` made a ``<p>`` is in
    the ``<p>``. A parser reading that builds another tree (it closes the ``<h2>``, the
    ``<p>``), and the W3C Feed Validator calls the content "Invalid HTML" (NotHtml). Such
    content is cleaned once more: nh3 parses it as a reader would, and writes the tree
    that reader sees, which parses back to itself. Most releases (plain paragraphs,
    Markdown) hold no such tag and are not parsed twice."""
    return any(m[2].lower() not in _KEPT_TAGS for m in _TAG().finditer(fragment))


# what nh3 leaves of a link or an image whose address it took out (``javascript:``,
# ``data:``): a link to nowhere, marked noopener (a ``rel`` an ``<a>`` without ``href``
# may not have), an image showing the broken-image icon. A look for a start tag without
# the address (nh3 writes every attribute quoted, a ">" in a value as "&gt;"), then a
# parse: links nest (a table in a link may hold one), which no pattern follows
_LINK_OR_IMAGE = later(r'<(a|img)((?:\s[\w:-]+="[^"]*")*)\s*/?>')
_ATTRIBUTE_NAME = re.compile(r'\s([\w:-]+)="')
_ADDRESS = {"a": "href", "img": "src"}


def _addressless(cleaned: str) -> bool:
    """Whether nh3's output holds a link without ``href`` or an image without ``src``,
    by the attributes' names (a value may hold " href=" too)."""
    for m in _LINK_OR_IMAGE().finditer(cleaned):
        names = _ATTRIBUTE_NAME.findall(m[2])
        if _ADDRESS[m[1]] not in names:
            return True
    return False


def _without_addresses(cleaned: str) -> str:
    """A link without an address made its text; an image without one taken out."""
    markup = importlib.import_module("lxml.html")  # see the module docstring
    root = markup.fragment_fromstring(cleaned, create_parent="div", parser=_parser(markup))
    for image in [el for el in root.iter("img") if "src" not in el.attrib]:
        image.drop_tree()  # its tail stays
    for link in [el for el in root.iter("a") if "href" not in el.attrib]:
        link.drop_tag()  # what it holds stays
    inner = html.escape(root.text or "", quote=False)
    return inner + "".join(markup.tostring(child, encoding="unicode") for child in root)


# links (href, src) a release's content may hold: each one shown is rewritten where the
# entry is shown (trackers out, relative addresses made absolute: render.links), and
# 49,000 of them cost a second of CPU at every page view and every feed written
MAX_LINKS = 10_000


def too_many_links(n: int) -> str:
    return (
        f"HTML with {n:,} links (limit {MAX_LINKS:,}; a year's chronicle of releases has "
        "a few thousand, and each is rewritten wherever the entry is shown)"
    )


def sanitise(fragment: str, max_depth: int = MAX_DEPTH) -> str:
    """Only harmless markup survives: no script, no event handlers, no javascript: URLs.
    Markup nested deeper than ``max_depth`` is a ``NormaliseError`` (the input is rejected)."""
    elements = start_tags(fragment)
    if elements > MAX_ELEMENTS:
        raise NormaliseError(too_many_elements(elements))
    if nesting_depth(fragment, max_depth) > max_depth:
        raise NormaliseError(f"HTML nested deeper than {max_depth} elements")
    nh3 = importlib.import_module("nh3")  # see the module docstring
    # once, before the first cleaning: what nh3 writes holds neither element
    cleaned = _cleaned(nh3, closed_raw_text(xml_safe(fragment), _OPENED_AS_TEXT, empty=True))
    unsettled = _drops_tags(fragment)
    if _OPENS_CONTAINER().search(cleaned):
        cleaned = _blocks_kept(cleaned)
        unsettled = True
    if unsettled:  # parsed again: see _drops_tags
        cleaned = _cleaned(nh3, cleaned)
    if "</p>" in cleaned:  # a page's spacers: "<p>&nbsp;</p>", "<p><br></p>", "<p></p>"
        cleaned = _EMPTY_PARAGRAPH().sub("", cleaned)
    links = cleaned.count(' href="') + cleaned.count(' src="')
    if links > MAX_LINKS:
        raise NormaliseError(too_many_links(links))
    # nh3 writes character references out as characters: "&#1;" or "&#xFFFE;" in the
    # input comes out as a character XML cannot carry (lxml then refuses the feed)
    safe = drop_overrides(xml_safe(cleaned))
    if safe != cleaned:
        # a character taken out joins what was apart when nh3 judged it: the address
        # "java&#0;script:alert(1)" was a relative link to nh3, and a javascript: link
        # once the U+FFFD it became was dropped. Cleaned again (taking nothing out:
        # nh3's own writing holds no character reference but &amp;, &lt;, &gt;, &quot;
        # and &nbsp;), such a link loses its address
        safe = _cleaned(nh3, safe)
    # last: either cleaning may have taken an address out (that one too)
    if _addressless(safe):  # written by nh3 again: see _drops_tags
        safe = drop_overrides(xml_safe(_cleaned(nh3, _without_addresses(safe))))
        if "</p>" in safe:  # a paragraph that held only such an image is empty now
            safe = _EMPTY_PARAGRAPH().sub("", safe)
    if "<pre" in safe:
        safe = _PRE_OPENS_WITH_LINE().sub(r"\g<0>\n", safe)
    return spaced_once(safe).strip()


# a <pre> whose text opens with a line break: an HTML parser drops a line break right
# after the start tag, so one more is written, as the HTML serialising rules say (nh3
# leaves it out, and a blank line opening "<pre>\n\nfirst" was gone for every reader, and
# each cleaning took one more). nh3 writes every attribute quoted, a ">" in one as "&gt;"
_PRE_OPENS_WITH_LINE = later(r'<pre(?:\s[\w:-]+="[^"]*")*>(?=\n)')


# a tag; a run of white space in the text (a no-break space is one)
_A_TAG = re.compile(r"(<[^<>]*>)")
# white space alone; each kind of it made a plain space (nh3 writes a no-break space
# as "&nbsp;", or as the character: made the character first). str methods, which run
# in C: a pattern tried at every character was most of the cost of a page
_ONLY_SPACE = re.compile(r"[ \t\r\n\f\xa0]+")
_OTHER_SPACES = ("\t", "\r", "\n", "\f", "\xa0")


def _needs_spacing(text: str) -> bool:
    """Whether ``text`` holds white space other than single plain spaces."""
    return (
        "  " in text or "\n" in text or "\xa0" in text or "\t" in text or "\r" in text
        or "\f" in text
    )  # fmt: skip


def spaced_once(html: str) -> str:
    """``html`` with each run of white space in its text (spaces, tabs, line ends,
    no-break spaces) written as one space, and none at a block's start or end or beside
    a line break, as a reader sees it, but in ``<pre>``; a line break between two
    Chinese or Japanese characters is none (``join_wraps``, as in a ``.txt`` release);
    white space alone between two inline tags is a space, between blocks it is left as
    written (a no-break space there is a space). An edit of the spacing
    alone (a double space, a paragraph wrapped anew, a no-break space put in or taken
    out) then leaves the content as it was, as it does for a ``.txt`` release: it was
    announced as a correction. A no-break space is a space from then on: a line may
    break there. One pass per text between tags (``re`` does the runs)."""
    parts = _A_TAG.split(html)  # text, tag, text, ..., text
    edge = _block_edge().match
    kept = 0  # <pre> elements open
    for i, part in enumerate(parts):
        if i % 2:  # a tag
            name = part[1:5].lower()
            if name == "pre>" or name.startswith(("pre ", "pre\t", "pre\n")):
                kept += 1
            elif name.startswith("/pre") and kept:
                kept -= 1
            continue
        if not part or kept:
            continue
        if "&nbsp;" in part:
            part = part.replace("&nbsp;", "\xa0")
        before = bool(i) and edge(parts[i - 1]) is not None
        after = i + 1 < len(parts) and edge(parts[i + 1]) is not None
        if _ONLY_SPACE.fullmatch(part):  # white space alone, between two tags
            inline = 0 < i < len(parts) - 1 and not before and not after
            if inline or "\xa0" in part:  # "</b>\n<i>": a space, wrapped or not
                parts[i] = " "
            continue  # the markup's layout between blocks, as written
        spaced = part
        if _needs_spacing(part):
            if "\n" in spaced and not spaced.isascii():  # no space between Chinese words
                spaced = join_wraps(spaced)
            for other in _OTHER_SPACES:  # (str.translate is slow on text past ASCII)
                if other in spaced:
                    spaced = spaced.replace(other, " ")
            while "  " in spaced:
                spaced = spaced.replace("  ", " ")
        if before:
            spaced = spaced.lstrip(" ")
        if after:
            spaced = spaced.rstrip(" ")
        parts[i] = spaced
    return "".join(parts)


# the tags white space beside which shows as nothing: a block's start or end, a line
# break. Compiled on first use: only Markdown and HTML releases are spaced so (~1.3 ms)
_EDGES = (*_BLOCKS, "br", "tr", "td", "th", "thead", "tbody", "tfoot", "caption")
_block_edge = later("</?(?:" + "|".join(_EDGES) + r")[\s/>]", re.I)


# a paragraph holding nothing to read: white space (a no-break space is one), line breaks
_EMPTY_PARAGRAPH = later(r"<p(?:\s[^<>]*)?>(?:\s|&nbsp;|<br\s*/?>)*</p>")


_HEADING_OPEN = re.compile(r"<h([2-6])[\s>]")
FIRST_LEVEL = 2  # the entry's title is its page's h1: the content's headings start below


def heading_levels(fragment: str) -> str:
    """``fragment`` (sanitised HTML) with its headings renumbered so that levels never
    skip: a heading with no shallower heading open before it is an ``<h2>`` (the level
    under the entry's title), and one under another is one level below it, at most
    ``<h6>``. Their order is kept: a deeper heading stays deeper than the one it is
    under, a heading as deep as an earlier one stays as deep. An ``<h2>`` followed by an
    ``<h4>`` left the ``<h3>`` out, which a screen reader's list of headings (and the
    W3C checker) calls a skipped level."""
    levels = [int(m[1]) for m in _HEADING_OPEN.finditer(fragment)]
    if _renumbered(levels) == levels:
        return fragment  # none, or none skipped (most releases): not parsed
    markup = importlib.import_module("lxml.html")  # see the module docstring
    root = markup.fragment_fromstring(fragment, create_parent="div", parser=_parser(markup))
    headings = list(root.iter("h2", "h3", "h4", "h5", "h6"))
    for el, level in zip(headings, _renumbered([int(h.tag[1]) for h in headings]), strict=True):
        el.tag = f"h{level}"
    inner = html.escape(root.text or "", quote=False)
    return inner + "".join(markup.tostring(child, encoding="unicode") for child in root)


_HEADING = later(r"<h[1-6](?:\s[^<>]*)?>(.*?)</h[1-6]>", re.DOTALL)


def heading_keys(fragment: str) -> frozenset[str]:
    """The ``compare_key`` of each heading's text in ``fragment`` (sanitised HTML): what
    the summary passes over. In the release's plain text a heading is a paragraph like
    any other, and one that ends as a sentence ("What happened?", "Summary.") was
    taken for the summary, every reader's preview."""
    if "<h" not in fragment:
        return frozenset()
    return frozenset(compare_key(plain(m)) for m in _HEADING().findall(fragment))


def _renumbered(levels: list[int]) -> list[int]:
    """Heading levels in document order, renumbered as ``heading_levels`` says."""
    out = []
    open_: list[tuple[int, int]] = []  # (level as written, as renumbered) of those open
    for level in levels:
        while open_ and open_[-1][0] >= level:
            open_.pop()
        new = min(6, open_[-1][1] + 1 if open_ else FIRST_LEVEL)
        open_.append((level, new))
        out.append(new)
    return out


_ANY_TAG = re.compile(r"<[^>]*>")


def shows_nothing(fragment: str) -> bool:
    """Whether sanitised HTML shows a reader nothing: no text (but white space) and no
    image. A body that was all script, or an empty paragraph, is such."""
    if "<img" in fragment:
        return False
    return not html.unescape(_ANY_TAG.sub("", fragment)).strip()


def paragraphs_html(paras: list[str]) -> str:
    """Each paragraph escaped in a ``<p>``, one a line, its character references
    (``&amp;``, ``&#8217;``, ``&mdash;``: text copied from a page's source) resolved
    first, as the title and summary have them: "SCO &amp; BRICS" was "SCO & BRICS"
    in the title and showed "&amp;" in the text. A paragraph without "&", "<" or ">"
    (most) is its own escape: three fast searches instead of three replacements."""
    if not paras:
        return ""
    escaped = [
        # a reference to white space ("10&nbsp;km", "&#160;") is spaced as the rest
        # then: "10 &nbsp;km" showed two spaces, and putting one in was a correction,
        # where putting in a no-break space written as itself is none
        html.escape(collapse(_resolved(p)) if "&" in p else p, quote=False)
        if "&" in p or "<" in p or ">" in p
        else p
        for p in paras
    ]
    return "<p>" + "</p>\n<p>".join(escaped) + "</p>"


def paragraphs_joined(content_html: str) -> str | None:
    """Content ``paragraphs_html`` made (plain paragraphs), as one run of text; None for
    any other markup."""
    if not (content_html.startswith("<p>") and content_html.endswith("</p>")):
        return None
    parts = content_html[3:-4].split("</p>\n<p>")
    return None if any("<" in part for part in parts) else " ".join(parts)


def _resolved(text: str) -> str:
    """``text`` with each character reference written in full (``&name;``, ``&#n;``)
    made its character (one naming none, or none XML can carry, left out; an unknown
    name stays as written)."""
    return xml_safe(ENTITY_REF.sub(lambda m: html.unescape(m.group()), text))


def drop_heading(fragment: str, title: str) -> str:
    """``fragment`` without its first element when that says the title again (a
    Markdown release's first line, a JSON item's ``<h1>``): the entry's title is shown
    above its content, and the body's text had dropped the repeat already."""
    start = fragment.lstrip()
    if not start.startswith("<"):
        return fragment
    markup = importlib.import_module("lxml.html")  # see the module docstring
    root = markup.fragment_fromstring(fragment, create_parent="div")
    first = next(iter(root), None)
    if (
        first is None
        or (root.text or "").strip()
        or not isinstance(first.tag, str)
        or compare_key(first.text_content()) != compare_key(title)
        or any(d.tag in ("img", "a") for d in first.iterdescendants())  # more than words
    ):
        return fragment
    first.drop_tree()
    inner = html.escape(root.text or "", quote=False)
    inner += "".join(markup.tostring(child, encoding="unicode") for child in root)
    # the title alone (a feed item whose description is its title): it stays the body
    return fragment if shows_nothing(inner) else inner.strip()


def drop_lines(fragment: str, lines: Iterable[str]) -> str:
    """``fragment`` without the element that holds nothing but one of ``lines`` (the
    outermost such, once per line): a date-stamp line taken out of the text."""
    wanted = [collapse(line) for line in lines]
    if not wanted or not fragment.strip():
        return fragment
    markup = importlib.import_module("lxml.html")  # see the module docstring
    root = markup.fragment_fromstring(fragment, create_parent="div")
    for el in list(root.iter()):
        if el is root or el.getparent() is None or not isinstance(el.tag, str):
            continue
        text = collapse(el.text_content())
        if text in wanted:
            wanted.remove(text)
            el.drop_tree()
            if not wanted:
                break
    inner = html.escape(root.text or "", quote=False)
    inner += "".join(markup.tostring(child, encoding="unicode") for child in root)
    return inner.strip()
