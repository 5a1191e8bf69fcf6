"""Dates that arrive ready-made, and the zone put on them. Pure.

``date_from_url`` reads the date in a release URL's path (the one URL-date rule, used
by the HTML page reader and by normalise). ``parse_stamp`` reads an ISO 8601 / RFC 3339
metadata value, leaving a zone-less one naive; ``aware`` and ``midnight`` give naive
values the configured zone (``site.timezone``), which normalise does for every release.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from scofeed.patterns import later

_URL_DATE = (  # compiled at the first URL read (a text release has none)
    later(r"/(?P<y>(?:19|20)\d\d)(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?=[/_-]|$)"),
    later(r"/(?P<y>(?:19|20)\d\d)[/-](?P<m>0[1-9]|1[0-2])[/-](?P<d>0[1-9]|[12]\d|3[01])(?!\d)"),
)


def date_from_url(url: str | None) -> date | None:
    """The date in a release URL's path: /20220125/813122.html, /news/20220125,
    /2022/01/25/..., /2022-01-25-...; None when there is none or it is not a real day."""
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    for pattern in _URL_DATE:
        m = pattern().search(path)
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                continue
    return None


def midnight(day: date, tz: str) -> datetime:
    """A date-only value as midnight in the configured zone: always timezone-aware."""
    return datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(tz))


def aware(value: datetime, tz: str) -> datetime:
    """Give a naive datetime the configured zone; leave an aware one alone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo(tz))


def parse_stamp(value: str) -> datetime | None:
    """An ISO 8601 / RFC 3339 date or date-time from metadata; None if not one. A value
    without a zone (a date-only one is midnight) stays naive: normalise puts it in the
    configured zone."""
    value = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return datetime.combine(date.fromisoformat(value), time(0, 0))
        if value[-1:] in ("Z", "z"):  # RFC 3339 allows either case, for "T" too
            value = value[:-1] + "+00:00"
        found = datetime.fromisoformat(value)
    except ValueError:
        return None
    offset = found.utcoffset()
    if offset is not None and offset % timedelta(minutes=1):
        # ISO 8601 allows an offset of "+05:45:30"; RFC 3339 (Atom, JSON Feed) and RFC 822
        # (RSS) have whole minutes only: the same instant is kept, in UTC
        try:
            return found.astimezone(UTC)
        except OverflowError:  # in year 1 or 9999: passed over as implausible anyway
            return found
    return found


def parse_iso(value: str, tz: str) -> datetime | None:
    """``parse_stamp``, a zone-less value put in ``tz``."""
    found = parse_stamp(value)
    return aware(found, tz) if found is not None else None
