"""dates._matches tries the day forms only at runs of one or two digits and the ISO
form only at runs of four; texts full of longer and shorter digit runs next to month
words, dots and dashes must give what the full scan gives."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scofeed.dates import _find_dates

digits = st.one_of(
    st.sampled_from(["3", "03", "06", "10", "12", "30", "2020", "1999", "123", "20201", "0"]),
    st.integers(0, 999_999).map(str),
)
glue = st.sampled_from(["", " ", "  ", ".", "-", " - ", ", ", "st ", "th ", " to ", "\n"])
words = st.sampled_from(
    ["2020-06-03", "June", "sept.", "May", "dec", "of", "июня", "года", "月", "日", "x"]
)
phrase = st.tuples(digits, glue, st.one_of(words, digits), glue, digits).map("".join)
texts = st.lists(st.one_of(phrase, digits, glue, words), max_size=8).map(" ".join)
days = st.one_of(st.none(), st.dates(min_value=date(1995, 1, 1), max_value=date(2030, 12, 31)))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, context=days, reference=days)
def test_digit_run_filter_finds_what_the_full_scan_finds(text, context, reference):
    windowed = _find_dates(text, context, 2100, reference, windowed=True)
    full = _find_dates(text, context, 2100, reference, windowed=False)
    assert windowed == full
