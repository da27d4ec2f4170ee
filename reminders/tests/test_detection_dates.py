"""How reminder detection reads the date part of a clause (`_find_date`): each phrasing with
the exact wall-clock time it must give, or None where no reminder may be made. Reference
times are passed in as `created_at`, so no clock is frozen."""

from __future__ import annotations

from datetime import datetime

import pytest

from reminders.detection import detect_reminder
from reminders.tests.wall_clock import BERLIN, local_time_found, wall_clock

# Named reference times on the Berlin wall clock.
REFERENCES = {
    "thu": datetime(2026, 3, 5, 14, 20),  # Thursday 5 March, afternoon
    "thu_early": datetime(2026, 3, 5, 7, 45),  # the same day, before 09:00
    "mon": datetime(2026, 3, 9, 12, 0),  # Monday 9 March
    "sat": datetime(2026, 3, 7, 10, 0),  # Saturday 7 March
    "apr_1": datetime(2026, 4, 1, 12, 0),  # April has no 31st
    "jan_31": datetime(2026, 1, 31, 12, 0),  # February has no 30th
}


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("remind me yesterday", "thu_early"),  # today's 09:00 is still ahead, yet no
        ("remind me last week at 11pm", "thu"),  # 23:00 today is ahead, yet no
    ],
)
def test_a_past_phrase_makes_no_reminder_even_when_its_time_is_still_ahead_today(
    text: str, reference: str
) -> None:
    assert local_time_found(text, REFERENCES[reference]) is None


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("remind me in 0 minutes", "thu", None),
        ("remind me in 999 minutes", "thu", "2026-03-06 06:59"),
        ("remind me in 0 minutes, no, in 5 minutes", "thu", "2026-03-05 14:25"),
        ("remind me in 1.5 days, no, in 2 days", "thu", "2026-03-07 09:00"),
    ],
)
def test_a_relative_offset_counts_from_the_save_time_and_a_void_one_gives_way_to_the_next(
    text: str, reference: str, expected: str | None
) -> None:
    assert local_time_found(text, REFERENCES[reference]) == wall_clock(expected)


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("remind me on 24 December 2027", "thu", "2027-12-24 09:00"),
        ("remind me on Feb 30, I mean on March 30", "thu", "2026-03-30 09:00"),
        ("remind me on March 5 at 6pm", "thu", "2026-03-05 18:00"),  # today, still ahead
        ("remind me on March 5 at 9am", "thu", "2027-03-05 09:00"),  # today, passed: next year
    ],
)
def test_a_month_and_day_is_this_years_until_it_has_passed(
    text: str, reference: str, expected: str
) -> None:
    assert local_time_found(text, REFERENCES[reference]) == wall_clock(expected)


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("remind me 12/24 to buy gifts", "thu", "2026-12-24 09:00"),  # first in the clause
        ("remind me to buy gifts on 12/24", "thu", "2026-12-24 09:00"),  # after "on"
        ("remind me to bake 1/2 the batch on 12/24", "thu", "2026-12-24 09:00"),
        ("remind me on 13/4", "thu", "2026-04-13 09:00"),  # 13 is no month: day first
        ("remind me on 12/24/27", "thu", "2027-12-24 09:00"),  # a two-digit year is 20xx
        ("remind me on 3/1", "thu", "2027-03-01 09:00"),  # passed this year: next year's
        ("remind me on 3/5 at 6pm", "thu", "2026-03-05 18:00"),  # today, still ahead
        ("remind me on 3/5 at 9am", "thu", "2027-03-05 09:00"),  # today, passed: next year
    ],
)
def test_a_slash_date_is_month_first_unless_the_day_cannot_be_a_month(
    text: str, reference: str, expected: str
) -> None:
    assert local_time_found(text, REFERENCES[reference]) == wall_clock(expected)


@pytest.mark.parametrize(
    "text",
    [
        "remind me every Monday starting January 4",
        "remind me every Monday starting on 1/4",
    ],
)
def test_a_repeating_reminder_starting_on_a_date_passed_this_year_starts_next_year(
    text: str,
) -> None:
    found = detect_reminder(
        text, created_at=REFERENCES["thu"].replace(tzinfo=BERLIN), time_zone=BERLIN
    )

    assert found is not None
    assert (found.local_time, found.recurrence) == (
        datetime(2027, 1, 4, 9, 0),
        "FREQ=WEEKLY;BYDAY=MO",
    )


def test_tmrw_is_read_as_tomorrow() -> None:
    # 18:00 today is still ahead, so only reading "tmrw" as a date moves it to Friday.
    assert local_time_found("remind me tmrw at 6pm", REFERENCES["thu"]) == datetime(
        2026, 3, 6, 18, 0
    )


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("remind me to call Mom monday", "thu", "2026-03-09 09:00"),
        ("remind me to call Mom tuesday", "thu", "2026-03-10 09:00"),
        ("remind me to call Mom wednesday", "thu", "2026-03-11 09:00"),
        ("remind me to call Mom thursday", "thu", "2026-03-12 09:00"),
        ("remind me to call Mom saturday", "thu", "2026-03-07 09:00"),
        ("remind me to call Mom sunday", "thu", "2026-03-08 09:00"),
        ("remind me on sat at 10am", "thu", "2026-03-07 10:00"),  # an abbreviation after "on"
        ("remind me to sit in the sun at 3pm", "thu", "2026-03-05 15:00"),  # "sun" is a word
        ("remind me to sit in the sun on saturday", "thu", "2026-03-07 09:00"),
        ("remind me this Thursday at 6pm", "thu", "2026-03-05 18:00"),  # "this": today
        ("remind me on Thursday at 6pm", "thu", "2026-03-12 18:00"),  # "on": next week's
        ("remind me this Thursday at 9am", "thu", "2026-03-12 09:00"),  # passed: a week on
        ("remind me on Friday evening", "thu", "2026-03-06 18:00"),
    ],
)
def test_a_weekday_is_the_next_such_day_and_an_abbreviation_needs_a_prefix(
    text: str, reference: str, expected: str
) -> None:
    assert local_time_found(text, REFERENCES[reference]) == wall_clock(expected)


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("remind me next  week", "thu", "2026-03-09 09:00"),  # a double space is the same
        ("remind me next week", "mon", "2026-03-16 09:00"),  # said on a Monday: a week on
        ("remind me next month", "thu", "2026-04-05 09:00"),
        ("remind me next year", "thu", "2027-03-05 09:00"),
        ("remind me this weekend", "thu", "2026-03-07 09:00"),  # the coming Saturday
        ("remind me this weekend at 6pm", "sat", "2026-03-07 18:00"),  # said on Saturday: today
    ],
)
def test_next_week_month_year_and_the_weekend_count_from_today(
    text: str, reference: str, expected: str
) -> None:
    assert local_time_found(text, REFERENCES[reference]) == wall_clock(expected)


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("remind me on the 1st", "thu", "2026-04-01 09:00"),  # passed: next month's
        ("remind me on the 31st", "thu", "2026-03-31 09:00"),
        ("remind me on the 31st", "apr_1", "2026-05-31 09:00"),  # April has none: May's
        ("remind me on the 30th", "jan_31", "2026-03-30 09:00"),  # February has none
        ("remind me on the 5th at 6pm", "thu", "2026-03-05 18:00"),  # today, still ahead
        ("remind me on the 5th at 9am", "thu", "2026-04-05 09:00"),  # today, passed
        ("remind me about the 0th floor tomorrow", "thu", "2026-03-06 09:00"),  # no such day
    ],
)
def test_the_nth_is_the_next_month_day_of_that_number(
    text: str, reference: str, expected: str
) -> None:
    assert local_time_found(text, REFERENCES[reference]) == wall_clock(expected)
