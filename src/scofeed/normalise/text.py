"""Plain text cleanup: line ends, Unicode form, what XML cannot carry, white space,
paragraphs, the comparison key, repeated paragraphs, shortening. Pure.

The plain-text layout: paragraphs are separated by blank lines; lines that are only
punctuation or space count as blank, hard-wrapped lines are joined, and a paragraph
repeated back to back is kept once. Two texts are "the same" when their comparison
keys (``compare_key``: letters and digits only, case-folded) are equal; two copies of one
release, when their ``fold_key`` (the same, Unicode compatibility forms and ё/е folded)
are.
"""

from __future__ import annotations

import html
import re
import unicodedata

from scofeed.graphemes import clip
from scofeed.markup import ENTITY_REF, tag
from scofeed.patterns import later
from scofeed.typography import ascii_but_marks, ascii_image

# the non-characters, which HTML calls a parse error where a reader finds one in a
# feed's content (U+FDD0-U+FDEF and the last two of each plane; the W3C validator:
# "Invalid HTML"), and U+FFFD, the mark of a character lost (what a reference such as
# "&#0;" is read as; the validator: "bad characters"): a class's ranges, for a regex
UNSHOWABLE = "\ufdd0-\ufdef\ufffd-\uffff" + "".join(
    chr(plane + 0xFFFE) + chr(plane + 0xFFFF) for plane in range(0x10000, 0x110000, 0x10000)
)
# and what XML 1.0 cannot carry: control characters (but tab and newline; C1 too), lone
# surrogates
_XML_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff{UNSHOWABLE}]")
_PARA_BREAK = re.compile(r"\n\s*\n")
# how a line or paragraph ends when it is a sentence, as nearly every one does
SENTENCE_ENDS = tuple(".!?。！？\"'»”)")
_BLANKISH = re.compile(r"^[\s\W_]*$", re.UNICODE)


def clean_text(text: str) -> str:
    """BOM and zero-width spaces, CRLF/CR, Unicode form, trailing spaces and
    punctuation-only lines."""
    return "\n".join(clean_lines(text))


def clean_lines(text: str, plain: bool | None = None) -> list[str]:
    """The lines of ``clean_text(text)``: a line holding nothing but white space and
    punctuation is empty, no other is. ``plain``: ``ascii_but_marks(text)``, when the
    caller has it (what is done here only takes characters out, or puts ASCII in)."""
    if plain is None:
        plain = ascii_but_marks(text)
    text = drop_invisible(text, close=False)  # its isolates are closed line by line below
    if "\r" in text:  # found in C at once; looking for "\r\n" scans slowly
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not plain:  # ASCII and the marks (none composes, none decomposes but in the
        text = unicodedata.normalize("NFC", text)  # compatibility forms) are in NFC
    text = xml_safe(text, plain)
    lines = [ln.rstrip() for ln in text.split("\n")]
    if not plain and _has_isolate(text):  # each line's isolates closed on it
        lines = [_closed_isolates(ln) for ln in lines]
    # a line opening with a letter or digit is not blank-ish: no need to ask the pattern
    return [ln if ln and (ln[0].isalnum() or not _BLANKISH.match(ln)) else "" for ln in lines]


_invisible = later("[\u00ad\u200b\u2060\ufeff\u202a-\u202e]")


# the explicit embeddings and overrides of Unicode's bidirectional algorithm (LRE, RLE,
# PDF, LRO, RLO): UAX #9 has isolates for new text; an RLO shows what follows it
# backwards, and an unclosed one turns the rest of a reader's line around
_OVERRIDES = re.compile("[\u202a-\u202e]")


def drop_invisible(text: str, close: bool = True) -> str:
    """Without the soft hyphen, the zero-width space, the word joiner and U+FEFF (a BOM,
    or a stray zero-width no-break space anywhere): a web page's CMS scatters them in
    copied text, where they split words and dates without showing (a title kept a soft
    hyphen after "meets", a keyword did not match "students" with one inside). Without
    the bidirectional embeddings and overrides either (``drop_overrides``). Zero-width
    (non-)joiners, the direction marks and the isolates stay: they shape and order some
    scripts (an isolate closed within the text unless ``close`` is false,
    ``_closed_isolates``)."""
    if text.isascii():
        return text
    if (
        "\u200b" in text or "\u2060" in text or "\ufeff" in text or "\u00ad" in text
        or _has_override(text)
    ):  # fmt: skip
        text = _invisible().sub("", text)
    return _closed_isolates(text) if close and _has_isolate(text) else text


def _has_override(text: str) -> bool:
    # five searches made in C; in text of Latin-1 characters alone (the no-break space),
    # Python answers each at once from the string's kind
    return (
        "\u202e" in text or "\u202d" in text or "\u202a" in text or "\u202b" in text
        or "\u202c" in text
    )  # fmt: skip


def drop_overrides(text: str) -> str:
    """Without the bidirectional embeddings and overrides (U+202A-U+202E): a hostile
    source can show a title or a line of its text backwards with them (U+202E, RIGHT-TO-LEFT
    OVERRIDE), and one left open turns the rest of a reader's line around. Text that
    needs another direction keeps its marks and isolates, each isolate closed within the
    text (``_closed_isolates``)."""
    if text.isascii():
        return text
    if _has_override(text):
        text = _OVERRIDES.sub("", text)
    return _closed_isolates(text) if _has_isolate(text) else text


def _has_isolate(text: str) -> bool:
    return "\u2066" in text or "\u2067" in text or "\u2068" in text or "\u2069" in text


def _closed_isolates(text: str) -> str:
    """``text`` with each isolate it opens (U+2066-U+2068) closed at its end, and a
    closing one (U+2069) that closes nothing dropped: one left open in a tag ran on past
    the tag's link on the page, reordering the rest of the line."""
    depth = 0
    out = []
    for c in text:
        if c in "\u2066\u2067\u2068":
            depth += 1
        elif c == "\u2069":
            if not depth:
                continue
            depth -= 1
        out.append(c)
    return "".join(out) + "\u2069" * depth


def xml_safe(text: str, plain: bool | None = None) -> str:
    """Drop what XML 1.0 cannot carry (control characters but tab and newline, lone
    surrogates, U+FFFE/U+FFFF), the other non-characters, and U+FFFD; but a vertical
    tab, a form feed and NEL (U+0085) are a space: they part words as a line break does
    (a PDF tool's text has a form feed at each page's end; "statement.\fThe" read
    "statement.The"). ``plain``: ``ascii_but_marks(text)``, when the caller has it."""
    if text.isascii():  # the same deletion and spacing, made in C
        raw = text.encode("ascii")
        return raw.translate(_SPACED_ASCII, _DROPPED_ASCII).decode("ascii")
    if ascii_but_marks(text) if plain is None else plain:
        # none of the marks is unsafe, so only ASCII characters can be: with each mark a
        # "?" (one byte for one character), the bytes tell in C whether one is there
        raw = text.encode("ascii", "replace")
        if len(raw.translate(None, _XML_UNSAFE_ASCII)) == len(raw):
            return text
    if "\x0b" in text or "\x0c" in text or "\x85" in text:
        text = text.translate(_SPACED)
    return _XML_UNSAFE.sub("", text)


_XML_UNSAFE_ASCII = bytes(b for b in range(128) if _XML_UNSAFE.match(chr(b)))
_SPACED = {0x0B: " ", 0x0C: " ", 0x85: " "}  # unsafe, yet white space: a space
_SPACED_ASCII = bytes.maketrans(b"\x0b\x0c", b"  ")
_DROPPED_ASCII = _XML_UNSAFE_ASCII.translate(None, b"\x0b\x0c")


def plain(s: str) -> str:
    """Text for a plain-text field (title, summary, paragraphs): character references
    resolved, then any HTML tag (``<script ...>``, ``</b>``, a comment) or entity
    reference (an unexpanded ``&xxe;`` from a hostile page) left out, white space
    collapsed. A lone ``<`` or ``&`` in prose stays, and so does a bare word in angle
    brackets that is no HTML element's name (``<Digital>``, not ``<x onfocus=...>``)."""
    if "<" not in s and "&" not in s:
        return s
    # what XML cannot carry goes first, and tags last: a reference to no character
    # inside a tag ("<b&#0;>", U+FFFD once resolved) hid it from the pattern, and
    # leaving the character out afterwards made it markup again ("<b>")
    s = xml_safe(html.unescape(s))
    if "&" in s:
        s = ENTITY_REF.sub(_leftover, s)
    if "<" in s:
        s = _untagged(s)
    return collapse(s)


def _leftover(m: re.Match[str]) -> str:
    """An entity reference still there once the text's references are resolved: a
    character escaped twice (a page's ``&amp;nbsp;``) is that character; an unknown
    name directly after a letter or digit is prose joined by "&" (``AT&T;``, written
    ``AT&amp;T;``: it read "AT"), and stays; any other (``&xxe;``) is left out."""
    ref = m.group()
    char = html.unescape(ref)
    if char != ref:
        return xml_safe(char)  # "&amp;#0;": a reference to no character, left out
    at = m.start()
    return ref if at and m.string[at - 1].isalnum() else " "


MAX_TAG_PASSES = 8  # tags within tags, taken out from the inside: more is hostile


def _untagged(s: str) -> str:
    """``s`` with every tag left out, to the last: a tag taken out may join what stood
    around it into another ("<img src=x onerror=alert(1)<b>>" is one once "<b>" goes),
    so the text is looked at again until none is left. Past ``MAX_TAG_PASSES`` every
    "<" goes (only markup built to hide is nested so deep)."""
    for _ in range(MAX_TAG_PASSES):
        s, n = tag().subn(" ", s)
        if not n:
            return s
    return s if tag().search(s) is None else s.replace("<", " ")


def collapse(s: str) -> str:
    """Runs of whitespace become one space; ends trimmed."""
    # Text whose only white space is single spaces between words is already collapsed
    # (a paragraph kept on one line, as most are): checked in C, faster than re-joining
    # it. In ASCII text the other white space characters are the few looked for here
    # (one fast search each, newline first: hard-wrapped text is common); elsewhere
    # every one of them is unprintable.
    if s[:1] != " " and s[-1:] != " ":
        if s.isascii():
            if not (
                "\n" in s
                or "\t" in s
                or "\r" in s
                or "\x0b" in s
                or "\x0c" in s
                or "\x1c" in s
                or "\x1d" in s
                or "\x1e" in s
                or "\x1f" in s
                or "  " in s  # last: a search for two characters is the slow one
            ):
                return s
        elif "  " not in s and s.isprintable():
            return s
    return " ".join(s.split())


_ASCII_SPACES_BUT_SPACE = b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"  # what collapse looks for


# a hard wrap between two Chinese or Japanese characters (or their punctuation): joined
# without a space, as those scripts write no space between words
_CJK = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"  # with kana


# compiled on first use (~2.5 ms: its classes span ~28,000 characters), not at
# every start: most releases never need it
_cjk_wrap = later(rf"(?<=[{_CJK}])[ \t]*\r?\n[ \t]*(?=[{_CJK}])")


def join_wraps(text: str) -> str:
    """``text`` with its hard wraps between two Chinese or Japanese characters taken out
    (those scripts put no space between words); the others are left for ``collapse``."""
    if "\n" in text and not text.isascii():
        return _cjk_wrap().sub("", text)
    return text


# a line that opens a list's item: "- ", "* ", "• ", "– ", "1. ", "2) ", "a) ", and
# in Chinese "一、" and "１．" (no space after)
_MARK = (
    r"[ \t]*(?:(?:[-*•–—]|\d{1,3}[.)]|[a-zа-я]\))[ \t]+\S"
    r"|(?:[一二三四五六七八九十]{1,3}|\d{1,3}|[０-９]{1,3})[、．](?![0-9０-９])\S)"  # "一、"
)
_ITEM = re.compile("^" + _MARK, re.MULTILINE)


_item_below = later("\n" + _MARK)  # one after a line break: a quick first look


VIEWS_MAX = 60


# a page's view counter: "Views: 1234", "Просмотров: 57", "浏览次数：57", "👁 57", "57 views"
_views = later(
    r"^(?:(?:views?|viewed|просмотр(?:ов|ы)?|浏览(?:次数|量)?|阅读(?:次数|量)?|点击(?:次数|量)?"
    r"|👁️?)\s*[:：]?\s*\d[\d\s,.]*(?:次)?|\d[\d,.]*(?:\s+[\d,.]+)*\s*(?:views?|просмотр(?:ов|а)?))$",
    re.I,
)


def view_counter(line: str) -> bool:
    """Whether a (collapsed) line is a page's view counter, no text of the release."""
    return len(line) <= VIEWS_MAX and _views().match(line) is not None


def list_item(para: str) -> bool:
    """Whether a paragraph is a list's item ("- security;", "2) culture.")."""
    return _ITEM.match(para) is not None


def blocks(cleaned: str) -> list[str]:
    """Paragraphs of cleaned plain text: blank-line separated, hard wraps joined (with no
    space between two Chinese characters: "上合组织\n秘书处" is "上合组织秘书处"). A
    block whose lines make a list (two items or more) is a paragraph an item, after
    the line that leads into it: joined, "- a meeting ...; - a meeting ...;" read as one
    sentence of dashes."""
    out: list[str] = []
    for block in _PARA_BREAK.split(cleaned):
        for part in _items(block) if "\n" in block and _item_below().search(block) else (block,):
            para = collapse(join_wraps(part).strip())  # mostly already collapsed then
            if para:
                out.append(para)
    return out


_DASHES = "-–—"  # item marks that are punctuation too, in Russian above all
# how the line above an item ends (not a comma: "созданная в 2001 году,\n– это ...")
_ITEM_ENDS = (":", ";", ".", "：", "；", "。")


def _items(block: str) -> list[str]:
    """``block`` as it reads: whole, or, when two lines or more open a list's item, its
    lead and its items (each with the lines that wrap it). A line opening with a dash
    opens an item only after a line that ends with a colon, a semicolon or a full
    stop, or right under an item's line: a dash with spaces around it is
    punctuation, and a hard-wrapped Russian paragraph split at each line it began ("а
    её принципы" / "– взаимное доверие ...")."""
    starts: list[int] = []
    line_end = -1  # where the line of the last item's start ends (-1: at the block's end)
    for m in _ITEM.finditer(block):
        at = m.start()
        # judged in place: a copy of the text above (``block[:at].rstrip()``) or below
        # each item made a list of 100,000 lines take minutes
        mark = at
        while block[mark] in " \t":  # the pattern opens with them, then a mark
            mark += 1
        end = at  # where the text above ends, its white space left out
        while end > 0 and block[end - 1].isspace():
            end -= 1
        last = block[end - 1 : end]
        if (
            block[mark] not in _DASHES
            or at == 0
            or last in _ITEM_ENDS
            # under an item: its own first line, or one ending with a comma (items of
            # a list "– укрепление ...,\n– развитие ...,")
            or (starts and (line_end < 0 or line_end >= end or last in (",", "，")))
        ):
            starts.append(at)
            line_end = block.find("\n", at, len(block))
    if len(starts) < 2:
        return [block]
    bounds = [0, *starts] if starts[0] > 0 else starts
    return [block[a:b] for a, b in zip(bounds, [*bounds[1:], len(block)], strict=True)]


_ASCII_NOT_ALNUM = bytes(b for b in range(128) if not chr(b).isalnum())


def compare_key(s: str) -> str:
    """Comparison key: letters and digits only, case-folded."""
    if s.isascii():  # the same key, made in C
        return s.lower().encode("ascii").translate(None, _ASCII_NOT_ALNUM).decode("ascii")
    # ASCII but for the typographic marks: no mark is a letter or a digit, nor has a
    # case, and the "?" each is in the image is not one either: the same, from the image
    image = ascii_image(s)
    if image is not None:
        return image.lower().encode("ascii").translate(None, _ASCII_NOT_ALNUM).decode("ascii")
    return "".join(filter(str.isalnum, s.casefold()))


def fold_key(s: str) -> str:
    """``compare_key`` with what only encodes or spells a letter otherwise folded away:
    Unicode compatibility forms (full-width letters and digits, ligatures, superscripts,
    "№": NFKC), composed or decomposed letters, and "ё" written "е" (Russian writes
    either). For comparing only: no published text goes through it. The same as
    ``compare_key`` for ASCII text."""
    return keys_of(s)[1]


def keys_of(s: str) -> tuple[str, str]:
    """``compare_key`` and ``fold_key`` of ``s``, the text case-folded and filtered once
    for both (normalise makes both for every release that is not English)."""
    if s.isascii() or ascii_image(s) is not None:  # no mark is alphanumeric, in NFKC too
        key = compare_key(s)
        return key, key
    folded = s.casefold()  # then NFKC: Unicode's NFKC_Casefold but for a few Greek marks
    key = "".join(filter(str.isalnum, folded))
    # Ё is ё once case-folded. str.replace, not str.translate: a translation table cost
    # as much as all the rest, 14 us a Russian first paragraph (python -m timeit)
    if unicodedata.is_normalized("NFKC", folded):  # a quick check (most text is)
        return key, key.replace("ё", "е")  # a letter for a letter: after the filter too
    folded = unicodedata.normalize("NFKC", folded).casefold()  # "№" is "No"
    return key, "".join(filter(str.isalnum, folded.replace("ё", "е")))


def _same_start(a: str, b: str) -> bool:
    """Cheap test first: could the comparison keys of a and b be equal at all?"""
    ka, kb = compare_key(a[:40]), compare_key(b[:40])
    return ka.startswith(kb) or kb.startswith(ka)


def _opens_alike(a: str, b: str) -> bool:
    """Cheaper still: False when a and b open with ASCII letters or digits that differ
    but for case, for those are then the first characters of their keys. Three of them
    where both have three (words in one language often share a first letter), else one."""
    x, y = a[:3], b[:3]
    both = x + y
    if len(both) == 6 and both.isascii() and both.isalnum():
        return x.lower() == y.lower()
    x, y = a[:1], b[:1]
    if x == y or not (x + y).isascii() or not (x + y).isalnum():
        return True
    return x.lower() == y.lower()


def dedupe(paras: list[str]) -> list[str]:
    """A paragraph repeated back to back (whatever its spacing or case) is kept once."""
    out: list[str] = []
    for p in paras:
        if out:
            prev = out[-1]
            if p == prev:
                continue
            # only paragraphs of about the same length can be one repeated
            near = abs(len(p) - len(prev)) <= max(8, len(p) // 5)
            if (
                near
                and _opens_alike(p, prev)
                and _same_start(p, prev)
                and compare_key(p) == compare_key(prev)
            ):
                continue
        out.append(p)
    return out


# where a text written without spaces (Chinese, Japanese) may be cut, best first: after a
# sentence's end, else after a clause's (a comma, an enumeration comma, a semicolon)
_CJK_STOPS = ("。！？", "；，、：")


def shorten(s: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut with an ellipsis: at most ``limit``
    characters, never inside a user-perceived one (``graphemes``: an emoji sequence, a
    flag, a letter and its marks). A text with no space in the last half of what may be
    kept, as Chinese is written, is cut after a sentence or a clause there (it was cut
    in the middle of a word: "上海合作组织秘书长在北京会见了巴基…")."""
    if len(s) <= limit:
        return s
    cut = clip(s, limit - 1)
    half = limit // 2
    if " " in cut[half:]:
        cut = cut[: cut.rfind(" ")]
    else:
        for stops in _CJK_STOPS:
            end = max(cut.rfind(c) for c in stops)
            if end >= half:
                cut = cut[: end + 1]
                break
    return cut.rstrip(" ,;:-，、；：") + "…"


REASON_MAX = 500  # characters of a withdrawal's reason kept (tombstone comment, page, webhook)


def clean_reason(reason: str) -> str:
    """A withdrawal's reason (``scofeed withdraw --reason``, a release's ``withdrawn``
    metadata): one line of text XML can carry, without bidirectional overrides (a
    U+202E left open turned the rest of the tombstone's, the page's and ``scofeed
    list``'s line around), at most ``REASON_MAX`` characters."""
    return shorten(drop_overrides(collapse(xml_safe(reason))), REASON_MAX)
