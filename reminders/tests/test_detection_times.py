"""Reminder detection (issue 15): how times of day, the save time's seconds, the user's zone,
a time already past and the phrase's edges are read. Reference times are passed in as
`created_at`, so no clock is frozen."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from reminders.detection import MAX_CLAUSE_CHARS, detect_reminder
from reminders.tests.wall_clock import BERLIN, local_time_found, wall_clock

THURSDAY_AFTERNOON = datetime(2026, 3, 5, 14, 20, tzinfo=BERLIN)  # a Thursday, 14:20 CET


# (text, expected local wall-clock time), all said on Thursday 5 March 2026 at 14:20 in Berlin.
TIMES_OF_DAY = [
    # am/pm: 1 to 12 only; 12am is midnight, 12pm noon.
    ("remind me at 1am", "2026-03-06 01:00"),
    ("remind me tomorrow 1pm", "2026-03-06 13:00"),
    ("remind me tomorrow at 12am", "2026-03-06 00:00"),
    ("remind me tomorrow at 12pm", "2026-03-06 12:00"),
    ("remind me tomorrow 13am", "2026-03-06 09:00"),  # no such hour: the default hour
    ("remind me tomorrow, not 0am but 8am", "2026-03-06 08:00"),
    # A bare hour without am/pm: 1 to 6 are afternoon hours unless written with a zero.
    ("remind me tomorrow at 1", "2026-03-06 13:00"),
    ("remind me tomorrow at 6", "2026-03-06 18:00"),
    ("remind me tomorrow at 05:30", "2026-03-06 05:30"),
    ("remind me tomorrow 5 o'clock", "2026-03-06 17:00"),
    # A part of the day after noon moves 1 to 11 into the afternoon, but not 12.
    ("remind me tomorrow afternoon at 1", "2026-03-06 13:00"),
    ("remind me tomorrow night at 11", "2026-03-06 23:00"),
    ("remind me tomorrow afternoon at 12", "2026-03-06 12:00"),
    ("remind me tomorrow evening at 7:30", "2026-03-06 19:30"),
    # A bare H:MM is a time only with "at" or right beside the date.
    ("remind me tomorrow at17:30", "2026-03-06 17:30"),
    ("remind me tomorrow to read John 3:16", "2026-03-06 09:00"),
    ("remind me to read John 3:16 on the bus tomorrow", "2026-03-06 09:00"),
    ("remind me to read John 3:16 on the bus tomorrow at 18:30", "2026-03-06 18:30"),
    ("remind me to read John 3:16 tomorrow at 18:30", "2026-03-06 18:30"),  # "at" wins
    ("remind me to read John 3:16 tomorrow at 6", "2026-03-06 18:00"),
    ("remind me to read John 3:16 tomorrow at noon", "2026-03-06 12:00"),
    ("remind me to read John 3:16 tomorrow 7pm", "2026-03-06 19:00"),
    # Number words split over several spaces.
    ("remind me in a couple  of days", "2026-03-07 09:00"),
]


@pytest.mark.parametrize(("text", "local"), TIMES_OF_DAY)
def test_it_reads_the_time_of_day_the_user_meant(text: str, local: str) -> None:
    assert local_time_found(text, THURSDAY_AFTERNOON) == wall_clock(local)


# (text, expected local time): the time named has passed (or is this very minute).
PAST_TIMES = [
    ("remind me at 14:20", "2026-03-06 14:20"),  # this minute: tomorrow's
    ("remind me this Thursday at 9am", "2026-03-12 09:00"),  # a weekday rolls by a week
    ("remind me this Thursday at 14:20", "2026-03-12 14:20"),
    ("remind me on March 5 at 9am", "2027-03-05 09:00"),  # a date without a year, by a year
    ("remind me on the 5th at 9am", "2026-04-05 09:00"),  # a day of the month, by a month
]


@pytest.mark.parametrize(("text", "local"), PAST_TIMES)
def test_a_time_already_past_moves_to_its_next_occurrence(text: str, local: str) -> None:
    assert local_time_found(text, THURSDAY_AFTERNOON) == wall_clock(local)


def test_the_seconds_of_the_save_time_are_dropped() -> None:
    created_at = datetime(2026, 3, 5, 14, 20, 45, 123456, tzinfo=BERLIN)

    found = detect_reminder("remind me in 2 hours", created_at=created_at, time_zone=BERLIN)

    assert found is not None
    assert found.remind_at == datetime(2026, 3, 5, 15, 20, tzinfo=UTC)
    assert found.local_time == datetime(2026, 3, 5, 16, 20)


@pytest.mark.parametrize(
    ("zone", "wall_clock", "utc"),
    [
        # Far ahead of UTC: UTC still says 4 March.
        ("Pacific/Kiritimati", datetime(2026, 3, 5, 10, 0), datetime(2026, 3, 5, 19, 0)),
        # Far behind UTC: UTC already says 6 March.
        ("Pacific/Pago_Pago", datetime(2026, 3, 5, 20, 0), datetime(2026, 3, 6, 20, 0)),
    ],
)
def test_tomorrow_is_the_day_after_the_users_own_today(
    zone: str, wall_clock: datetime, utc: datetime
) -> None:
    time_zone = ZoneInfo(zone)

    found = detect_reminder(
        "remind me tomorrow at 9am",
        created_at=wall_clock.replace(tzinfo=time_zone),
        time_zone=time_zone,
    )

    assert found is not None
    assert found.local_time == datetime(2026, 3, 6, 9, 0)
    assert found.remind_at == utc.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "local", "rule"),
    [
        ("remind me every day at 9am from 2026-04-01", "2026-04-01 09:00", "FREQ=DAILY"),
        ("remind me every Monday from next month", "2026-04-06 09:00", "FREQ=WEEKLY;BYDAY=MO"),
    ],
)
def test_a_recurrence_with_a_start_date_begins_on_that_date(
    text: str, local: str, rule: str
) -> None:
    found = detect_reminder(text, created_at=THURSDAY_AFTERNOON, time_zone=BERLIN)

    assert found is not None
    assert (found.local_time, found.recurrence) == (wall_clock(local), rule)


def test_a_naive_created_at_is_refused_with_a_message_saying_so() -> None:
    with pytest.raises(ValueError, match=r"^detect_reminder expects an aware created_at$"):
        detect_reminder("remind me tomorrow", created_at=datetime(2026, 3, 5), time_zone=BERLIN)


def test_only_the_first_characters_of_a_long_clause_are_read() -> None:
    padding = "x" * 300
    early = detect_reminder(
        f"remind me tomorrow at 6pm to {padding}", created_at=THURSDAY_AFTERNOON, time_zone=BERLIN
    )
    late = detect_reminder(
        f"remind me to {padding} tomorrow at 6pm", created_at=THURSDAY_AFTERNOON, time_zone=BERLIN
    )

    assert early is not None
    assert early.local_time == datetime(2026, 3, 6, 18, 0)
    assert early.phrase == "remind me" + f" tomorrow at 6pm to {padding}"[:MAX_CLAUSE_CHARS]
    assert late is None


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("remind me tomorrow at 9am;\nthen the gym", "remind me tomorrow at 9am"),
        ("remind me tomorrow at 9am to call Bob -", "remind me tomorrow at 9am to call Bob"),
        ("remind me tomorrow at 9am to call MAX", "remind me tomorrow at 9am to call MAX"),
    ],
)
def test_the_phrase_loses_trailing_punctuation_but_not_its_last_word(
    text: str, phrase: str
) -> None:
    found = detect_reminder(text, created_at=THURSDAY_AFTERNOON, time_zone=BERLIN)

    assert found is not None
    assert found.phrase == phrase
