"""Wall-clock ↔ UTC conversion, RRULE validation, next occurrences across DST, snooze presets."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from reminders.recurrence import next_occurrence, snooze_presets, to_utc, validate_recurrence

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local", "zone", "expected"),
    [
        # Spring-forward gaps: the first valid instant after the gap.
        (datetime(2026, 3, 8, 2, 30), NEW_YORK, utc(2026, 3, 8, 7, 0)),  # → 03:00 EDT
        (datetime(2026, 3, 29, 2, 30), BERLIN, utc(2026, 3, 29, 1, 0)),  # → 03:00 CEST
        (datetime(2026, 10, 4, 2, 30), SYDNEY, utc(2026, 10, 3, 16, 0)),  # → 03:00 AEDT
        (datetime(2026, 3, 8, 2, 0), NEW_YORK, utc(2026, 3, 8, 7, 0)),  # the gap's first minute
        # Fall-back ambiguity: the first of the two instants (fold=0).
        (datetime(2026, 11, 1, 1, 30), NEW_YORK, utc(2026, 11, 1, 5, 30)),  # 01:30 EDT
        (datetime(2026, 10, 25, 2, 30), BERLIN, utc(2026, 10, 25, 0, 30)),  # 02:30 CEST
        (datetime(2026, 4, 5, 2, 30), SYDNEY, utc(2026, 4, 4, 15, 30)),  # 02:30 AEDT
        # Ordinary times.
        (datetime(2026, 3, 8, 3, 0), NEW_YORK, utc(2026, 3, 8, 7, 0)),
        (datetime(2026, 7, 1, 9, 0), BERLIN, utc(2026, 7, 1, 7, 0)),
        (datetime(2026, 7, 1, 9, 0), SYDNEY, utc(2026, 6, 30, 23, 0)),
    ],
)
def test_to_utc_handles_gaps_and_ambiguous_times(
    local: datetime, zone: ZoneInfo, expected: datetime
) -> None:
    assert to_utc(local, zone) == expected


def test_to_utc_refuses_an_aware_datetime() -> None:
    with pytest.raises(ValueError):
        to_utc(utc(2026, 1, 1), BERLIN)


@pytest.mark.parametrize(
    ("zone", "rule", "local_start", "after", "expected_local"),
    [
        # Daily 09:00 across each zone's spring change and fall change.
        (
            NEW_YORK,
            "FREQ=DAILY",
            datetime(2026, 3, 6, 9),
            utc(2026, 3, 7, 14, 0),
            datetime(2026, 3, 8, 9),
        ),
        (
            NEW_YORK,
            "FREQ=DAILY",
            datetime(2026, 10, 30, 9),
            utc(2026, 10, 31, 13, 0),
            datetime(2026, 11, 1, 9),
        ),
        (
            BERLIN,
            "FREQ=DAILY",
            datetime(2026, 3, 27, 9),
            utc(2026, 3, 28, 8, 0),
            datetime(2026, 3, 29, 9),
        ),
        (
            BERLIN,
            "FREQ=WEEKLY;BYDAY=SU",
            datetime(2026, 10, 18, 9),
            utc(2026, 10, 18, 7, 0),
            datetime(2026, 10, 25, 9),
        ),
        (
            SYDNEY,
            "FREQ=WEEKLY;BYDAY=MO",
            datetime(2026, 3, 30, 9),
            utc(2026, 3, 29, 22, 0),
            datetime(2026, 4, 6, 9),
        ),
        (
            SYDNEY,
            "FREQ=DAILY",
            datetime(2026, 10, 2, 9),
            utc(2026, 10, 2, 23, 0),  # 09:00 AEST on the 3rd
            datetime(2026, 10, 4, 9),
        ),
        # A daily 02:30 on the spring-forward day lands on the first valid instant.
        (
            NEW_YORK,
            "FREQ=DAILY",
            datetime(2026, 3, 6, 2, 30),
            utc(2026, 3, 7, 8, 0),
            datetime(2026, 3, 8, 3, 0),
        ),
        # Every other Tuesday counts from the first occurrence.
        (
            BERLIN,
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
            datetime(2026, 3, 10, 9),
            utc(2026, 3, 10, 8, 0),
            datetime(2026, 3, 24, 9),
        ),
        # Monthly on the 31st skips the short months (RFC 5545).
        (
            BERLIN,
            "FREQ=MONTHLY;BYMONTHDAY=31",
            datetime(2026, 3, 31, 9),
            utc(2026, 3, 31, 7, 0),
            datetime(2026, 5, 31, 9),
        ),
    ],
)
def test_next_occurrence_keeps_the_local_wall_clock_time(
    zone: ZoneInfo, rule: str, local_start: datetime, after: datetime, expected_local: datetime
) -> None:
    found = next_occurrence(rule, local_start=local_start, time_zone=zone, after=after)

    assert found == to_utc(expected_local, zone)
    if expected_local.hour == 9:
        assert found is not None
        assert found.astimezone(zone).hour == 9


def test_a_daily_reminder_is_9_local_on_both_sides_of_each_dst_change() -> None:
    for zone, before_change, after_change in [
        (NEW_YORK, datetime(2026, 3, 7, 9), datetime(2026, 3, 9, 9)),
        (BERLIN, datetime(2026, 3, 28, 9), datetime(2026, 3, 30, 9)),
        (SYDNEY, datetime(2026, 4, 4, 9), datetime(2026, 4, 6, 9)),
    ]:
        first = to_utc(before_change, zone)
        second = next_occurrence(
            "FREQ=DAILY", local_start=before_change, time_zone=zone, after=first
        )
        assert second is not None
        third = next_occurrence(
            "FREQ=DAILY", local_start=before_change, time_zone=zone, after=second
        )
        assert third == to_utc(after_change, zone)
        assert [t.astimezone(zone).hour for t in (first, second, third)] == [9, 9, 9]
        # The UTC hour moves with the offset, so the change really lies in between.
        assert first.hour != third.hour


def test_next_occurrence_is_strictly_after() -> None:
    start = datetime(2026, 3, 9, 9)
    exactly = to_utc(start, BERLIN)

    found = next_occurrence(
        "FREQ=WEEKLY;BYDAY=MO", local_start=start, time_zone=BERLIN, after=exactly
    )

    assert found == to_utc(datetime(2026, 3, 16, 9), BERLIN)


def test_a_rule_that_has_run_out_by_count_has_no_next_occurrence() -> None:
    start = datetime(2026, 3, 9, 9)
    third = to_utc(datetime(2026, 3, 11, 9), BERLIN)

    assert (
        next_occurrence("FREQ=DAILY;COUNT=3", local_start=start, time_zone=BERLIN, after=third)
        is None
    )
    assert next_occurrence(
        "FREQ=DAILY;COUNT=3", local_start=start, time_zone=BERLIN, after=to_utc(start, BERLIN)
    ) == to_utc(datetime(2026, 3, 10, 9), BERLIN)


def test_a_rule_that_has_run_out_by_until_has_no_next_occurrence() -> None:
    start = datetime(2026, 3, 9, 9)
    after = to_utc(datetime(2026, 3, 16, 9), BERLIN)

    assert (
        next_occurrence(
            "FREQ=WEEKLY;UNTIL=20260316T090000", local_start=start, time_zone=BERLIN, after=after
        )
        is None
    )
    # A UTC UNTIL is read on the zone's clock: 08:00Z is 09:00 in Berlin, so the 16th counts.
    assert (
        next_occurrence(
            "FREQ=WEEKLY;UNTIL=20260316T080000Z",
            local_start=start,
            time_zone=BERLIN,
            after=to_utc(datetime(2026, 3, 10, 9), BERLIN),
        )
        == after
    )


@pytest.mark.parametrize(
    ("rule", "normalized"),
    [
        ("FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=MO"),
        ("freq=weekly; byday=mo,th;", "FREQ=WEEKLY;BYDAY=MO,TH"),
        ("RRULE:INTERVAL=2;FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=2"),
        ("FREQ=DAILY;COUNT=5", "FREQ=DAILY;COUNT=5"),
        (
            "FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20270101T000000Z",
            "FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20270101T000000Z",
        ),
    ],
)
def test_validate_recurrence_normalizes_a_good_rule(rule: str, normalized: str) -> None:
    assert validate_recurrence(rule) == normalized


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("garbage", "NAME=VALUE"),
        ("", "empty"),
        ("FREQ=FORTNIGHTLY", "not allowed"),
        ("FREQ=MINUTELY", "at most daily"),
        ("FREQ=HOURLY;INTERVAL=2", "at most daily"),
        ("FREQ=SECONDLY", "at most daily"),
        ("DTSTART:20260101T090000\nRRULE:FREQ=DAILY", "without DTSTART"),
        ("FREQ=DAILY;DTSTART=20260101T090000", "without DTSTART"),
        ("BYDAY=MO", "needs a FREQ"),
        ("FREQ=WEEKLY;BYDAY=XX", "not a valid recurrence rule"),
        ("FREQ=DAILY;COUNT=3;UNTIL=20270101T000000Z", "not both"),
        ("FREQ=DAILY;INTERVAL=0", "positive"),
        ("FREQ=DAILY;FREQ=WEEKLY", "twice"),
    ],
)
def test_validate_recurrence_explains_a_bad_rule(rule: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_recurrence(rule)


def test_snooze_presets_in_the_afternoon() -> None:
    now = datetime(2026, 3, 5, 14, 20, tzinfo=BERLIN)  # a Thursday

    presets = snooze_presets(now, BERLIN)

    assert presets == {
        "in_1_hour": utc(2026, 3, 5, 14, 20),
        "this_evening": utc(2026, 3, 5, 17, 0),
        "tomorrow_morning": utc(2026, 3, 6, 8, 0),
        "next_week": utc(2026, 3, 9, 8, 0),
    }
    assert all(value.tzinfo is UTC for value in presets.values())


def test_this_evening_after_18_is_tomorrow_evening() -> None:
    now = datetime(2026, 3, 5, 19, 5, tzinfo=NEW_YORK)

    presets = snooze_presets(now, NEW_YORK)

    assert presets["this_evening"] == to_utc(datetime(2026, 3, 6, 18), NEW_YORK)
    assert presets["in_1_hour"] == utc(2026, 3, 6, 1, 5)


def test_next_week_on_a_monday_is_the_following_monday_across_dst() -> None:
    now = datetime(2026, 3, 23, 10, 0, tzinfo=BERLIN)  # Monday before CET→CEST

    presets = snooze_presets(now, BERLIN)

    assert presets["next_week"] == utc(2026, 3, 30, 7, 0)  # 09:00 CEST
    assert presets["tomorrow_morning"] == utc(2026, 3, 24, 8, 0)  # 09:00 CET


def test_snooze_presets_in_sydney_use_the_users_day() -> None:
    now = utc(2026, 3, 5, 20, 0)  # already Friday 07:00 in Sydney (AEDT)

    presets = snooze_presets(now, SYDNEY)

    assert presets["this_evening"] == to_utc(datetime(2026, 3, 6, 18), SYDNEY)
    assert presets["tomorrow_morning"] == to_utc(datetime(2026, 3, 7, 9), SYDNEY)
    assert presets["next_week"] == to_utc(datetime(2026, 3, 9, 9), SYDNEY)
