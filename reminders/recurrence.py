"""Time-zone and recurrence maths for reminders (pure functions, no database).

Recurring reminders are computed on naive wall-clock times in the user's zone and only then
converted to UTC, so a reminder set for 09:00 stays at 09:00 local across DST changes
(DESIGN §6, API.md "Reminders"). Conversion rules for the two DST edge cases: a wall-clock
time that does not exist (spring-forward gap) moves to the first valid instant after the gap;
an ambiguous one (fall-back) takes its first occurrence.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

# Reminders are at most daily: finer rules would flood the inbox and the beat.
ALLOWED_FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")

EVENING_HOUR = 18
MORNING_HOUR = 9

_UNTIL_UTC = re.compile(r"UNTIL=(\d{8}T\d{6})Z", re.IGNORECASE)


def to_utc(local: datetime, time_zone: ZoneInfo) -> datetime:
    """Turn a naive wall-clock time in `time_zone` into an aware UTC instant.

    A time inside a spring-forward gap becomes the first valid instant after the gap (02:30
    on the day New York skips 02:00-03:00 → 03:00 EDT); an ambiguous fall-back time takes the
    first of its two instants (fold=0).
    """
    if local.tzinfo is not None:
        raise ValueError("to_utc expects a naive wall-clock time")
    first = local.replace(tzinfo=time_zone, fold=0).astimezone(UTC)
    if first.astimezone(time_zone).replace(tzinfo=None) == local:
        return first
    # In a gap: fold=1 reads the time with the offset after the change, fold=0 with the one
    # before; the transition instant lies between the two, found to the second by bisection.
    low = local.replace(tzinfo=time_zone, fold=1).astimezone(UTC)
    high = first
    after_offset = high.astimezone(time_zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(time_zone).utcoffset() == after_offset:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0)


def validate_recurrence(rule: str) -> str:
    """Check an RFC 5545 RRULE (without DTSTART) and return it normalized.

    Raises ValueError with a message a user can act on: unparsable rule, a DTSTART inside
    it, a frequency finer than daily, COUNT together with UNTIL, or a zero interval.
    """
    text = (rule or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if not text:
        raise ValueError("The recurrence rule is empty.")
    if "\n" in text or "DTSTART" in text.upper():
        raise ValueError(
            "The recurrence must be a single RRULE without DTSTART: the start is the "
            "reminder's own time."
        )
    parts = [part.strip() for part in text.strip(";").split(";")]
    fields: dict[str, str] = {}
    for part in parts:
        name, sep, value = part.partition("=")
        name = name.strip().upper()
        if not sep or not name or not value.strip():
            raise ValueError(f"'{part}' is not a NAME=VALUE part of an RRULE.")
        if name in fields:
            raise ValueError(f"{name} appears twice in the recurrence rule.")
        fields[name] = value.strip().upper()
    freq = fields.get("FREQ")
    if freq is None:
        raise ValueError("The recurrence rule needs a FREQ (DAILY, WEEKLY, MONTHLY or YEARLY).")
    if freq not in ALLOWED_FREQUENCIES:
        raise ValueError(
            f"FREQ={freq} is not allowed: a reminder repeats at most daily "
            "(DAILY, WEEKLY, MONTHLY or YEARLY)."
        )
    if "COUNT" in fields and "UNTIL" in fields:
        raise ValueError("A recurrence rule may have COUNT or UNTIL, not both.")
    if fields.get("INTERVAL", "1").isdigit() and int(fields.get("INTERVAL", "1")) < 1:
        raise ValueError("INTERVAL must be a positive number.")
    if "COUNT" in fields and (not fields["COUNT"].isdigit() or int(fields["COUNT"]) < 1):
        raise ValueError("COUNT must be a positive number.")
    normalized = ";".join(
        [f"FREQ={freq}"] + [f"{name}={value}" for name, value in fields.items() if name != "FREQ"]
    )
    try:
        # Naive start and a floating UNTIL: UTC UNTILs are localized when the rule is used.
        rrulestr(normalized, dtstart=datetime(2000, 1, 1, 9), ignoretz=True)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise ValueError(f"'{rule}' is not a valid recurrence rule ({error}).") from error
    return normalized


def _build_rule(rule: str, *, local_start: datetime, time_zone: ZoneInfo) -> rrule:
    normalized = validate_recurrence(rule)

    # dateutil refuses a UTC UNTIL with a naive DTSTART; the rule runs on wall-clock times,
    # so the UTC instant is moved to the zone's wall clock first.
    def localize(match: re.Match[str]) -> str:
        until = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return "UNTIL=" + until.astimezone(time_zone).strftime("%Y%m%dT%H%M%S")

    localized = _UNTIL_UTC.sub(localize, normalized)
    built = rrulestr(localized, dtstart=local_start.replace(tzinfo=None))
    assert isinstance(built, rrule)
    return built


def next_occurrence(
    rule: str, *, local_start: datetime, time_zone: ZoneInfo, after: datetime
) -> datetime | None:
    """The first occurrence of `rule` strictly after `after`, as an aware UTC datetime.

    `local_start` is the naive wall-clock time of the first occurrence (the RRULE's DTSTART);
    occurrences are generated on wall-clock times, then converted with `to_utc`, so 09:00
    local stays 09:00 local across DST. None when the rule has ended (COUNT/UNTIL).
    """
    if after.tzinfo is None:
        raise ValueError("next_occurrence expects an aware `after`")
    occurrences = _build_rule(rule, local_start=local_start, time_zone=time_zone)
    # Start a day early: to_utc may move a gap time later, so the wall-clock order and the
    # UTC order agree but the first candidate can sit just before `after` on the wall clock.
    local_after = after.astimezone(time_zone).replace(tzinfo=None) - timedelta(days=1)
    candidate = occurrences.after(local_after, inc=True)
    while candidate is not None:
        instant = to_utc(candidate, time_zone)
        if instant > after:
            return instant
        candidate = occurrences.after(candidate, inc=False)
    return None


def snooze_presets(now: datetime, time_zone: ZoneInfo) -> dict[str, datetime]:
    """The snooze choices the PWA offers, computed in the user's zone, as aware UTC times.

    in_1_hour; this_evening (18:00 today, or tomorrow once 18:00 has passed);
    tomorrow_morning (09:00 tomorrow); next_week (09:00 on the next Monday).
    """
    if now.tzinfo is None:
        raise ValueError("snooze_presets expects an aware `now`")
    local_now = now.astimezone(time_zone).replace(tzinfo=None)
    today = local_now.date()
    tomorrow = today + timedelta(days=1)
    evening = datetime.combine(today, time(EVENING_HOUR))
    if evening <= local_now:
        evening = datetime.combine(tomorrow, time(EVENING_HOUR))
    days_to_monday = (7 - today.weekday()) % 7 or 7
    monday = today + timedelta(days=days_to_monday)
    return {
        "in_1_hour": now.astimezone(UTC) + timedelta(hours=1),
        "this_evening": to_utc(evening, time_zone),
        "tomorrow_morning": to_utc(datetime.combine(tomorrow, time(MORNING_HOUR)), time_zone),
        "next_week": to_utc(datetime.combine(monday, time(MORNING_HOUR)), time_zone),
    }
