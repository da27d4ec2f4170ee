"""Table test of reminder detection (issue 15): phrasings that must make a reminder, and prose
that must not. Reference times are passed in as `created_at`, so no clock is frozen."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from reminders.detection import detect_reminder
from reminders.recurrence import next_occurrence, to_utc
from reminders.tests.wall_clock import BERLIN, wall_clock

NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")

# Named reference times: (wall clock, zone).
REFERENCES = {
    "berlin_thu": (datetime(2026, 3, 5, 14, 20), BERLIN),  # a Thursday afternoon
    "berlin_early": (datetime(2026, 3, 5, 7, 45), BERLIN),  # the same day, before 09:00
    "berlin_late": (datetime(2026, 3, 5, 21, 30), BERLIN),  # the same day, after 21:00
    "berlin_dst": (datetime(2026, 3, 26, 12, 0), BERLIN),  # Thursday before CET→CEST (29th)
    "berlin_fall": (datetime(2026, 10, 20, 12, 0), BERLIN),  # before CEST→CET (25 October)
    "ny_sat": (datetime(2026, 3, 7, 10, 0), NEW_YORK),  # the day before EST→EDT (8 March)
    "ny_night": (datetime(2026, 3, 8, 1, 30), NEW_YORK),  # 30 min before the clocks jump
    "sydney_apr": (datetime(2026, 4, 1, 12, 0), SYDNEY),  # before AEDT→AEST (5 April)
    "sydney_oct": (datetime(2026, 10, 1, 12, 0), SYDNEY),  # before AEST→AEDT (4 October)
}


def created(reference: str) -> tuple[datetime, ZoneInfo]:
    wall, zone = REFERENCES[reference]
    return wall.replace(tzinfo=zone), zone


WEEKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"

# (text, reference, expected local wall-clock time, expected RRULE, expected UTC or None).
POSITIVES = [
    # Relative times.
    ("remind me in 2 hours to stretch", "berlin_thu", "2026-03-05 16:20", None, None),
    ("remind me in an hour and a half", "berlin_thu", "2026-03-05 15:50", None, None),
    ("remind me in half an hour to check the oven", "berlin_thu", "2026-03-05 14:50", None, None),
    ("remind me in 3 days to water the plants", "berlin_thu", "2026-03-08 09:00", None, None),
    ("remind me in 20 minutes", "berlin_thu", "2026-03-05 14:40", None, None),
    ("Remind me in 90 mins to take the bread out", "berlin_thu", "2026-03-05 15:50", None, None),
    ("remind me in 1.5 hours", "berlin_thu", "2026-03-05 15:50", None, None),
    ("remind me in 2 and a half hours", "berlin_thu", "2026-03-05 16:50", None, None),
    ("remind me in two weeks to renew the passport", "berlin_thu", "2026-03-19 09:00", None, None),
    ("remind me in a month to cancel the trial", "berlin_thu", "2026-04-05 09:00", None, None),
    ("remind me in 3 days at 5pm", "berlin_thu", "2026-03-08 17:00", None, None),
    ("Reminder: pay rent in 2 days", "berlin_thu", "2026-03-07 09:00", None, None),
    # Weekdays.
    (
        "remind me on Friday at 5pm to submit the report",
        "berlin_thu",
        "2026-03-06 17:00",
        None,
        None,
    ),
    ("remind me next Monday", "berlin_thu", "2026-03-09 09:00", None, None),
    ("remind me this Saturday at 10:30", "berlin_thu", "2026-03-07 10:30", None, None),
    ("remind me to call Bob on Friday at 5pm", "berlin_thu", "2026-03-06 17:00", None, None),
    ("reminder: dentist next Monday", "berlin_thu", "2026-03-09 09:00", None, None),
    ("remind me on Monday morning", "berlin_thu", "2026-03-09 09:00", None, None),
    ("remind me on Thursday", "berlin_thu", "2026-03-12 09:00", None, None),
    ("Don't forget to book flights by Friday", "berlin_thu", "2026-03-06 09:00", None, None),
    ("Do not forget to send the invoice on Monday", "berlin_thu", "2026-03-09 09:00", None, None),
    ("remind me next week to follow up", "berlin_thu", "2026-03-09 09:00", None, None),
    # Today, tonight, tomorrow.
    ("remind me tomorrow at 9am to call Bob", "berlin_thu", "2026-03-06 09:00", None, None),
    ("remind me to call Bob tomorrow at 9am", "berlin_thu", "2026-03-06 09:00", None, None),
    ("remind me tomorrow at noon", "berlin_thu", "2026-03-06 12:00", None, None),
    ("remind me tonight at 8", "berlin_thu", "2026-03-05 20:00", None, None),
    ("remind me this evening to call Mom", "berlin_thu", "2026-03-05 18:00", None, None),
    ("remind me tomorrow morning", "berlin_thu", "2026-03-06 09:00", None, None),
    ("remind me tomorrow evening at 7", "berlin_thu", "2026-03-06 19:00", None, None),
    ("remind me the day after tomorrow", "berlin_thu", "2026-03-07 09:00", None, None),
    ("don't forget: dentist tomorrow at 8:15am", "berlin_thu", "2026-03-06 08:15", None, None),
    ("REMIND ME TOMORROW AT 10AM", "berlin_thu", "2026-03-06 10:00", None, None),
    ("remind me to call Dr. Smith tomorrow at 9", "berlin_thu", "2026-03-06 09:00", None, None),
    # Times of day.
    ("remind me at 9 to call the bank", "berlin_thu", "2026-03-06 09:00", None, None),
    ("remind me at 9", "berlin_early", "2026-03-05 09:00", None, None),
    ("remind me this morning at 11", "berlin_early", "2026-03-05 11:00", None, None),
    ("remind me at 5 to leave", "berlin_thu", "2026-03-05 17:00", None, None),
    ("remind me at 4:30pm", "berlin_thu", "2026-03-05 16:30", None, None),
    ("remind me at 11am", "berlin_thu", "2026-03-06 11:00", None, None),
    ("remind me at 17:45", "berlin_thu", "2026-03-05 17:45", None, None),
    ("remind me at midnight to take the pill", "berlin_thu", "2026-03-06 00:00", None, None),
    (
        "Can you remind me at 7.30pm to take out the bins?",
        "berlin_thu",
        "2026-03-05 19:30",
        None,
        None,
    ),
    ("remind me at 5 p.m. to call Dr. Smith", "berlin_thu", "2026-03-05 17:00", None, None),
    # Dates in several formats.
    ("remind me on March 3", "berlin_thu", "2027-03-03 09:00", None, None),
    ("remind me on 3 March at 10am", "berlin_thu", "2027-03-03 10:00", None, None),
    ("remind me on March 20th at 3pm", "berlin_thu", "2026-03-20 15:00", None, None),
    ("remind me on the 12th of April", "berlin_thu", "2026-04-12 09:00", None, None),
    ("remind me on 2026-12-24 to wrap presents", "berlin_thu", "2026-12-24 09:00", None, None),
    ("remind me on 12/24 to buy gifts", "berlin_thu", "2026-12-24 09:00", None, None),
    ("remind me on 24.12.2026 at 18:00", "berlin_thu", "2026-12-24 18:00", None, None),
    ("remind me on 24/12/2026", "berlin_thu", "2026-12-24 09:00", None, None),
    ("remind me on Dec 24, 2026 at 6 pm", "berlin_thu", "2026-12-24 18:00", None, None),
    ("remind me 2026-12-24 18:00", "berlin_thu", "2026-12-24 18:00", None, None),
    ("remind me on the 15th to pay the invoice", "berlin_thu", "2026-03-15 09:00", None, None),
    # A trigger in a longer note; a quoted trigger is skipped for the real one after it.
    (
        "Shopping\n- milk\nremind me tomorrow at 6pm to buy eggs\n- bread",
        "berlin_thu",
        "2026-03-06 18:00",
        None,
        None,
    ),
    (
        'The "remind me" trick works. Remind me on Friday at 9am to try it',
        "berlin_thu",
        "2026-03-06 09:00",
        None,
        None,
    ),
    # Recurrences.
    (
        "remind me every Monday at 9am",
        "berlin_thu",
        "2026-03-09 09:00",
        "FREQ=WEEKLY;BYDAY=MO",
        None,
    ),
    (
        "remind me at 9am every Monday",
        "berlin_thu",
        "2026-03-09 09:00",
        "FREQ=WEEKLY;BYDAY=MO",
        None,
    ),
    (
        "remind me every other Tuesday",
        "berlin_thu",
        "2026-03-10 09:00",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
        None,
    ),
    (
        "remind me on the 1st of every month to pay rent",
        "berlin_thu",
        "2026-04-01 09:00",
        "FREQ=MONTHLY;BYMONTHDAY=1",
        None,
    ),
    ("remind me every day at 7:30", "berlin_thu", "2026-03-06 07:30", "FREQ=DAILY", None),
    ("remind me every weekday at 8am", "berlin_thu", "2026-03-06 08:00", WEEKDAYS, None),
    (
        "remind me every month on the 15th",
        "berlin_thu",
        "2026-03-15 09:00",
        "FREQ=MONTHLY;BYMONTHDAY=15",
        None,
    ),
    (
        "remind me every year on March 3",
        "berlin_thu",
        "2027-03-03 09:00",
        "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=3",
        None,
    ),
    (
        "remind me every Monday and Thursday at 6pm",
        "berlin_thu",
        "2026-03-05 18:00",
        "FREQ=WEEKLY;BYDAY=MO,TH",
        None,
    ),
    (
        "remind me every evening at 10 to take the pill",
        "berlin_thu",
        "2026-03-05 22:00",
        "FREQ=DAILY",
        None,
    ),
    ("remind me every evening at 7", "berlin_late", "2026-03-06 19:00", "FREQ=DAILY", None),
    (
        "remind me on Fridays at 4pm to submit the timesheet",
        "berlin_thu",
        "2026-03-06 16:00",
        "FREQ=WEEKLY;BYDAY=FR",
        None,
    ),
    (
        "remind me every 2 weeks on Sunday to clean the filter",
        "berlin_thu",
        "2026-03-08 09:00",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU",
        None,
    ),
    (
        "remind me on the last day of every month",
        "berlin_thu",
        "2026-03-31 09:00",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        None,
    ),
    (
        "remind me on the first Monday of every month at 10am",
        "berlin_thu",
        "2026-04-06 10:00",
        "FREQ=MONTHLY;BYDAY=1MO",
        None,
    ),
    ("remind me every week", "berlin_thu", "2026-03-12 09:00", "FREQ=WEEKLY", None),
    (
        "remind me every year to renew the domain",
        "berlin_thu",
        "2027-03-05 09:00",
        "FREQ=YEARLY",
        None,
    ),
    ("remind me daily at 8pm to journal", "berlin_thu", "2026-03-05 20:00", "FREQ=DAILY", None),
    (
        "don't forget to water the plants every Saturday",
        "berlin_thu",
        "2026-03-07 09:00",
        "FREQ=WEEKLY;BYDAY=SA",
        None,
    ),
    # DST: a time in the spring-forward gap moves to the first valid instant; an ambiguous
    # fall-back time takes the first; relative hours are real elapsed time.
    ("remind me tomorrow at 2:30am", "ny_sat", "2026-03-08 02:30", None, "2026-03-08 07:00"),
    ("remind me in 1 hour", "ny_night", "2026-03-08 03:30", None, "2026-03-08 07:30"),
    ("remind me every day at 9am", "ny_sat", "2026-03-08 09:00", "FREQ=DAILY", "2026-03-08 13:00"),
    (
        "remind me every Sunday at 9am",
        "berlin_dst",
        "2026-03-29 09:00",
        "FREQ=WEEKLY;BYDAY=SU",
        "2026-03-29 07:00",
    ),
    ("remind me on March 29 at 2:30am", "berlin_dst", "2026-03-29 02:30", None, "2026-03-29 01:00"),
    (
        "remind me on 25 October at 2:30am",
        "berlin_fall",
        "2026-10-25 02:30",
        None,
        "2026-10-25 00:30",
    ),
    (
        "remind me every Monday at 9am",
        "sydney_apr",
        "2026-04-06 09:00",
        "FREQ=WEEKLY;BYDAY=MO",
        "2026-04-05 23:00",
    ),
    (
        "remind me on 4 October at 2:30am",
        "sydney_oct",
        "2026-10-04 02:30",
        None,
        "2026-10-03 16:00",
    ),
    ("remind me on Sunday at 2:30am", "sydney_apr", "2026-04-05 02:30", None, "2026-04-04 15:30"),
]

# (text, reference): none of these may make a reminder.
NEGATIVES = [
    ("I reminded him yesterday", "berlin_thu"),
    ("notes from Friday's meeting", "berlin_thu"),
    ("Theresa May met the PM in May", "berlin_thu"),
    ("v2.3.1", "berlin_thu"),
    ("room 1030", "berlin_thu"),
    ("I go to the gym every Monday", "berlin_thu"),
    ('He said "remind me tomorrow at 9" and left', "berlin_thu"),
    ("“Remind me on Friday at 5pm” is what she wrote", "berlin_thu"),
    ("Example:\n```\nremind me tomorrow at 9am\n```\nthat's the syntax", "berlin_thu"),
    ("Type `remind me tomorrow at 9` in the bot", "berlin_thu"),
    ("> remind me tomorrow at 9am\nis what the email said", "berlin_thu"),
    ("remind me to call Mom", "berlin_thu"),
    ("Reminders app is great", "berlin_thu"),
    ("the reminder email came on Monday", "berlin_thu"),
    ("He reminded me on Friday at 5pm", "berlin_thu"),
    ("Don't forget the milk!", "berlin_thu"),
    ("don't forget", "berlin_thu"),
    ("remind me yesterday", "berlin_thu"),
    ("remind me 3 days ago", "berlin_thu"),
    ("remind me of what we did last Friday", "berlin_thu"),
    ("remind me on 2025-01-01", "berlin_thu"),
    ("remind me every hour to stretch", "berlin_thu"),
    ("remind me every 15 minutes to drink water", "berlin_thu"),
    ("remind me to call 555-1234", "berlin_thu"),
    ("remind me to pay $9.99", "berlin_thu"),
    ("remind me to upgrade to v2.3.1", "berlin_thu"),
    ("remind me to read John 3:16", "berlin_thu"),
    ("remind me to book room 1030", "berlin_thu"),
    ("remind me about the 3/4 cup of flour", "berlin_thu"),
    ("remind me to email the team about the Q3 numbers", "berlin_thu"),
    ("Remind me, what was the name of that restaurant?", "berlin_thu"),
    ("remind me to call the bank. The meeting is on Friday at 5pm.", "berlin_thu"),
    ("Do you have a car? Meeting on Friday.", "berlin_thu"),
]


@pytest.mark.parametrize(("text", "reference", "local", "rule", "utc"), POSITIVES)
def test_it_detects_the_reminder(
    text: str, reference: str, local: str, rule: str | None, utc: str | None
) -> None:
    created_at, zone = created(reference)

    found = detect_reminder(text, created_at=created_at, time_zone=zone)

    assert found is not None, text
    assert (found.local_time, found.recurrence) == (wall_clock(local), rule)
    assert found.remind_at.tzinfo is UTC
    assert found.remind_at > created_at
    if utc is not None:
        assert found.remind_at == wall_clock(utc).replace(tzinfo=UTC)
    else:
        assert found.remind_at == to_utc(found.local_time, zone)
    assert found.phrase.lower().startswith(("remind", "don", "do not", "can"))


@pytest.mark.parametrize(("text", "reference"), NEGATIVES)
def test_it_makes_no_reminder_from_prose(text: str, reference: str) -> None:
    created_at, zone = created(reference)

    assert detect_reminder(text, created_at=created_at, time_zone=zone) is None


def test_the_phrase_is_the_trigger_and_its_clause_as_written() -> None:
    created_at, zone = created("berlin_thu")
    text = "Groceries for the weekend. Remind me tomorrow at 9am to call Bob! Then the gym."

    found = detect_reminder(text, created_at=created_at, time_zone=zone)

    assert found is not None
    assert found.phrase == "Remind me tomorrow at 9am to call Bob"


def test_a_date_without_a_time_gets_the_users_default_hour() -> None:
    created_at, zone = created("berlin_thu")

    found = detect_reminder(
        "remind me next Monday", created_at=created_at, time_zone=zone, default_hour=7
    )

    assert found is not None
    assert found.local_time == datetime(2026, 3, 9, 7, 0)


def test_a_detected_weekly_reminder_keeps_9_local_on_both_sides_of_dst() -> None:
    created_at, zone = created("ny_sat")
    found = detect_reminder(
        "remind me every Saturday at 9am", created_at=created_at, time_zone=zone
    )
    assert found is not None
    assert found.local_time == datetime(2026, 3, 14, 9, 0)  # after the change: EDT

    before = next_occurrence(
        found.recurrence or "",
        local_start=datetime(2026, 3, 7, 9, 0),
        time_zone=zone,
        after=datetime(2026, 3, 6, tzinfo=UTC),
    )
    after = next_occurrence(
        found.recurrence or "",
        local_start=found.local_time,
        time_zone=zone,
        after=found.remind_at,
    )

    assert before == datetime(2026, 3, 7, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert found.remind_at == datetime(2026, 3, 14, 13, 0, tzinfo=UTC)  # 09:00 EDT
    assert after == datetime(2026, 3, 21, 13, 0, tzinfo=UTC)


def test_the_table_is_big_enough() -> None:
    assert len(POSITIVES) >= 50
    assert len(NEGATIVES) >= 15
