"""Usage accounting: plan quotas in Postgres, per-minute rates in Redis."""

from __future__ import annotations

import datetime as dt
import logging
import math
import time

from django.db import connection
from django.utils import timezone
from django_redis import get_redis_connection

from billing.models import Plan, UsageCounter
from billing.periods import COUNTED_LIMITS

logger = logging.getLogger(__name__)


class QuotaExceeded(Exception):
    def __init__(
        self, *, limit_name: str, limit: int, used: int, resets_at: dt.datetime | None
    ) -> None:
        super().__init__(f"{limit_name}: {used}/{limit}")
        self.limit_name, self.limit, self.used, self.resets_at = limit_name, limit, used, resets_at


class RateLimited(Exception):
    def __init__(self, *, limit_name: str, limit: int, retry_after: int) -> None:
        super().__init__(f"{limit_name}: {limit} per window, retry in {retry_after}s")
        self.limit_name, self.limit, self.retry_after = limit_name, limit, retry_after


_CONSUME_SQL = """
INSERT INTO billing_usagecounter (user_id, limit_name, period_start, count)
VALUES (%(user)s, %(name)s, %(start)s, %(amount)s)
ON CONFLICT (user_id, limit_name, period_start) DO UPDATE
    SET count = billing_usagecounter.count + EXCLUDED.count
    WHERE %(limit)s::integer IS NULL OR billing_usagecounter.count + EXCLUDED.count <= %(limit)s
RETURNING count
"""


def usage_consume(
    *,
    user_id: int,
    limit_name: str,
    limit: int | None,
    amount: int = 1,
    now: dt.datetime | None = None,
) -> int:
    """Count `amount` against the user's `limit_name` for the current period; returns the new
    count, or raises QuotaExceeded and counts nothing.

    One atomic statement (INSERT … ON CONFLICT DO UPDATE … WHERE count + amount <= limit): the
    row lock it takes serializes concurrent consumers, and each sees the count the others
    committed, so a limit is never overrun. Call it inside the transaction of the write it
    pays for, so a rollback refunds it.
    """
    period = COUNTED_LIMITS[limit_name](now or timezone.now())
    if limit is not None and amount > limit:
        raise QuotaExceeded(
            limit_name=limit_name,
            limit=limit,
            used=_count(user_id, limit_name, period.start),
            resets_at=period.resets_at,
        )
    with connection.cursor() as cursor:
        cursor.execute(
            _CONSUME_SQL,
            {
                "user": user_id,
                "name": limit_name,
                "start": period.start,
                "amount": amount,
                "limit": limit,
            },
        )
        row = cursor.fetchone()
    if row is None:
        raise QuotaExceeded(
            limit_name=limit_name,
            limit=limit or 0,
            used=_count(user_id, limit_name, period.start),
            resets_at=period.resets_at,
        )
    return row[0]


def usage_release(
    *, user_id: int, limit_name: str, amount: int = 1, now: dt.datetime | None = None
) -> None:
    """Give back `amount` of the current period (e.g. a deleted memory frees a slot)."""
    from django.db.models import F
    from django.db.models.functions import Greatest

    period = COUNTED_LIMITS[limit_name](now or timezone.now())
    UsageCounter.objects.filter(
        user_id=user_id, limit_name=limit_name, period_start=period.start
    ).update(count=Greatest(F("count") - amount, 0))


def _count(user_id: int, limit_name: str, start: dt.date) -> int:
    row = (
        UsageCounter.objects.filter(user_id=user_id, limit_name=limit_name, period_start=start)
        .values_list("count", flat=True)
        .first()
    )
    return row or 0


def rate_limit_key(limit_name: str, user_id: int, window: int, window_seconds: int) -> str:
    return f"ratelimit:{limit_name}:{user_id}:{window_seconds}:{window}"


def rate_limit_hit(
    *, user_id: int, limit_name: str, limit: int | None, window_seconds: int = 60
) -> None:
    """Count one request in the current fixed window; raise RateLimited past `limit`.

    INCR is atomic in Redis, so of N concurrent requests exactly `limit` pass per window.
    Retry-After is the time left in the window. If Redis does not answer, the request is let
    through (and logged): a rate limit must not take search down with it.
    """
    if limit is None:
        return
    now = time.time()
    window = int(now // window_seconds)
    key = rate_limit_key(limit_name, user_id, window, window_seconds)
    try:
        redis = get_redis_connection("default")
        with redis.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=window_seconds + 5, nx=True)
            pipe.incr(key)
            _, count = pipe.execute()
    except Exception:
        logger.warning("rate limit %s not checked: Redis unavailable", limit_name, exc_info=True)
        return
    if count > limit:
        retry_after = max(1, math.ceil((window + 1) * window_seconds - now))
        raise RateLimited(limit_name=limit_name, limit=limit, retry_after=retry_after)


def rate_limit_used(
    *, user_id: int, limit_name: str, window_seconds: int = 60
) -> tuple[int, dt.datetime]:
    """(requests counted in the current window, when it ends)."""
    now = time.time()
    window = int(now // window_seconds)
    ends = dt.datetime.fromtimestamp((window + 1) * window_seconds, dt.UTC)
    try:
        value = get_redis_connection("default").get(
            rate_limit_key(limit_name, user_id, window, window_seconds)
        )
    except Exception:
        return 0, ends
    return int(value or 0), ends


def plan_set_limits(*, name: str, limits: dict[str, object]) -> tuple[Plan, bool]:
    """Create the plan called `name` if missing (limits not given: unlimited) and set `limits`.

    Returns (plan, created). Raises ValueError for an unknown limit name. Users on the plan
    see the change on their next request: limits are read from the plan each time.
    """
    unknown = set(limits) - set(Plan.LIMIT_FIELDS)
    if unknown:
        raise ValueError(
            f"unknown limit(s): {', '.join(sorted(unknown))}; known: {', '.join(Plan.LIMIT_FIELDS)}"
        )
    plan, created = Plan.objects.get_or_create(name=name, defaults={"display_name": name.title()})
    for field, value in limits.items():
        setattr(plan, field, value)
    plan.full_clean()
    plan.save()
    return plan, created
