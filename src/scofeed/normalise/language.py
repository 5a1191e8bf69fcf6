"""Scripts and languages: which script writes a text, which one the release is
written in, which paragraphs are in another (captions, navigation), and the language
to declare. Pure.
"""

from __future__ import annotations

import string

from scofeed.languages import language_tag
from scofeed.normalise.text import blocks, collapse
from scofeed.typography import ascii_but_marks, ascii_image

FOREIGN_MAX = 300  # a paragraph in another script this short is a caption or navigation

# The letters counted, by script (what ``_letter_counts`` counts; the tests hold it to
# these classes): Latin [A-Za-z\u00C0-\u024F], Cyrillic [\u0400-\u04FF], CJK
# [\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]. Text that is not ASCII is counted in C
# from its UTF-16 code units, whose high byte names a block of 256 code points: a
# regex made one string a letter (or a run) and scanned ~6 ns a character.
_ASCII_LETTERS = string.ascii_letters.encode()
_BELOW_C0 = bytes(range(0xC0))  # Latin-1 bytes that are not letters from U+00C0 on
# high bytes of code points in the CJK class, but 0x4D: only U+4D00-U+4DBF are in it
_NOT_CJK_HIGH = bytes(b for b in range(256) if not (0x34 <= b <= 0x9F or b in (0xF9, 0xFA)))


def _letter_counts(text: str) -> tuple[int, int, int]:
    """How many Latin, Cyrillic and CJK characters ``text`` holds, counted in C by
    deleting bytes (not by a regex per letter)."""
    image = text if text.isascii() else ascii_image(text)
    if image is not None:  # no mark is a letter, nor the "?" each is in the image
        raw = image.encode("ascii")
        return len(raw) - len(raw.translate(None, _ASCII_LETTERS)), 0, 0
    ascii_part = text.encode("ascii", "ignore")
    latin1_part = text.encode("latin-1", "ignore")
    units = text.encode("utf-16-le", "surrogatepass")
    high = units[1::2]
    latin = (
        len(ascii_part)
        - len(ascii_part.translate(None, _ASCII_LETTERS))
        + len(latin1_part.translate(None, _BELOW_C0))  # U+00C0-U+00FF
        + high.count(0x01)  # U+0100-U+01FF
        + _in_block(units, high, 0x02, 0x00, 0x4F)  # U+0200-U+024F
    )
    cyrillic = high.count(0x04)  # U+0400-U+04FF
    cjk = (
        len(high.translate(None, _NOT_CJK_HIGH))
        - _in_block(units, high, 0x4D, 0xC0, 0xFF)  # U+4DC0-U+4DFF are not CJK
    )
    return latin, cyrillic, cjk


def _in_block(units: bytes, high: bytes, block: int, low_from: int, low_to: int) -> int:
    """How many UTF-16 code units in the block of 256 code points ``block`` have their
    low byte from ``low_from`` to ``low_to`` (few: these blocks are rare in releases)."""
    found = 0
    at = high.find(block)
    while at >= 0:
        found += low_from <= units[2 * at] <= low_to
        at = high.find(block, at + 1)
    return found


def cjk_count(text: str) -> int:
    """How many Chinese characters ``text`` holds."""
    return 0 if ascii_but_marks(text) else _letter_counts(text)[2]  # no mark is a letter


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


def dominant_script(
    text: str,
    paragraphs: list[str] | None = None,
    lines: list[str] | None = None,
    plain: bool | None = None,
) -> str | None:
    """The script the release is written in, judged by its longer paragraphs
    (``paragraphs``: ``blocks(text)``, ``lines``: ``text.split("\\n")`` and ``plain``:
    ``ascii_but_marks(text)``, when the caller has them already)."""
    if plain is None:
        plain = ascii_but_marks(text)
    if plain and _long_ascii_line_with_letter(text.split("\n") if lines is None else lines):
        # that line's paragraph is long and holds a letter, and ASCII letters are all
        # Latin (no mark is a letter): the full reckoning below would say "latin" too
        return "latin"
    if paragraphs is None:
        paragraphs = blocks(text)
    long = [p for p in paragraphs if len(p) >= 80]
    return script_of(" ".join(long)) if long else script_of(text)


def _long_ascii_line_with_letter(lines: list[str]) -> bool:
    """Some line, whitespace collapsed, is 80 or more characters long and holds a
    letter. Its paragraph (a superset of its words) is then one of the long ones. The
    lines are ASCII but for the typographic marks: their letters are ASCII ones."""
    for line in lines:
        if len(line) >= 80 and len(collapse(line)) >= 80 and _holds_ascii_letter(line):
            return True
    return False


def _holds_ascii_letter(text: str) -> bool:
    """``text`` (ASCII but for the marks) holds a letter."""
    raw = text.encode("ascii", "replace")  # each mark a "?"
    return len(raw.translate(None, _ASCII_LETTERS)) < len(raw)


def foreign(text: str, dominant: str | None) -> bool:
    if dominant is None or len(text) > FOREIGN_MAX:
        return False
    if dominant == "latin" and ascii_but_marks(text):
        # ASCII letters are all Latin, and no mark is a letter: script_of would say
        # "latin" or None
        return False
    own = script_of(text)
    return own is not None and own != dominant


def language_code(value: str | None) -> str | None:
    """The language code of a tag ('pt' for 'pt-BR', 'az' for 'az-Arab'), else None."""
    tag = language_tag(value)
    return tag.partition("-")[0] if tag else None


# the scripts written right to left (ISO 15924): Arabic (and its Nastaliq), Hebrew,
# Thaana, Syriac (and its variants), N'Ko, Adlam, Hanifi Rohingya, Mandaic, Samaritan,
# Yezidi, Mende Kikakui, and the historic ones of the Near East and Central Asia
RTL_SCRIPTS = frozenset(
    "arab aran hebr thaa syrc syre syrj syrn nkoo adlm rohg mand samr yezi mend phnx "
    "armi avst chrs elym hatr khar lydi mani narb nbat orkh palm phli phlp prti sarb "
    "sogd sogo ougr hung".split()
)  # fmt: skip
# languages written right to left when no script is named (their code): their text is
# marked dir="rtl"; with the old codes of Hebrew and Yiddish (iw, ji), and Dari,
# Western Punjabi in Shahmukhi, Mazanderani, Gilaki, Northern Luri and N'Ko
RTL_LANGUAGES = frozenset(
    "ar arc ckb dv fa he khw ks ps sd syr ug ur yi iw ji prs pnb mzn glk lrc nqo".split()
)  # fmt: skip


def direction(language: str) -> str:
    """The direction text in ``language`` (a tag) runs in: by its script subtag when it
    names one ("rtl" for az-Arab, uz-Arab, pa-Arab; "ltr" for ar-Latn, ku-Latn), else by
    its language (``RTL_LANGUAGES``: Arabic, Hebrew, Persian, Urdu...); "ltr" for the
    rest."""
    parts = language.lower().replace("_", "-").split("-")
    scripts = [p for p in parts[1:] if len(p) == 4 and p.isalpha()]
    if scripts:
        return "rtl" if scripts[0] in RTL_SCRIPTS else "ltr"
    return "rtl" if parts[0] in RTL_LANGUAGES else "ltr"


# the languages told by their script: on a site in one of them, text in Latin script
# is not in the site's language, and the SCO's third language is English
BY_SCRIPT = ("ru", "zh")
LATIN_DEFAULT = "en"


def detect_language(text: str, default: str, plain: bool | None = None) -> str:
    """'ru' or 'zh' for text written mostly in Cyrillic or Chinese script, else default;
    on a site whose language is 'ru' or 'zh', text without a Cyrillic or Chinese letter
    is 'en' (text mixing them stays the site's). The first few thousand characters
    tell. ``plain``: ``ascii_but_marks(text)``, when the caller knows it."""
    latin = LATIN_DEFAULT if language_code(default) in BY_SCRIPT else default
    if plain:  # no Cyrillic or Chinese letter: no mark is a letter
        return latin
    text = text[:4000]
    if ascii_but_marks(text):  # no Cyrillic or Chinese letter: no mark is a letter
        return latin
    lat, cyr, cjk = _letter_counts(text)
    if not cyr and not cjk:
        return latin
    total = cyr + cjk + lat
    if cjk * 3 >= total:  # one ideograph carries a word's worth of letters
        return "zh"
    if cyr * 2 > total:
        return "ru"
    return default
