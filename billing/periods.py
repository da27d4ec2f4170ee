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
    start = now.astimezone(dt.UTC).date()
    return Period(start, dt.datetime.combine(start + dt.timedelta(days=1), dt.time(), dt.UTC))


def month(now: dt.datetime) -> Period:
    start = now.astimezone(dt.UTC).date().replace(day=1)
    following = (start + dt.timedelta(days=32)).replace(day=1)
    return Period(start, dt.datetime.combine(following, dt.time(), dt.UTC))


def forever(now: dt.datetime) -> Period:
    return Period(FOREVER, None)


# Which period each counted limit of a Plan uses.
COUNTED_LIMITS = {
    "max_memories": forever,
    "saves_per_day": day,
    "enrichments_per_month": month,
}
