"""A release that states its date without a year is dated by its file's time: the latest
such day on or before it. A copy or an edit written within 60 days after the
anniversary of that day got the next year. The store knows an earlier version of the
release (read when its file was fresh): that is the evidence its year goes by. Real
folders and a real SQLite file."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from conftest import entry_of
from scofeed.build import Tuning
from scofeed.build import build as run_build

SHANGHAI = ZoneInfo("Asia/Shanghai")
# as the Secretariat writes a short release: the day without its year
TALKS = (
    "SCO Secretary-General meets the Ambassador of Belarus\n\n"
    "On 3 March, SCO Secretary-General Nurlan Yermekbayev met with the Ambassador "
    "Extraordinary and Plenipotentiary of the Republic of Belarus to China.\n\n"
    "The parties discussed the preparations for the meeting of the Council of Foreign "
    "Ministers of the SCO member states.\n"
)
FRESH = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)  # the file written the day after
LATE = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)  # 17 days after the anniversary


def write(site, name: str, text: str, when: datetime) -> None:
    path = site.sources / name
    path.write_text(text, encoding="utf-8")
    os.utime(path, (when.timestamp(), when.timestamp()))


def day(entry) -> date:
    return entry.published.astimezone(SHANGHAI).date()


def test_an_edit_written_after_the_anniversary_keeps_the_year_it_was_read_with(site):
    write(site, "talks.txt", TALKS, FRESH)
    run_build(site.config(), site.store(), FRESH)
    first = entry_of(site, "talks.txt")
    assert (day(first), first.date_source) == (date(2025, 3, 3), "text")

    # a typo corrected a year later: the file's time is now 20 March 2026
    write(site, "talks.txt", TALKS.replace("preparations", "preparation"), LATE)
    report = run_build(site.config(), site.store(), LATE)

    edited = entry_of(site, "talks.txt")
    assert report.updated == 1 and edited.id == first.id and edited.revision == 2
    assert day(edited) == date(2025, 3, 3)  # not 3 March 2026
    assert edited.event_date == date(2025, 3, 3)


def test_a_file_renamed_and_edited_late_keeps_its_year(site):
    """The file moved to a new name with a correction a year on (it continues its entry):
    its new file's time read "3 March" as 2026."""
    write(site, "talks.txt", TALKS, FRESH)
    run_build(site.config(), site.store(), FRESH)
    first = entry_of(site, "talks.txt")
    (site.sources / "talks.txt").unlink()
    write(site, "talks-copy.txt", TALKS.replace("preparations", "preparation"), LATE)
    report = run_build(site.config(), site.store(), LATE)
    copy = entry_of(site, "talks-copy.txt")
    assert (report.new, copy.id) == (0, first.id)
    assert day(copy) == date(2025, 3, 3)


def test_a_day_corrected_late_is_corrected_in_the_year_it_was_read_with(site):
    write(site, "talks.txt", TALKS, FRESH)
    run_build(site.config(), site.store(), FRESH)
    write(site, "talks.txt", TALKS.replace("On 3 March", "On 2 March"), LATE)
    run_build(site.config(), site.store(), LATE)
    assert day(entry_of(site, "talks.txt")) == date(2025, 3, 2)


@pytest.mark.parametrize("workers", [False, True], ids=["in-process", "workers"])
def test_a_reread_of_a_fresh_clone_keeps_the_years_the_store_read(site, workers):
    """A fresh clone gives every file the time of the clone: a reread by a new version
    read "3 March" in the clone's year, and moved the entry down the feed a year."""
    write(site, "talks.txt", TALKS, FRESH)
    run_build(site.config(), site.store(), FRESH)
    first = entry_of(site, "talks.txt")
    with site.store().transaction() as db:  # as an older version's reading left it
        db.execute("UPDATE entries SET content_hash = 'older' WHERE id = ?", (first.id,))
        db.execute("UPDATE entry_origins SET content_hash = 'older'")
    os.utime(site.sources / "talks.txt", (LATE.timestamp(), LATE.timestamp()))
    tuning = Tuning(pool_min_files=1, known_min_files=1) if workers else Tuning()
    run_build(site.config(), site.store(), LATE, reread=True, tuning=tuning)
    again = entry_of(site, "talks.txt")
    assert again.id == first.id and day(again) == date(2025, 3, 3)
    assert site.store().db.execute("SELECT count(*) FROM entries").fetchone()[0] == 2


def test_a_year_less_release_first_seen_late_is_still_dated_by_its_file(site):
    """With no earlier version known, the file's time is all there is: the latest 3
    March before it (give such a release its `date` to say otherwise)."""
    write(site, "talks.txt", TALKS, LATE)
    run_build(site.config(), site.store(), LATE)
    assert day(entry_of(site, "talks.txt")) == date(2026, 3, 3)


def test_a_day_moved_far_by_an_edit_is_no_evidence_of_its_year(site):
    """ "3 September" for "3 March": the nearest 3 September to the stored 3 March 2025
    is 2024's, half a year before the release was first read; the file's year stands."""
    write(site, "talks.txt", TALKS, FRESH)
    run_build(site.config(), site.store(), FRESH)
    late = datetime(2026, 9, 20, 9, 0, tzinfo=UTC)
    write(site, "talks.txt", TALKS.replace("On 3 March", "On 3 September"), late)
    run_build(site.config(), site.store(), late)
    assert day(entry_of(site, "talks.txt")) == date(2026, 9, 3)
