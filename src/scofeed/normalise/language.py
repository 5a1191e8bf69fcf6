"""Scripts and languages: which script writes a text, which one the release is
written in, which paragraphs are in another (captions, navigation), and the language
to declare. Pure.
"""

from __future__ import annotations

import functools
import re
import string

from scofeed.normalise.text import blocks, collapse

FOREIGN_MAX = 300  # a paragraph in another script this short is a caption or navigation

_CJK_CLASS = r"[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]"
# runs of each script's letters: counted by their lengths (one string a run rather than
# one a character)
_CYRILLIC_RUN = re.compile(r"[\u0400-\u04FF]+")
_LATIN_RUN = re.compile(r"[A-Za-z\u00C0-\u024F]+")


_ASCII_LETTERS = string.ascii_letters.encode()


@functools.cache
def _cjk() -> re.Pattern[str]:
    """Runs of Chinese characters, compiled when text that is not ASCII first asks (the
    class spans 27,000 code points: 2.6 ms to compile, none of it needed in English)."""
    return re.compile(_CJK_CLASS + "+")


def _letter_counts(text: str) -> tuple[int, int, int]:
    """How many Latin, Cyrillic and CJK characters ``text`` holds. ASCII text (most
    releases) is counted in C by deleting its letters, not by a regex per letter."""
    if text.isascii():
        raw = text.encode("ascii")
        return len(raw) - len(raw.translate(None, _ASCII_LETTERS)), 0, 0
    return _count(_LATIN_RUN, text), _count(_CYRILLIC_RUN, text), _count(_cjk(), text)


def _count(runs: re.Pattern[str], text: str) -> int:
    """How many characters of ``text`` the runs of ``runs`` cover."""
    return sum(map(len, runs.findall(text)))


def cjk_count(text: str) -> int:
    """How many Chinese characters ``text`` holds."""
    return 0 if text.isascii() else _count(_cjk(), text)


def script_of(text: str) -> str | None:
    """'latin', 'cyrillic' or 'cjk' when one writes most of ``text``, else None."""
    latin, cyrillic, cjk = _letter_counts(text)
    counts = {
        "latin": latin,
        "cyrillic": cyrillic,
        "cjk": 3 * cjk,  # one ideograph carries a word's worth
    }
    total = sum(counts.values())
    if total == 0:
        return None
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] >= 0.7 * total else None


def dominant_script(text: str, paragraphs: list[str] | None = None) -> str | None:
    """The script the release is written in, judged by its longer paragraphs
    (``paragraphs``: ``blocks(text)`` when the caller has them already)."""
    if text.isascii() and _long_ascii_line_with_letter(text):
        # that line's paragraph is long and holds a letter, and ASCII letters are all
        # Latin: the full reckoning below would say "latin" too
        return "latin"
    if paragraphs is None:
        paragraphs = blocks(text)
    long = [p for p in paragraphs if len(p) >= 80]
    return script_of(" ".join(long)) if long else script_of(text)


def _long_ascii_line_with_letter(text: str) -> bool:
    """Some line, whitespace collapsed, is 80 or more characters long and holds a
    letter. Its paragraph (a superset of its words) is then one of the long ones."""
    for line in text.split("\n"):
        if len(line) >= 80 and len(collapse(line)) >= 80 and _letter_counts(line)[0]:
            return True
    return False


def foreign(text: str, dominant: str | None) -> bool:
    if dominant is None or len(text) > FOREIGN_MAX:
        return False
    if dominant == "latin" and text.isascii():
        return False  # ASCII letters are all Latin: script_of would say "latin" or None
    own = script_of(text)
    return own is not None and own != dominant


# an ISO 639 language code, the primary subtag of a BCP 47 tag: all a language may be
# (it names feed folders, xml:lang and lang attributes)
_CODE = re.compile(r"[a-z]{2,3}")


def language_code(value: str | None) -> str | None:
    """``value`` when it is a plain language code ('en', 'ru', 'zh'), else None: a
    source's stated language (a remote feed's ``<language>``...) is only a claim."""
    return value if value is not None and _CODE.fullmatch(value) else None


def detect_language(text: str, default: str) -> str:
    """'ru' or 'zh' for text written mostly in Cyrillic or Chinese script, else default.
    The first few thousand characters tell."""
    text = text[:4000]
    if text.isascii() or (not _CYRILLIC_RUN.search(text) and not _cjk().search(text)):
        return default
    lat, cyr, cjk = _letter_counts(text)
    total = cyr + cjk + lat
    if total == 0:
        return default
    if cjk * 3 >= total:  # one ideograph carries a word's worth of letters
        return "zh"
    if cyr * 2 > total:
        return "ru"
    return default
