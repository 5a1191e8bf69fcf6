"""A release's two dates: when it was published, and the day of what it reports. Pure.

``published`` is when the Secretariat published the release, taken from the first clue
that holds, in this order:

    1. metadata      the release's own ``date`` (front matter, JSON, a feed item; for
                     a page read by ``sources.htmlpage``: its ``article:published_time``
                     / ``<time>``, its date-stamp element, the date in its URL)
    2. page / url    its date-stamp line (a short line that is only a date, above or
                     below the text; taken out of the text) when it agrees with the
                     date in the release URL's path, else that URL date
    3. text          the first date the text states, unless it lies after the file's
                     date (a dateline's, when there is one), or more than ``FAR_DAYS``
                     from every other clue (the other dates in the text, the page's
                     date, a dateline's, the file's date): an
                     anniversary piece that recalls a founding decades earlier, then
                     states this year's ceremony, is dated by the ceremony. The file's
                     date alone never rules a stated date out: a file may be copied
                     long after the release was published (an archive, a fresh
                     clone's seed).
    4. mtime         the file's modification time (for a web page: the time it was read),
                     in whole seconds, like "now"; a feed item has none, and one that
                     none of 1-3 dates is rejected (``NO_ITEM_DATE``)

Year-less and relative dates in the text go by the page's date, else the metadata date,
else a dateline's (a date stated with its year before the headline), else the file's
date (``scofeed.dates.yearless``: never after it). A dateline the evidence contradicts
(after the file's date, or far from it and from the body's dates while they agree with
it) is none (``_dateline_day``). A year-less date that took the file's year is marked
(``year_guessed``): ingest may correct it by an earlier version of the release. A
relative date ("yesterday", "on Thursday") read by the file's date alone says no more
than that date does, which an edit or a copy moves: the publication date or event date
it gave is marked (``day_guessed``, ``event_guessed``), and ingest keeps the one an
earlier version of the release was read with.

A date more than a day after ``now`` (when the release is first seen) is passed over,
and no entry is dated after ``now``. The **event date** is the first date the text states
(a range's first day) that passes the same guards and is not after the publication: the
day of the meeting the release reports. It is shown, never used for ordering.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from scofeed.config.redact import logged
from scofeed.dates import FoundDate, aware, date_from_url, date_stamp, find_dates, midnight
from scofeed.errors import NormaliseError
from scofeed.frozen import frozen
from scofeed.model import Release
from scofeed.patterns import later

log = logging.getLogger(__name__)

YEARS_APART = 3 * 366  # without a strong clue, a relative date rules out only dates this far
FAR_DAYS = 60  # a text date further than this from every other clue does not date the release
# no release is dated before this year, in its own zone (midnight of 1 January 1990 in
# Beijing, 1989 in UTC, was passed over)
EARLIEST_YEAR = 1990
AHEAD = timedelta(days=1)  # a stated date this far past ``now`` is a time zone, not an error
ONE_DAY = timedelta(days=1)
NO_ITEM_DATE = "no date in the feed item, its link or its text"


@frozen(many=True)
class Dates:
    """A release's publication date, where it came from, and its event date."""

    published: datetime  # timezone-aware, never after ``now``
    source: str  # metadata | page | url | text | mtime | now
    event: date | None  # the first date the text states for what happened
    year_guessed: bool = False  # a text date without its year, read by the file's date
    day_guessed: bool = False  # ``published``: a relative date, read by the file's date
    event_guessed: bool = False  # ``event``: a relative date, read by the file's date


def plausible(when: datetime | None, now: datetime, origin: str, what: str) -> bool:
    """A date from 1990 up to a day after ``now`` (when the release is first seen); any
    other is passed over, with a log line naming it."""
    if when is None:
        return False
    if when.year >= EARLIEST_YEAR and when <= now + AHEAD:
        return True
    if log.isEnabledFor(logging.INFO):  # isoformat is not free, nor lazy in a log call
        log.info("date_implausible origin=%s %s=%s", logged(origin), what, when.isoformat())
    return False


def take_stamps(
    paras: list[str], preamble: list[str], context: date | None
) -> tuple[list[str], list[str], list[FoundDate], list[str]]:
    """Date-stamp lines out of the text: those among the lines before the headline, and
    the first and the last paragraph. Returns the paragraphs and preamble left, the
    stamps' dates, and the paragraphs taken out (to take out of the HTML too)."""
    stamps: list[FoundDate] = []
    rest_pre = []
    for line in preamble:
        found = date_stamp(line, context)
        if found is None:
            rest_pre.append(line)
        else:
            stamps.append(found)
    body = list(paras)
    removed = []
    for at in (0, -1):
        if len(body) > 1 and (found := date_stamp(body[at], context)) is not None:
            stamps.append(found)
            removed.append(body.pop(at))
    return body, rest_pre, stamps, removed


def day_in(value: datetime, tz: str) -> date:
    """The calendar day of ``value`` in the configured zone."""
    return aware(value, tz).astimezone(ZoneInfo(tz)).date()


def _at(found: FoundDate, tz: str) -> datetime:
    if found.at is not None:  # in the zone named after it ("10:00 Moscow time"), else tz
        zone = found.zone if found.zone is not None else ZoneInfo(tz)
        return datetime.combine(found.day, found.at, tzinfo=zone)
    return midnight(found.day, tz)


def _first_text_date(
    found: list[FoundDate], strong: Sequence[date], weak: Sequence[date], limit: date
) -> FoundDate | None:
    """The first stated date not after ``limit`` and not far from every other clue: the
    other text dates and the ``strong`` clues (the page's date) can rule it out; a
    ``weak`` one (the file's date: a file may be copied years after the release) only
    vouches for it. Without a strong clue, a relative date ("today", "on Thursday",
    "сегодня", "今天") was read by the file's date and says no more than it does: it
    rules out only a date years away (a founding recalled on its anniversary), not one
    of the last years (a quote saying "today" in a release copied a year later ruled out
    the date the release states, and dated it by the copy)."""
    for i, f in enumerate(found):
        if f.day > limit:
            continue
        judges = [
            g.day
            for j, g in enumerate(found)
            if j != i and (strong or not g.relative or abs((f.day - g.day).days) > YEARS_APART)
        ] + list(strong)
        if not judges or any(abs((f.day - c).days) <= FAR_DAYS for c in [*judges, *weak]):
            return f
    return None


def _dateline_day(
    texts: list[str], lead: int, now: datetime, tz: str, file_day: date | None, origin: str
) -> date | None:
    """The first date stated with its year on the ``lead`` lines before the headline, if
    any, unless the evidence says its year is wrong: it lies after the file's date (a
    file cannot hold a release published after it was written; a day allowed for time
    zones), or far from the file's date and from every date the body states with its
    year while one of those is near the file's date (the body and the file agree, the
    dateline with neither: "Beijing, 12 March 2015" over "On 12 March 2025" in a file of
    March 2025). Then there is none: what the dateline would have decided goes by the
    next clue (the file's date), with a log line naming the file and why."""
    for line in texts[:lead]:
        for f in find_dates(line, None):
            if not f.had_year or f.relative or f.day.year < EARLIEST_YEAR:
                continue
            if midnight(f.day, tz) > now + AHEAD:
                continue
            if file_day is None:
                return f.day
            why = ""
            if f.day > file_day + ONE_DAY:
                why = "after_file"
            elif abs((f.day - file_day).days) > FAR_DAYS and _body_disagrees(
                f.day, texts[lead:], file_day
            ):
                why = "far_from_text"
            if not why:
                return f.day
            log.info(
                "date_dateline_ignored origin=%s dateline=%s file=%s reason=%s",
                logged(origin), f.day, file_day, why,
            )  # fmt: skip
            return None
    return None


def _body_disagrees(day: date, body: list[str], file_day: date) -> bool:
    """The body states a date with its year near ``file_day``, and none near ``day``."""
    stated = [f.day for text in body for f in find_dates(text, None) if f.had_year]
    near = any(abs((s - file_day).days) <= FAR_DAYS for s in stated)
    return near and all(abs((s - day).days) > FAR_DAYS for s in stated)


def _years_as_stated(
    found: list[FoundDate],
    times: dict[int, datetime],
    tz: str,
    file_day: date | None,
    texts: list[str],
) -> list[FoundDate]:
    """A year-less date read by the file's date that lands far from it (a file copied
    long after), which a date stated with its year repeats by month and day ("Beijing,
    12 March 2025" over "On 12 March, ..."), is that date: each ruled the other out.
    Else it takes the year that puts it near the first date stated with a year (of the
    last three years) that it can be near ("BEIJING, March 20, 2025 - ..." over "The
    forum continued until 21 March"): read in the file's year, it ruled out the stated
    date and the release was dated by its file. One near the file's date stays as read
    (an anniversary: "On 15 June, ... founded on 15 June 2001" is this year's) unless
    the release opens with a date stated with its year (of the last three years: its
    text's first words, not a date recalled in a sentence) that it can be near: "On
    21 October 2025, ... He thanked the guests for their visit on 21 October", in a
    file of December 2026 (a fresh clone), was dated 2026-10-21. ``times`` is kept up
    to date."""
    with_year = [f.day for f in found if f.had_year and not f.relative]
    stated = {(d.month, d.day): d for d in reversed(with_year)}
    first = found[0] if found else None
    # the release's own date: one its text opens with ("On 21 October 2025, ...",
    # "Beijing, 21 October 2025 –", "On Tuesday, 21 October 2025,", "当地时间2025年10月
    # 21日"), not one recalled in a sentence ("Following the decisions of the Summit of
    # 4 July 2024, on 10 July ...": further in, or after "of")
    opening = (
        [first.day]
        if first is not None and first.had_year and not first.relative
        and _opens(first, texts)
        else []
    )  # fmt: skip
    out = []
    for f in found:
        far = file_day is None or abs((f.day - file_day).days) > FAR_DAYS
        day = None
        if not f.had_year and far:
            day = stated.get((f.day.month, f.day.day))
            if day is None and not f.relative:
                day = _near_one_of(f.day, with_year, file_day)
        elif not f.had_year and not f.relative and opening:
            day = _near_one_of(f.day, opening, file_day)
        if day is not None and day != f.day:
            f = f._replace(day=day, had_year=True)
            times[id(f)] = _at(f, tz)
        out.append(f)
    return out


OPENING_AT = 30  # characters before a date that opens its text, at most


# what may stand before a date that opens a release: "On", "From", "Today,", a weekday
# ("On Tuesday,", "Во вторник,"), "当地时间"; or a dateline's place ("Beijing,")
_opener = later(
    r"(?:(?:on|in|from|today|в|во|с|со|сегодня)\b,?\s*)?"
    r"(?:(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|понедельник|вторник"
    r"|среду|четверг|пятницу|субботу|воскресенье)\b,?\s*)?|当地时间|北京时间",
    re.IGNORECASE,
)


_place = later(r"(?:[A-ZА-ЯЁ][\w'-]*\s+){0,2}[A-ZА-ЯЁ][\w'-]*,\s*")


def _opens(found: FoundDate, texts: list[str]) -> bool:
    """Whether ``found`` opens the first text holding it: nothing before it but an
    opening word, a weekday or a dateline's place. A date recalled in a sentence
    ("Following the decisions of the Summit of 4 July 2024, on 10 July ...", "After the
    Astana Summit on 4 July 2024, ...", "По итогам саммита 4 июля 2024 года ...") is
    no release's own."""
    if found.position > OPENING_AT:
        return False
    for text in texts:
        if text[found.position : found.position + len(found.text)] == found.text:
            before = text[: found.position]
            return _opener().fullmatch(before) is not None or _place().fullmatch(before) is not None
    return False


def _near_one_of(day: date, stated: Sequence[date], file_day: date | None) -> date | None:
    """``day`` in the year that puts it within ``FAR_DAYS`` of the first of ``stated``
    it can be so near, and not after the file's date; None if none. A stated date
    years before the file's is history recalled (a founding in an anniversary piece),
    no year for the release's other dates: it is passed over."""
    for near in stated:
        if file_day is not None and (file_day - near).days > YEARS_APART:
            continue
        for year in (near.year, near.year - 1, near.year + 1):
            try:
                moved = day.replace(year=year)
            except ValueError:  # 29 February
                continue
            late = file_day is not None and moved > file_day + ONE_DAY
            if abs((moved - near).days) <= FAR_DAYS and not late:
                return moved
    return None


def choose(
    release: Release,
    texts: list[str],
    stamps: list[FoundDate],
    tz: str,
    now: datetime,
    plain: bool = False,
    lead: int = 0,
) -> Dates:
    """The publication date and its source, and the event date (see the module text).
    ``plain``: the texts are all ASCII but for the typographic marks (as the caller
    knows: ``scofeed.typography``), so the date search need not look. ``lead``: how many
    of the ``texts`` are lines before the headline (a dateline: "Beijing, 12 March
    2025"), whose first date stated with its year is what year-less and relative dates
    go by when the page and the metadata state none: by the file's date, "On 10 March"
    under a dateline of 2025 was March of the year the file was copied."""
    origin = release.origin
    context = release.context_date
    if context is not None and not plausible(aware(context, tz), now, origin, "mtime"):
        context = None
    file_day = day_in(context, tz) if context is not None else None
    url_day = date_from_url(release.url)
    if url_day is not None and not plausible(midnight(url_day, tz), now, origin, "url"):
        url_day = None
    stamp = next((s for s in stamps if plausible(_at(s, tz), now, origin, "stamp")), None)
    stated: datetime | None = None
    if release.published is not None:
        stated = aware(release.published, tz)
        if not plausible(stated, now, origin, "metadata"):
            stated = None
    meta_day = day_in(stated, tz) if stated is not None else None
    page_day = url_day or (stamp.day if stamp else None)
    dateline_day = (
        None if page_day or meta_day else _dateline_day(texts, lead, now, tz, file_day, origin)
    )
    anchor = page_day or meta_day or dateline_day or file_day
    found: list[FoundDate] = []  # (the anchor: what year-less and relative dates go by)
    times: dict[int, datetime] = {}  # id of each found date -> its time, made once
    max_year = now.year + 1
    before_body = 0  # how many of them the lines before the headline state
    for n, text in enumerate(texts):
        for f in find_dates(text, anchor, max_year=max_year, reference=anchor, plain=plain or None):
            at = _at(f, tz)
            if plausible(at, now, origin, "text"):
                found.append(f)
                times[id(f)] = at
        if n + 1 == lead:
            before_body = len(found)
    strong = [d for d in (page_day, meta_day) if d is not None]
    weak = [file_day] if file_day is not None else []
    if not strong and not all(f.had_year for f in found):
        found = _years_as_stated(found, times, tz, file_day, texts)

    published: datetime | None = None
    source = ""
    guessed = False
    day_guessed = False
    by_file = not (page_day or meta_day or dateline_day)  # relative dates read by its date
    if stated is not None:
        published, source = stated, "metadata"
    if published is None and stamp is not None and (url_day is None or stamp.day == url_day):
        published, source = _at(stamp, tz), "page"
    if published is None and url_day is not None:
        published, source = midnight(url_day, tz), "url"
    if published is None and found:  # none found: no text date to choose
        today = now.astimezone(ZoneInfo(tz)).date()
        judges = [dateline_day] if dateline_day else []
        first = _first_text_date(found, judges, weak, min(anchor or today, today) + ONE_DAY)
        if first is not None:
            published, source = times[id(first)], "text"
            # no page, metadata or dateline date: a year-less date took the file's year
            guessed = dateline_day is None and not first.had_year and not first.relative
            day_guessed = by_file and first.relative
        else:
            log.info("date_far origin=%s text=%s", logged(origin), found[0].day)
    # a time scofeed takes for the date (the file's, the moment it was first seen) is in
    # whole seconds and stated in the site's zone, as the dates a release states are:
    # in UTC, a release first seen on 1 January in Beijing went to December's archive
    zone = ZoneInfo(tz)
    seen = now.replace(microsecond=0).astimezone(zone)
    if published is None and context is not None:
        log.info("date_fallback origin=%s source=mtime", logged(origin))
        published, source = aware(context, tz).replace(microsecond=0).astimezone(zone), "mtime"
    if published is None:
        if release.published is None and release.context_date is None:
            # a file has its mtime and a page the time it was read: only a feed item
            # comes with neither, and it is rejected (there is no file date to name)
            raise NormaliseError(f"{origin}: {NO_ITEM_DATE}")
        log.info("date_fallback origin=%s source=now", logged(origin))
        published, source = seen, "now"
    published = min(published, seen)  # never dated after it was first seen
    day = day_in(published, tz)
    if source in ("metadata", "page", "url"):
        strong.append(day)
    else:
        weak.append(day)
    # the event: the body's first date that holds (a dateline tells where and when the
    # release was written, "On 10 March" below it what happened), else a dateline's
    # (a dateline the evidence ruled out vouches for nothing, nor does one far from the
    # page's or metadata date: "Beijing, 12 March 2024" over a release dated 2025)
    datelines = [f for f in found[:before_body] if f.had_year and not f.relative]
    if page_day or meta_day:
        trusted = [f for f in datelines if any(abs((f.day - s).days) <= FAR_DAYS for s in strong)]
    else:
        trusted = datelines if dateline_day else []
    dateline = [f.day for f in trusted]
    event = _first_text_date(found[before_body:], [*strong, *dateline], weak, day + ONE_DAY)
    if event is None and before_body:
        ruled_out = {id(f) for f in datelines} - {id(f) for f in trusted}
        kept = [f for f in found if id(f) not in ruled_out] if ruled_out else found
        event = _first_text_date(kept, strong, weak, day + ONE_DAY)
    event_guessed = event is not None and by_file and event.relative
    return Dates(
        published, source, event.day if event else None, guessed, day_guessed, event_guessed
    )
