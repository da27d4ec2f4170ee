"""The periods limits are counted in. All in UTC: a day ends at 00:00 UTC."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

FOREVER = dt.date(1970, 1, 1)  # period_start of limits that never reset (stored memories)


@dataclass(frozen=True)
class Period:
    start: dt.date
    resets_at: dt.datetime | None


def day(now: dt.datetime) -> Period:
    """The UTC day of `now`; it resets at the next 00:00 UTC."""
    start = now.astimezone(dt.UTC).date()
    return Period(start, dt.datetime.combine(start + dt.timedelta(days=1), dt.time(), dt.UTC))


def month_start(date: dt.date) -> dt.date:
    """The first day of `date`'s month."""
    return date.replace(day=1)


def month(now: dt.datetime) -> Period:
    """The UTC month of `now`; it resets on the 1st at 00:00 UTC."""
    start = month_start(now.astimezone(dt.UTC).date())
    following = (start + dt.timedelta(days=32)).replace(day=1)
    return Period(start, dt.datetime.combine(following, dt.time(), dt.UTC))


def forever(now: dt.datetime) -> Period:
    """One period that never resets (stored memories)."""
    return Period(FOREVER, None)
