"""The text blocks of an article's container in a saved page (``htmlpage``), each
found in one walk of the tree: its outermost text blocks, the elements holding any
text, and the date elements that stand in a sentence of it.

A text block is a paragraph, a heading below the title, a list item, a quotation, a
figure's caption, or a table's row (its cells parted by " | ", as in a Markdown
release: ``sources.meta``; not a paragraph a cell) when its cells hold no block of
their own (a layout table's cell holding an article's paragraphs folded them into one).

Each question was asked of each element by a walk up or down from it, so a page of
thousands of elements nested a few hundred deep asked it again at every level: 6,000
paragraphs in 60 nested layout tables took ~13 s, 16,000 dates in one paragraph ~12.5 s
(docs/benchmarks.md, "Hostile pages").
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

import lxml.html

from scofeed.markup import Texts, holds
from scofeed.normalise.text import collapse, join_wraps

BLOCKS = {"p", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption", "tr"}
CELL_BLOCKS = BLOCKS - {"tr"}  # what a cell may hold that makes its row no block


def text_blocks(container: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The outermost text blocks (``BLOCKS``) of ``container``, in document order: one
    walk that does not go into a block, with the rows holding a block of their own found
    once. Asking of each block whether a block held it, and of each row around it
    whether it held a block (a walk down that row), took ~13 s for 6,000 paragraphs in
    60 nested layout tables (211 kB), and 108 s for 48,000."""
    holding = _holding(container, CELL_BLOCKS)
    found = []
    if _is_block(container) and next(_blocks_around(container, container), None) is None:
        found.append(container)  # judged against the whole page, as each block was
    walks = [iter(container)]
    while walks:
        el = next(walks[-1], None)
        if el is None:
            walks.pop()
        elif el.tag in BLOCKS and (el.tag != "tr" or el not in holding):
            found.append(el)
        elif isinstance(el.tag, str):
            walks.append(iter(el))
    return found


def row_text(row: lxml.html.HtmlElement) -> str:
    """A table row's text: its cells' texts parted by " | ", empty cells left out."""
    cells = (collapse(join_wraps(c.text_content())) for c in row if c.tag in ("td", "th"))
    return " | ".join(c for c in cells if c)


def holding_words(container: lxml.html.HtmlElement) -> set[object]:
    """The elements whose text (``text_content``) is more than white space, among
    ``container``'s and above it: found by one walk up from each text that is, which
    stops where an earlier one passed. Asked of each element's children in turn, their
    texts were made again at every level: 1 MB of words in 250 nested blocks took ~2.5 s
    that way."""
    worded: set[object] = set()
    for node in container.iter():
        starts = []
        if isinstance(node.tag, str) and node.text and not node.text.isspace():
            starts.append(node)  # a comment's text is no text
        if node is not container and node.tail and not node.tail.isspace():
            starts.append(node.getparent())  # a tail is its parent's text
        for start in starts:
            while start is not None and start not in worded:
                worded.add(start)
                start = start.getparent()
    return worded


class Running:
    """Which date elements stand in running text of the article ``body``: inside it,
    with a text block around them (below ``body``) that holds other words ("opens on
    <time>4 July</time> in Astana" is a sentence, kept whole, and its ``datetime`` is
    not the page's date; "<p><time>4 July</time></p>" is a stamp, taken out of the
    text). The block around each element and the length of each text are found once:
    each date element's blocks were found by a walk up, and their texts made again,
    for every date element (16,000 dates in one paragraph: ~12.5 s)."""

    def __init__(self, body: lxml.html.HtmlElement) -> None:
        self._texts = Texts(body)
        holding = _holding(body, CELL_BLOCKS)
        # element in body -> the nearest text block around it below body, if any
        self._around: dict[object, lxml.html.HtmlElement | None] = {}
        for el in body.iter():
            parent = el.getparent()
            if el is body:
                continue
            if parent is body:
                self._around[el] = None
            elif parent.tag in BLOCKS and (parent.tag != "tr" or parent not in holding):
                self._around[el] = parent
            else:
                self._around[el] = self._around[parent]

    def in_sentence(self, el: lxml.html.HtmlElement) -> bool:
        if el not in self._around:
            return False  # not in the body
        own = self._texts.length(el)
        block = self._around[el]
        while block is not None:
            # a block holds el's text: the same length only when it holds no other word
            if self._texts.length(block) != own:
                return True
            block = self._around[block]
        return False


def _blocks_around(
    el: lxml.html.HtmlElement, stop: lxml.html.HtmlElement
) -> Iterator[lxml.html.HtmlElement]:
    """The text blocks (``BLOCKS``) that hold ``el``, innermost first, below ``stop``."""
    parent = el.getparent()
    while parent is not None and parent is not stop:
        if parent.tag in BLOCKS and _is_block(parent):
            yield parent
        parent = parent.getparent()


def _holding(container: lxml.html.HtmlElement, tags: Collection[str]) -> set[object]:
    """The elements holding an element named in ``tags`` that is in ``container``: what
    ``holds`` says of each element in it, found by one walk up from each such element,
    which stops where an earlier one passed."""
    held: set[object] = set()
    for el in container.iter(*tags):
        parent = el.getparent()
        while parent is not None and parent not in held:
            held.add(parent)
            parent = parent.getparent()
    return held


def _is_block(el: lxml.html.HtmlElement) -> bool:
    return el.tag in BLOCKS if el.tag != "tr" else not holds(el, CELL_BLOCKS)
