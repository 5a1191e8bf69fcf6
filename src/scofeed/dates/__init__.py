"""Dates: what a release states about itself, what its URL says, and the zone they take.

    forms      the date forms understood (English, Russian, Chinese; relative ones)
    windowed   where a date can begin, so each pattern is tried only there
    find       find_date / find_dates / is_date_line / date_stamp over a text
    values     the date in a URL path, ISO metadata stamps, putting a zone on them

Pure throughout: no I/O, no clock (callers pass the context and reference dates in).
"""

from __future__ import annotations

from scofeed.dates.find import LINE_CONTEXT, date_stamp, find_date, find_dates, is_date_line
from scofeed.dates.forms import MIN_YEAR, NEAR_DAYS, FoundDate, yearless
from scofeed.dates.values import aware, date_from_url, midnight, parse_iso, parse_stamp

__all__ = [
    "LINE_CONTEXT",
    "MIN_YEAR",
    "NEAR_DAYS",
    "FoundDate",
    "aware",
    "date_stamp",
    "date_from_url",
    "find_date",
    "find_dates",
    "is_date_line",
    "midnight",
    "parse_iso",
    "parse_stamp",
    "yearless",
]
