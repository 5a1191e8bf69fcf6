"""The headline and the body: which line is the title, which lines before it are page
chrome, and a stand-in headline when the release has none. Pure.

The first non-empty line is the title, then paragraphs (see ``text``); a title
repeated as the first paragraph is dropped from the body. Real releases are messier.
Leading page chrome (a date line, a breadcrumb, "Press release", a line in another
script) is skipped to find the headline, and its dates still count; when the first
real line is body text (over twice ``TITLE_MAX`` characters, sentences ended by full
stops, a long line ending in one, a wrapped line, or opening "On 3 June 2020, ...") the
headline is missing and the first sentence, shortened, stands in. A headline line is
kept whole, up to ``TITLE_MAX`` characters cut at a word: a "!", a "?" or a quotation
inside it does not end it. The title is plain text (``text.plain``) before it is cut.
Short paragraphs in another script than the release (captions, navigation) are dropped.
"""

from __future__ import annotations

import re

from scofeed.dates import LINE_CONTEXT, FoundDate, find_dates, is_date_line
from scofeed.errors import NormaliseError
from scofeed.model import Release
from scofeed.normalise.language import (
    FOREIGN_MAX,
    cjk_count,
    dominant_script,
    foreign,
    script_of,
)
from scofeed.normalise.text import (
    SENTENCE_ENDS,
    blocks,
    clean_lines,
    collapse,
    compare_key,
    dedupe,
    drop_invisible,
    join_wraps,
    shorten,
    view_counter,
    xml_safe,
)
from scofeed.normalise.text import plain as markup_free  # split_release has a `plain`
from scofeed.patterns import later
from scofeed.typography import ascii_but_marks

TITLE_MAX = 300  # a headline line is kept whole up to this, then cut at a word
HEADLINE_MAX = 110  # a headline made from the first sentence
HEADLINE_MAX_CJK = 40


_CRUMB_GLYPH = re.compile(r"\s?[»›]\s?")  # only breadcrumbs use these
_CRUMB_ASCII = re.compile(r"\s[>|/]\s")  # "Home > News > Item": also in headlines, so 3 parts
# each pattern, the parts a breadcrumb has at least, the characters the pattern needs
_CRUMBS = ((_CRUMB_GLYPH, 2, "»›"), (_CRUMB_ASCII, 3, ">|/"))
_CHROME_WORDS = {
    compare_key(w)
    for w in (
        "press release", "press releases", "news", "home", "print", "share", "back",
        "latest news", "secretariat news", "пресс-релиз", "пресс-релизы", "новости",
        "главная", "печать", "последние новости", "новости секретариата",
        "新闻", "首页", "新闻发布", "秘书处新闻", "新闻稿", "打印", "最新消息",
    )
}  # fmt: skip
_DATE_LEAD = re.compile(r"^(?:(?:on|in|from)\s+|в\s+|于)?", re.IGNORECASE)


_sentence_end = later(r"(?<=[.!?])\s+(?=[\"«“]?[A-ZА-ЯЁ])|(?<=[。！？])")


_full_stop = later(r"(?<=\.)\s+(?=[\"«“]?[A-ZА-ЯЁ])|(?<=。)")


_CLOSING_QUOTES = "\"'”»’ "
_ABBREV = {"mr", "mrs", "ms", "dr", "st", "no", "jr", "sr", "prof", "gen", "col", "lt", "vs"}


def _is_chrome(text: str, dominant: str | None, hits: list[FoundDate]) -> bool:
    """Page furniture before the headline: a date, a breadcrumb, a section name (a
    dateline too, but only before a headline: ``_dateline_over``). ``text``: the line
    collapsed; ``hits``: its dates, ``find_dates(text, LINE_CONTEXT)`` (the headline's
    other tests share them)."""
    if is_date_line(text, hits) or compare_key(text) in _CHROME_WORDS:
        return True
    if hits and "|" in text and len(text) <= 120:
        # "25 ноября 2026 г. | Просмотров: 57" over the headline was the title: a date
        # beside a view count, as a saved page's facts are
        facts = [p.strip() for p in text.split("|") if p.strip()]
        if len(facts) >= 2 and all(is_date_line(p) or view_counter(p) for p in facts):
            return True
    if len(text) <= 120:
        for pattern, least, marks in _CRUMBS:
            if not any(mark in text for mark in marks):
                continue  # the pattern cannot match: one part only
            parts = [p for p in pattern.split(text) if p.strip()]
            if len(parts) >= least and all(len(p.split()) <= 4 for p in parts):
                return True
            if len(parts) == 2 and all(compare_key(p) in _CHROME_WORDS for p in parts):
                return True  # "Home > News": two parts, each a section's name
    return len(text) < 120 and foreign(text, dominant)


_dateline_glue = later(r"^[\s,，、:：–—-]+|[\s,，、:：–—-]+$")


_acronym = later(r"\b[A-ZА-ЯЁ]{2,}\b")


# the cities of the SCO's datelines, which agencies write in capitals ("BEIJING, June
# 15, 2025"): a place, where another word in capitals is an organisation's name
_PLACES_IN_CAPITALS = {
    "beijing", "shanghai", "qingdao", "tianjin", "moscow", "st petersburg",
    "saint petersburg", "kazan", "ufa", "astana", "almaty", "tashkent", "samarkand",
    "dushanbe", "bishkek", "new delhi", "islamabad", "tehran", "minsk", "baku",
    "yerevan", "ulaanbaatar", "пекин", "шанхай", "москва", "астана", "алматы", "ташкент",
    "самарканд", "душанбе", "бишкек", "минск", "тегеран", "исламабад", "нью-дели",
}  # fmt: skip

# words that make "<words>, <date>" an event's name, not a place's ("Victory Day")
_EVENT_WORDS = {
    "day", "days", "summit", "forum", "week", "meeting", "council", "conference",
    "festival", "games", "year", "session", "anniversary", "expo", "exhibition",
    "день", "саммит", "форум", "неделя", "встреча", "совет", "конференция", "фестиваль",
    "год", "сессия", "годовщина", "выставка",
}  # fmt: skip


def _dateline_over(text: str, hits: list[FoundDate], lines: list[str], after: list[int]) -> bool:
    """A dateline (``_is_dateline``) over a headline: the next filled line (``after``:
    the indexes of the filled lines below) reads as one (not a sentence) and a body
    follows it. Without both, the line is the headline ("Victory Day, 9 May 2025")."""
    if len(after) < 2 or not _is_dateline(text, hits):
        return False
    below = collapse(lines[after[0]])
    return len(below) <= TITLE_MAX and not below.rstrip(_CLOSING_QUOTES).endswith((".", "。"))


def _is_dateline(text: str, hits: list[FoundDate]) -> bool:
    """A dateline: a place and a date and nothing else ("Beijing, 12 March 2025",
    "12 March 2025, Beijing", "Пекин, 12 марта 2025 г.", "北京，2025年3月12日"). The
    place is a word or two, not an organisation's name ("SCO Day, 15 June 2025" is a
    headline)."""
    if len(hits) != 1 or len(text) > 60 or (text.endswith((".", "。")) and text[-2:] != "г."):
        return False  # a sentence, not a dateline (but "12 марта 2025 г.")
    hit = hits[0]
    if hit.position != 0 and hit.position + len(hit.text) < len(text.rstrip(" .г,，:：–—-")):
        return False  # the date at neither end (a dash or colon may end the line)
    place = _dateline_glue().sub(
        "", text[: hit.position] + " " + text[hit.position + len(hit.text) :]
    )
    place = re.sub(r"(?:^|\s)(?:г\.?|года)(?=\s|$)", " ", place).strip()
    if not place or re.search(r"\d|上合|上海合作", place):
        return False
    if _acronym().search(place) and place.casefold() not in _PLACES_IN_CAPITALS:
        return False  # an organisation's name ("SCO, 15 June 2025"), not a place's
    if script_of(place) == "cjk":
        return len(place) <= 4
    words = place.split()
    return (
        len(words) <= 2
        and all(w[:1].isupper() for w in words)
        and not any(w.casefold() in _EVENT_WORDS for w in words)
    )


# what a caption opens with: "Photo: SCO Secretariat", "Фото: пресс-служба ШОС", "照片："
_caption = later(r"(?:photo|фото)\b|照片|图片|图为", re.IGNORECASE)


NATIVE_MIN = 30  # characters of a paragraph in the release's script that is body text


def _without_captions(paras: list[str], dominant: str | None) -> list[str]:
    """The body without the short paragraphs in another script that are page furniture:
    a caption ("Фото: ..." in an English release), or a run of them before the first or
    after the last paragraph in the release's own script (navigation, a footer) that is
    short in all (``FOREIGN_MAX``). Others stay: a Latin company name listed in a
    Russian release, the Chinese half of a release in English and Chinese (all of them
    went). A date line in another script stays: it is the page's date stamp, which
    normalise takes out."""
    short = [foreign(p, dominant) and not is_date_line(p) for p in paras]
    if not any(short):
        return paras
    # the body's own text: its paragraphs in its script, a footer's short line aside
    # ("版权所有" after "English / Русский" kept those as if mid-body)
    native = [i for i, other in enumerate(short) if not other]
    native = [i for i in native if len(paras[i]) >= NATIVE_MIN] or native
    first, last = (native[0], native[-1]) if native else (len(paras), -1)
    edges = [i for i in range(len(paras)) if short[i] and (i < first or i > last)]
    lead = [i for i in edges if i < first]
    tail = [i for i in edges if i > last]
    dropped = {i for i, other in enumerate(short) if other and _caption().match(paras[i])}
    for run in (lead, tail):
        if sum(len(paras[i]) for i in run) <= FOREIGN_MAX:
            dropped.update(run)
    return [p for i, p in enumerate(paras) if i not in dropped]


def _date_lead_end(
    line: str, hits: list[FoundDate] | None = None, any_word: bool = True
) -> int | None:
    """Where "On 3 June 2020," ends when a line opens with a date and a comma, or with
    "On" and a date, or a date "года", before a word (``any_word``; else only before a
    capital) (``hits``: ``find_dates(line, LINE_CONTEXT)`` when the caller has it)."""
    lead = _DATE_LEAD.match(line)
    start = lead.end() if lead else 0
    if hits is None:
        hits = find_dates(line, LINE_CONTEXT)
    found = hits[0] if hits else None
    if found is None or found.position != start:
        return None
    end = start + len(found.text)
    after = re.match(r"\s*[,，、]\s*", line[end:])
    said_on = lead is not None and lead.group(0).strip().casefold() == "on"
    if after is None and (said_on or found.text.endswith(("года", "г."))):
        # "On 12 March 2025 SCO...", "8 июня 2020 года Генеральный...": a date clause
        # without its comma, said so by its "On" or "года", before a word ("12 марта
        # 2025 года в Пекине", "On 12 March 2025 in Beijing": before a capital only,
        # such a release's first sentence was taken for its headline, and left its body)
        after = re.match(r"\s+(?=\w)" if any_word else r"\s+(?=[A-ZА-ЯЁ])", line[end:])
    return end + after.end() if after else None


def _looks_like_body(
    text: str, hits: list[FoundDate], next_line: str | None, last: bool = False
) -> bool:
    """The first real line (``text``, collapsed; ``hits``, its dates as ``_is_chrome``
    takes them; ``last``: no text follows it) is body text, not a headline."""
    words = len(text.split())
    if len(text) > 2 * TITLE_MAX:  # a headline over the cap is cut; one this long is not one
        return True
    ends = text.rstrip(_CLOSING_QUOTES)
    sentence = ends.endswith((".", "。"))  # a headline has no full stop
    # a date lead opens a sentence; a short one may be a headline ("On 9 May, Victory
    # Day"), unless nothing follows it (then it is the release, not its headline) or it
    # is a Chinese sentence (short, and ending in "。"). Before a lower-case word it
    # opens one only in a sentence: "1 декабря 2025 года в Бишкеке откроется ..."
    if _date_lead_end(text, hits, any_word=sentence) is not None and (
        len(text) > 40 or last or ends.endswith("。")
    ):
        return True
    # "!", "?" and quotes inside a headline do not end it: only full stops count here
    if len(text) > 100 and _first_sentence_break(text, _full_stop()) is not None:
        return True
    if sentence and (words >= 15 or cjk_count(text) >= 40):
        return True
    return bool(next_line and next_line.strip()[:1].islower())


def _first_sentence_break(text: str, ends: re.Pattern[str] | None = None) -> int | None:
    """Where the first sentence of ``text`` ends (not after an initial, an abbreviation
    or a dotted word), or None. The word before each end is found by looking back from
    it, not by splitting all the text before it: that made a paragraph of many short
    sentences ("A b. A b. ...", 80 KB) take seconds."""
    for m in (ends or _sentence_end()).finditer(text):
        end = m.start()
        while end > 0 and text[end - 1].isspace():
            end -= 1
        start = end
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        word = text[start:end].rstrip(".!?").casefold()
        if len(word) <= 1 or word in _ABBREV or "." in word:
            continue
        return m.start()
    return None


def headline_from(paragraph: str) -> str:
    """A stand-in headline: the first sentence, without a leading date clause, shortened."""
    text = markup_free(paragraph)  # no markup, so that no cut falls inside a tag
    first = _first_sentence_break(text)
    sentence = text if first is None else text[:first]
    lead = _date_lead_end(sentence)
    # what must be left of it: 20 characters, 8 in Chinese (as much as a headline says)
    least = 8 if script_of(sentence) == "cjk" else 20
    if lead is not None and len(sentence) - lead > least:
        sentence = sentence[lead:]
        sentence = sentence[:1].upper() + sentence[1:]
    sentence = sentence.strip().rstrip(".。").strip()
    limit = HEADLINE_MAX_CJK if script_of(sentence) == "cjk" else HEADLINE_MAX
    return shorten(sentence, limit)


def _spaced(text: str) -> str:
    """``text`` with each no-break space (U+00A0) a space: the same title, body and chrome
    lines come of it. Everything ``split_release`` reads in its lines takes the two alike:
    they are white space to ``collapse`` (which makes each run of it one space: the title,
    the paragraphs and the chrome lines are collapsed), to ``strip`` and to ``\\s`` (the
    blank-line and blank-ish patterns); neither is a letter of any script, nor does
    either compose with a neighbour in NFC (U+00A0 decomposes to a space only
    in the compatibility forms) or count as unsafe in XML. The seed, as most SCO releases,
    has one after many short words ("met with\\xa0Jingdong at\\xa0the"): without them its
    text is ASCII, and every fast path for ASCII text applies to it."""
    if text.isascii() or "\xa0" not in text:
        return text
    return text.replace("\xa0", " ")


# the words a headline's line cannot end on: it goes on, on the next line. An English
# headline may end on "for", "in" or "on" ("the future we work for", "believes in"), not
# on an article, "of", "with", "to" and the like; a Russian one ends on no preposition
_GOES_ON = {
    "the", "of", "and", "a", "an", "between", "its", "their", "with", "to", "at", "by",
    "from", "into", "as",
    "и", "в", "во", "на", "с", "со", "по", "к", "о", "об", "для", "при", "за", "из", "от",
    "между", "у",
}  # fmt: skip


def _wraps_on(line: str, below: str | None, after: str) -> bool:
    """Whether a headline copied across two lines goes on on the line ``below`` it
    (then ``after``, a blank line): ``line`` ends on a word no headline ends on ("...
    Minister of Foreign Affairs of the" / "Republic of Belarus ..."), or a comma (a
    Chinese one, "，" or "、", too) or a hyphen, and ``below`` is no sentence and no
    date. Cut there, the title lost its end and the rest of it was the summary."""
    if not below or after.strip() or below[-1:] in ".!?。！？:":
        return False
    below = collapse(below)
    last = line.rsplit(None, 1)[-1]
    ends = line.endswith((",", "，", "、", "-", "–", "—")) or last.casefold() in _GOES_ON
    return ends and len(line) + len(below) <= TITLE_MAX and not find_dates(below, LINE_CONTEXT)


# a date stamp in figures at a headline's end ("... Ambassador of Iran 14.03.2025"), or
# a time at its start ("10:30 SCO Secretary-General opens ..."), as a page lists them
_stamp_at_end = later(
    r"\s*[-–—|,·•]?\s*(\d{1,2}[./]\d{1,2}[./]\d{4}|\d{4}-\d{2}-\d{2})"
    r"(?:\s?г\.?)?(?:,?\s+\d{1,2}:\d{2})?$"  # "25.11.2026 г.", as Russian writes it
)


_time_at_start = later(r"^\d{1,2}:\d{2}\s*[-–—|·•]?\s+(?=\S)")


STAMPED_MIN = 20  # characters a headline keeps once its stamp is off, at least
STAMPED_MIN_CJK = 8  # in Chinese or Japanese: most of their headlines are 10 to 20
# words that make a date at a headline's end its own: "of", "от", "dated", "on"...
_DATE_OF = {"of", "on", "dated", "from", "since", "until", "to", "at", "for", "от", "на",
            "с", "до", "за", "по", "к", "в", "of:", "dated:"}  # fmt: skip


def _stamp_off(title: str) -> tuple[str, str]:
    """(the headline without a date stamp in figures at its end or a time at its start,
    the stamp taken off or ""): a page's list item copied whole kept them in every
    feed's title. A date in words stays ("SCO Day, 15 June 2025" is a headline)."""
    # most end in a word: the pattern's search is spared them
    if title[-1:].isdigit() or title.endswith(("г.", " г")):
        end = _stamp_at_end().search(title)
        before = title[: end.start()].rsplit(None, 1)[-1:] if end is not None else []
        # "... Foreign Ministers of 14.03.2025", "... СМИД ШОС от 14.03.2025": the date
        # is the headline's own (a communiqué's), not a stamp beside it
        if (
            end is not None
            and end.start() >= _stamped_min(title[: end.start()])
            and not (before and before[0].casefold() in _DATE_OF)
        ):
            return title[: end.start()], end.group().strip(" -–—|,·•")
    if title[:1].isdigit():
        start = _time_at_start().match(title)
        if start is not None and len(title) - start.end() >= _stamped_min(title[start.end() :]):
            return title[start.end() :], ""
    return title, ""


def _stamped_min(kept: str) -> int:
    return STAMPED_MIN_CJK if script_of(kept) == "cjk" else STAMPED_MIN


FACT_MAX = 60  # characters of a line under the headline that may be a fact about the page


def _facts_under(lines: list[str], start: int) -> tuple[list[str], int]:
    """The lines from ``start`` to the first blank one (the rest of the headline's
    block), each a paragraph of its own when each is short and no sentence: the date,
    time, view count or place under a headline ("18.03.2025 15:20" / "Views: 345"),
    which were one paragraph, so the date was no stamp and the whole the summary; a
    view counter among them is left out. With how many lines were read so; none
    otherwise: the lines of a paragraph are one paragraph."""
    facts = []
    for line in lines[start:]:
        if not line.strip():
            break
        text = collapse(line)
        if len(text) > FACT_MAX or text.endswith((*SENTENCE_ENDS, ":", ";", ",")):
            return [], 0  # a sentence, or a lead wrapped short, going on
        facts.append(text)
    if len(facts) == 1 and view_counter(facts[0]):
        return [], 1  # a view counter alone under the headline: no text of the release
    # a date, a time or a count among them: a place alone under a date is one too
    dated = any(c.isdigit() for text in facts for c in text)
    if len(facts) < 2 or not dated:
        return [], 0
    # each a paragraph of its own, but for a view counter, which is no text at all
    return [text for text in facts if not view_counter(text)], len(facts)


def split_release(release: Release, plain: bool | None = None) -> tuple[str, list[str], list[str]]:
    """The title, the body paragraphs, and the chrome lines skipped before the headline
    (kept for their dates). ``plain``: ``ascii_but_marks(release.text)``, when the caller
    has it."""
    raw = _spaced(release.text)  # a no-break space is a mark: as plain as the text
    if plain is None:
        plain = ascii_but_marks(raw)  # so is the text cleaned: cleaning adds nothing past ASCII
    lines = clean_lines(raw, plain)
    text = "\n".join(lines)
    meta_title = collapse(xml_safe(drop_invisible(release.title or "")))
    whole = blocks(text) if meta_title else None  # the body, and what the script is judged by
    dominant = dominant_script(text, whole, lines, plain or None)
    preamble: list[str] = []
    derived = False
    if whole is not None:
        title = meta_title
        paras = whole
        # a section label kept above the headline of a saved page ("Press releases",
        # "Пресс-релизы", "新闻稿"): chrome, as before a text release's headline
        while paras and compare_key(paras[0]) in _CHROME_WORDS:
            preamble.append(paras.pop(0))
    else:
        filled = [i for i, ln in enumerate(lines) if ln]  # clean: a blank line is empty
        if not filled:
            raise NormaliseError(f"{release.origin}: no title (the release is empty)")
        seen = []  # (index, collapsed text, its dates) of each line looked at
        for n, i in enumerate(filled[:6]):
            line = collapse(lines[i])
            seen.append((i, line, find_dates(line, LINE_CONTEXT)))
            hits = seen[-1][2]
            if not (
                _is_chrome(line, dominant, hits)
                or _dateline_over(line, hits, lines, filled[n + 1 :])
            ):
                break
        else:
            seen = seen[:1]  # nothing but chrome: read it as the plain layout
        first, line, hits = seen[-1]  # the headline's line
        preamble = [text for _i, text, _hits in seen[:-1]]
        nxt = lines[first + 1] if first + 1 < len(lines) else None
        wraps = _wraps_on(line, nxt, lines[first + 2] if first + 2 < len(lines) else "")
        # a line going on in lower case opens a paragraph, not when a headline wraps
        if _looks_like_body(line, hits, None if wraps else nxt, last=first == filled[-1]):
            paras = blocks("\n".join(lines[first:]))
            title = headline_from(paras[0]) if paras else ""
            derived = True  # the title is made from the body: its first paragraph stays
        else:
            title, rest = line, first + 1
            if wraps:
                # no space between two Chinese characters (``join_wraps``)
                title, rest = collapse(join_wraps(f"{line}\n{collapse(nxt or '')}")), first + 2
            title, stamp = _stamp_off(title)
            if stamp:
                preamble.append(stamp)  # its date still counts, as a stamp's does
            facts, taken = _facts_under(lines, rest)
            paras = [*facts, *blocks("\n".join(lines[rest + taken :]))]
    paras = dedupe(_without_captions(paras, dominant))
    if paras and not derived and compare_key(paras[0]) == compare_key(title):
        paras = paras[1:]  # the headline repeated as the body's first line
    if whole is None and not derived and len(paras) > 1 and len(paras[0]) <= FACT_MAX:
        # (the date search only for a short first paragraph: ~10 us a release otherwise)
        if _is_dateline(paras[0], find_dates(paras[0], LINE_CONTEXT)):
            preamble.append(paras.pop(0))  # a dateline under the headline: as one above
    if not compare_key(title):
        raise NormaliseError(f"{release.origin}: no title")
    # plain text (markup and entity references out) before it is cut: a cut inside a tag
    # ("... <a href=...>") left "<a…" for every reader to see
    return (title if derived else shorten(markup_free(title), TITLE_MAX)), paras, preamble
