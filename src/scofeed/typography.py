"""The marks English releases are typed with beyond ASCII, and the test for text that
holds no other character past ASCII. Pure.

Real English releases are seldom ASCII: the no-break space (the seed has one after many
short words), typographic quotes and apostrophes, en and em dashes, the ellipsis. The
normaliser and the date search have fast paths for ASCII text (made in C: bytes
translated, searched, counted); each of them that also holds for these marks asks
``ascii_but_marks`` instead of ``str.isascii`` and says there why it holds. What the
marks have in common: none is a letter or a digit (of any script, nor after case
folding: they have no case), none composes or decomposes in NFC (the no-break space
and the ellipsis decompose in the compatibility forms only), none is a character XML
cannot carry. The no-break space alone is white space (``\\s``, ``str.isspace``); the
dashes are in the date patterns' ranges ("8–9 June") as "-" is.
"""

from __future__ import annotations

# each mark, and the bytes it takes in UTF-8 past the one of an ASCII character; the
# likeliest first (the no-break space last: normalise has made it a space by then)
_MARKS = (("’", 2), ("“", 2), ("”", 2), ("–", 2), ("—", 2), ("‘", 2), ("…", 2), ("\xa0", 1))
MARKS = "".join(mark for mark, _extra in _MARKS)


def ascii_but_marks(text: str) -> bool:
    """Every character of ``text`` is ASCII or one of ``MARKS``, told in C. A character
    past ASCII takes two to four bytes in UTF-8, and each mark two (the no-break space:
    lead byte C2) or three (the others: lead byte E2). The bytes past one a character
    are as many as the marks take only when there is no other character: first as many
    as the C2 and E2 lead bytes make (Cyrillic or Chinese text fails here), then as many
    as the marks, each counted by a fast search, the count stopping once they add up
    (most text holds one or two kinds)."""
    if text.isascii():
        return True
    raw = text.encode("utf-8", "surrogatepass")
    extra = len(raw) - len(text)
    if extra != raw.count(b"\xc2") + 2 * raw.count(b"\xe2"):
        return False
    for mark, size in _MARKS:
        extra -= text.count(mark) * size
        if extra == 0:
            return True
    return False


def ascii_image(text: str) -> str | None:
    """``text`` as ASCII with each mark a "?": the same length, every other character
    where it was (a mark is one character, and so is "?"). None when ``text`` holds a
    character past ASCII that is not a mark."""
    if text.isascii():
        return text
    if not ascii_but_marks(text):
        return None
    return text.encode("ascii", "replace").decode("ascii")
