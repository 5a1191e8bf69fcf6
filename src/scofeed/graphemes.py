r"""Where text may be cut: between user-perceived characters (grapheme clusters, Unicode
UAX #29), never inside one. Pure, standard library only.

A title, summary or tag cut to a length kept half a cluster when the cut fell inside
one: a family emoji (👩‍👩‍👧) showed as a woman and a dangling joiner, a waving hand lost
its skin tone, a flag (two regional indicators) became a lone letter box, a keycap its
frame, a Devanagari or Vietnamese letter its vowel sign or tone mark. ``cut`` moves a
cut back to the cluster's start.

The rule is UAX #29's, made for cutting, and never looser than it: no break before an
extending character (a combining or spacing mark, a variation selector, an emoji
modifier, a tag character, the zero-width joiners), after a zero-width joiner (an
emoji ZWJ sequence; the standard also breaks after one between letters, where cutting
a character earlier does no harm), after a prepended mark (Arabic number signs),
inside a Hangul syllable written in jamo, inside a pair of regional indicators (a
flag), between CR and LF, or after a virama that joins two consonants (a Devanagari
conjunct: क्ष). Wherever the standard allows a break, this allows it too, or else
cuts earlier: the text kept is never longer than asked.

Why not a library: the `regex` module's ``\X`` matches clusters exactly, but it is one
more compiled dependency that nearly every build would load (most releases' summaries
are cut), for the one question asked here: may the text be cut at this place.
"""

from __future__ import annotations

import unicodedata

ZWJ = "\u200d"
# Grapheme_Cluster_Break=Extend past the marks (Mn, Me): the zero-width non-joiner, the
# emoji modifiers (skin tones, Sk), the tag characters of a subdivision flag (Cf), the
# halfwidth katakana sound marks (Lm)
_EXTEND_RANGES = ((0x200C, 0x200C), (0x1F3FB, 0x1F3FF), (0xE0020, 0xE007F), (0xFF9E, 0xFF9F))
# SpacingMark letters that are not Mc: Thai and Lao sara am
_SPACING_LETTERS = frozenset("\u0e33\u0eb3")
# Prepend: the Arabic and Syriac number and end-of-ayah signs, which carry what follows
_PREPEND = frozenset("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2")
# the viramas that join consonants into a conjunct (InCB=Linker): Devanagari, Bengali,
# Gujarati, Oriya, Telugu, Malayalam
_LINKERS = frozenset("\u094d\u09cd\u0acd\u0b4d\u0c4d\u0d4d")
_RI_FIRST, _RI_LAST = 0x1F1E6, 0x1F1FF  # regional indicators: two make a flag


def _extends(c: str) -> bool:
    """``c`` joins the cluster before it (Extend, ZWJ, SpacingMark)."""
    if c.isascii():
        return False
    if unicodedata.category(c) in ("Mn", "Me", "Mc") or c == ZWJ or c in _SPACING_LETTERS:
        return True
    n = ord(c)
    return any(lo <= n <= hi for lo, hi in _EXTEND_RANGES)


def _ri(c: str) -> bool:
    return _RI_FIRST <= ord(c) <= _RI_LAST


def _hangul(c: str) -> str:
    """The Hangul syllable type of ``c``: L, V, T, LV, LVT, or "" for none."""
    n = ord(c)
    if 0x1100 <= n <= 0x115F or 0xA960 <= n <= 0xA97C:
        return "L"
    if 0x1160 <= n <= 0x11A7 or 0xD7B0 <= n <= 0xD7C6:
        return "V"
    if 0x11A8 <= n <= 0x11FF or 0xD7CB <= n <= 0xD7FB:
        return "T"
    if 0xAC00 <= n <= 0xD7A3:
        return "LV" if (n - 0xAC00) % 28 == 0 else "LVT"
    return ""


_HANGUL_JOINS = {
    "L": ("L", "V", "LV", "LVT"),
    "V": ("V", "T"),
    "LV": ("V", "T"),
    "T": ("T",),
    "LVT": ("T",),
}


def _conjunct(text: str, at: int) -> bool:
    """A virama before ``at`` (past any marks) that joins the letter there to the one
    before it: the two are one cluster (UAX #29, GB9c)."""
    if not unicodedata.category(text[at]).startswith("L"):
        return False
    i = at - 1
    seen_linker = False
    while i >= 0 and (text[i] in _LINKERS or _extends(text[i])):
        seen_linker = seen_linker or text[i] in _LINKERS
        i -= 1
    return seen_linker and i >= 0 and unicodedata.category(text[i]).startswith("L")


def is_boundary(text: str, at: int) -> bool:
    """Whether ``text`` may be cut before index ``at`` (``text[:at]``) without
    splitting a user-perceived character."""
    if at <= 0 or at >= len(text):
        return True
    before, after = text[at - 1], text[at]
    if before.isascii() and after.isascii():
        return not (before == "\r" and after == "\n")  # ASCII: every other place
    if _extends(after) or before == ZWJ or before in _PREPEND:
        return False
    if _ri(before) and _ri(after):
        run = 0  # regional indicators before ``at``: pairs are flags
        i = at - 1
        while i >= 0 and _ri(text[i]):
            run += 1
            i -= 1
        return run % 2 == 0
    joins = _HANGUL_JOINS.get(_hangul(before))
    if joins is not None and _hangul(after) in joins:
        return False
    return not _conjunct(text, at)


def cut(text: str, at: int) -> int:
    """The last place at or before ``at`` where ``text`` may be cut (``is_boundary``):
    ``text[:cut(text, at)]`` is ``text[:at]`` without a part of a cluster at its end."""
    at = max(0, min(at, len(text)))
    while not is_boundary(text, at):
        at -= 1
    return at


def clip(text: str, at: int) -> str:
    """``text[:at]`` cut back to a cluster's start (``cut``)."""
    return text[: cut(text, at)]


def ellipsized(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters: cut where ``clip`` may cut, with an
    ellipsis, when longer (a webhook's or a post's title and summary)."""
    return text if len(text) <= limit else clip(text, limit - 1).rstrip() + "…"
