"""The marks English releases are typed with beyond ASCII, and the test for text that
holds no other character past ASCII. Pure.

Real English releases are seldom ASCII: the no-break space (the seed has one after many
short words), typographic quotes and apostrophes, en and em dashes, the ellipsis. The
normaliser and the date search have fast paths for ASCII text (made in C: bytes
translated, searched, counted); each of them that also holds for these marks asks
``ascii_but_marks`` (or ``ascii_image``) instead of ``str.isascii`` and says there why
it holds. What the marks have in common: none is a letter or a digit (of any script,
nor after case folding: they have no case), none composes or decomposes in NFC (the
no-break space and the ellipsis decompose in the compatibility forms only), none is a
character XML cannot carry. The no-break space alone is white space (``\\s``,
``str.isspace``); the dashes are in the date patterns' ranges ("8–9 June") as "-" is.
"""

from __future__ import annotations

MARKS = "\xa0‘’“”–—…"  # no-break space, quotes, apostrophe, en and em dashes, ellipsis


def ascii_but_marks(text: str) -> bool:
    """Every character of ``text`` is ASCII or one of ``MARKS``. Each mark the text
    holds is replaced by a space, then whether the rest is ASCII is known at once (a
    str knows whether it is): a fast search and a copy in C for each of the few marks,
    where each "?" of the ASCII image was looked at in Python (a release with a quote in
    every sentence holds dozens)."""
    for mark in MARKS:
        if text.isascii():
            return True
        if mark in text:
            text = text.replace(mark, " ")
    return text.isascii()


def ascii_image(text: str, plain: bool | None = None) -> str | None:
    """``text`` as ASCII with each mark a "?": the same length, every other character
    where it was. None when ``text`` holds a character past ASCII that is not a mark.
    ``plain``: ``ascii_but_marks(text)``, when the caller knows it."""
    if text.isascii():
        return text
    if plain is None:
        plain = ascii_but_marks(text)
    # the encoder writes a "?" for each character past ASCII: positions stay
    return text.encode("ascii", "replace").decode("ascii") if plain else None
