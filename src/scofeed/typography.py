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


def _image(text: str) -> bytes | None:
    """``text`` encoded as ASCII with each mark a "?" (the encoder writes one for each
    character past ASCII: positions stay), or None when a character past ASCII is not a
    mark: each "?" is looked at (a fast search in C finds the next), and the first that
    stands for another character (Cyrillic, Chinese ...) ends the search."""
    image = text.encode("ascii", "replace")
    at = image.find(b"?")
    while at >= 0:
        char = text[at]
        if char != "?" and char not in MARKS:
            return None
        at = image.find(b"?", at + 1)
    return image


def ascii_but_marks(text: str) -> bool:
    """Every character of ``text`` is ASCII or one of ``MARKS``."""
    if text.isascii():
        return True
    if "\xa0" in text:  # a mark, and many in a release: spaces, they need no look each
        text = text.replace("\xa0", " ")
        if text.isascii():
            return True
    return _image(text) is not None


def ascii_image(text: str, plain: bool | None = None) -> str | None:
    """``text`` as ASCII with each mark a "?": the same length, every other character
    where it was. None when ``text`` holds a character past ASCII that is not a mark.
    ``plain``: ``ascii_but_marks(text)``, when the caller knows it."""
    if text.isascii():
        return text
    if plain is not None:
        return text.encode("ascii", "replace").decode("ascii") if plain else None
    image = _image(text)
    return image.decode("ascii") if image is not None else None
