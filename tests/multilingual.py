"""A site of synthetic releases in English, Russian and Chinese, for the index and
browser tests: more than one index page, dates spread over a month, tags in each."""

from __future__ import annotations

from pathlib import Path

TAGS = """
[tags]
economy = ["e-commerce", "digital economy"]
security = ["security", "безопасности", "安全"]
"""

_TEXTS = {
    "en": (
        "Secretary-General meets delegation number {i}",
        "On {d} June 2020 the SCO Secretary-General met a delegation on digital economy "
        "and e-commerce, number {i}. Intergovernmentalcooperationframeworkagreement "
        "Intergovernmentalcooperationframeworkagreementwithoutspaces.",
    ),
    "ru": (
        "Генеральный секретарь ШОС встретился с делегацией номер {i}",
        "{d} июня 2020 года Генеральный секретарь ШОС провёл встречу по вопросам "
        "безопасности, номер {i}, в Секретариате организации.",
    ),
    "zh": (
        "上合组织秘书长会见代表团第{i}号",
        "2020年6月{d}日，上合组织秘书长在秘书处会见代表团，双方讨论了“安全”合作，第{i}号。",
    ),
}
LANGUAGES = tuple(_TEXTS)


def write_releases(sources: Path, n: int) -> None:
    """``n`` releases, the languages in turn, dated 1 to 28 June 2020."""
    for i in range(n):
        lang = LANGUAGES[i % 3]
        title, body = _TEXTS[lang]
        d = 1 + i % 28
        text = title.format(i=i) + "\n\n" + body.format(i=i, d=d) + "\n"
        (sources / f"{i:03d}_{lang}.txt").write_text(text, encoding="utf-8")
