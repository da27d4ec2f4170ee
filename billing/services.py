"""Usage accounting: plan quotas in Postgres, per-minute rates in Redis, plans' limits."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import Greatest
from django.utils import timezone

from billing.limits import COUNTED_LIMITS, LIMITS, QuotaExceeded, RateLimited
from billing.models import AiLedgerEntry, Plan, UsageCounter
from billing.periods import Period
from billing.signals import plan_limits_changed
from core.throttles import fixed_window_count, fixed_window_hit, window_end

logger = logging.getLogger(__name__)


_CONSUME_SQL = """
INSERT INTO billing_usagecounter AS counter (user_id, limit_name, period_start, count)
SELECT %s, wanted.limit_name, wanted.period_start, %s
FROM (VALUES {wanted}) AS wanted(limit_name, period_start)
WHERE {gate}
ON CONFLICT (user_id, limit_name, period_start) DO UPDATE
    SET count = counter.count + EXCLUDED.count
    -- An unlimited (NULL) limit compares as the largest count a column can hold.
    WHERE counter.count + EXCLUDED.count <= CASE counter.limit_name {limits} END
RETURNING counter.limit_name, counter.count
"""


@functools.cache
def _consume_sql(limit_count: int, gate: str) -> str:
    """The statement for `limit_count` limits, with one scalar parameter per value: psycopg
    dumps scalars faster than arrays, and the text is the same for each call with as many
    limits, so it prepares once."""
    return _CONSUME_SQL.format(
        wanted=", ".join(["(%s::text, %s::date)"] * limit_count),
        limits=" ".join(["WHEN %s::text THEN COALESCE(%s::integer, 2147483647)"] * limit_count),
        gate=gate,
    )


@dataclass(frozen=True)
class Consumption:
    """One conditional upsert that counts `amount` against each of a user's limits.

    `sql` is an INSERT … ON CONFLICT DO UPDATE … WHERE count + amount <= limit, RETURNING
    (limit_name, count) for each limit it counted; its placeholders are positional, `params`
    fill them. `gate` is an SQL condition: nothing is counted unless it holds, so a caller
    can put the statement in a WITH clause after the write it pays for (see
    memories.services). Run it with usage_consume_many, or embed it and pass what it
    returned to `settle`.
    """

    user_id: int
    amount: int
    limits: dict[str, int | None]
    periods: dict[str, Period]
    sql: str
    params: list[Any]

    def settle(self, counted: dict[str, int]) -> QuotaExceeded | None:
        """None when every limit was counted. Otherwise give back the limits that were
        counted, so the caller's transaction holds no partial count, and return the refusal
        of the first limit that was not: the caller undoes its write and raises it."""
        missing = [name for name in self.limits if name not in counted]
        if not missing:
            return None
        if counted:
            with connection.cursor() as cursor:
                cursor.execute(
                    _REFUND_SQL,
                    [
                        self.amount,
                        list(counted),
                        [self.periods[name].start for name in counted],
                        self.user_id,
                    ],
                )
        name = missing[0]
        return _exceeded(self.user_id, name, self.limits[name] or 0, self.periods[name])


_REFUND_SQL = """
UPDATE billing_usagecounter AS counter SET count = counter.count - %s
FROM unnest(%s::text[], %s::date[]) AS given(limit_name, period_start)
WHERE counter.user_id = %s
  AND counter.limit_name = given.limit_name AND counter.period_start = given.period_start
"""


def usage_consumption(
    *,
    user_id: int,
    limits: dict[str, int | None],
    amount: int = 1,
    now: dt.datetime | None = None,
    gate: str = "TRUE",
) -> Consumption:
    """The statement that counts `amount` against each of `limits` ({COUNTED limit name:
    the plan's value or None}) for its current period; see Consumption."""
    now = now or timezone.now()
    periods = {name: _period(name, now) for name in limits}
    for name, limit in limits.items():
        if limit is not None and amount > limit:
            raise _exceeded(user_id, name, limit, periods[name])
    return Consumption(
        user_id=user_id,
        amount=amount,
        limits=limits,
        periods=periods,
        sql=_consume_sql(len(limits), gate),
        params=[
            user_id,
            amount,
            *(value for name in limits for value in (name, periods[name].start)),
            *(value for name, limit in limits.items() for value in (name, limit)),
        ],
    )


def usage_consume(
    *,
    user_id: int,
    limit_name: str,
    limit: int | None,
    amount: int = 1,
    now: dt.datetime | None = None,
) -> int:
    """Count `amount` against one limit; see usage_consume_many. Returns the new count."""
    return usage_consume_many(user_id=user_id, limits={limit_name: limit}, amount=amount, now=now)[
        limit_name
    ]


def usage_consume_many(
    *, user_id: int, limits: dict[str, int | None], amount: int = 1, now: dt.datetime | None = None
) -> dict[str, int]:
    """Count `amount` against each of the user's `limits` ({limit name: limit or None}) for
    its current period; returns the new counts, or raises QuotaExceeded.

    One atomic statement (see Consumption): the row locks it takes serialize concurrent
    consumers, and each sees the counts the others committed, so a limit is never overrun.
    All or nothing: when one limit refuses, the others are given back. Call it in the
    transaction of the write it pays for, so a rollback refunds the count too.
    """
    consumption = usage_consumption(user_id=user_id, limits=limits, amount=amount, now=now)
    with connection.cursor() as cursor:
        cursor.execute(consumption.sql, consumption.params)
        counted = dict(cursor.fetchall())
    if refusal := consumption.settle(counted):
        raise refusal
    return counted


def _exceeded(user_id: int, name: str, limit: int, period: Period) -> QuotaExceeded:
    return QuotaExceeded(
        limit_name=name,
        limit=limit,
        used=_count(user_id, name, period.start),
        resets_at=period.resets_at,
    )


def usage_release(
    *, user_id: int, limit_name: str, amount: int = 1, now: dt.datetime | None = None
) -> None:
    """Give back `amount` of the current period (e.g. a deleted memory frees a slot)."""
    period = _period(limit_name, now or timezone.now())
    UsageCounter.objects.filter(
        user_id=user_id, limit_name=limit_name, period_start=period.start
    ).update(count=Greatest(F("count") - amount, 0))


@dataclass(frozen=True)
class CounterCorrection:
    """A counter set from `was` to `now`; `skipped`: left alone at `was` (now == was)
    because a write it counts was in flight."""

    user_id: int
    limit_name: str
    was: int
    now: int
    skipped: bool = False


def usage_counters_reconcile(
    *,
    limit_name: str,
    user_ids: Iterable[int],
    count: Callable[[int], int],
    lower_only: bool = False,
    in_flight: Callable[[int], bool] | None = None,
    now: dt.datetime | None = None,
) -> list[CounterCorrection]:
    """Set the current period's counter of `limit_name` to `count(user_id)` (what the rows
    say) for these users and every user with a counter, where it differs; returns the
    corrections. `lower_only`: only counters above the count are corrected (the count is a
    floor, not the truth). `in_flight(user_id)`: a write that counted is not in the rows
    yet; such a user's counter is left alone and reported with `skipped`.

    Per user, in one transaction: the counter row is locked (select_for_update) before
    `in_flight` and `count` run, so a write that counts concurrently either committed first
    (and is in the count, or in flight) or waits for the correction and adds to it.
    """
    period = _period(limit_name, now or timezone.now())
    counters = UsageCounter.objects.filter(limit_name=limit_name, period_start=period.start)
    users = set(user_ids) | set(counters.values_list("user_id", flat=True))
    corrections: list[CounterCorrection] = []
    for user_id in sorted(users):
        with transaction.atomic():
            row = counters.select_for_update().filter(user_id=user_id).first()
            was = row.count if row else 0
            if in_flight is not None and in_flight(user_id):
                corrections.append(CounterCorrection(user_id, limit_name, was, was, True))
                continue
            expected = count(user_id)
            if was == expected or (lower_only and was < expected):
                continue
            UsageCounter.objects.update_or_create(
                user_id=user_id,
                limit_name=limit_name,
                period_start=period.start,
                defaults={"count": expected},
            )
        corrections.append(CounterCorrection(user_id, limit_name, was, expected))
    return corrections


def ai_ledger_items_of_user(*, user_id: int, operation: str, since: dt.date) -> int:
    """Items this user had processed by `operation` since `since`, from the AI ledger: one
    user's share of billing.ai_budget.ai_ledger_items, for a reconcile that sums it under
    the user's counter lock."""
    start = dt.datetime.combine(since, dt.time(), dt.UTC)
    total = AiLedgerEntry.objects.filter(
        user_id=user_id, operation=operation, created_at__gte=start
    ).aggregate(total=Sum("items"))["total"]
    return total or 0


def _period(limit_name: str, now: dt.datetime) -> Period:
    period = COUNTED_LIMITS[limit_name].period
    assert period is not None  # every COUNTED limit has one
    return period(now)


def _count(user_id: int, limit_name: str, start: dt.date) -> int:
    row = (
        UsageCounter.objects.filter(user_id=user_id, limit_name=limit_name, period_start=start)
        .values_list("count", flat=True)
        .first()
    )
    return row or 0


def _window_seconds(limit_name: str) -> int:
    window = LIMITS[limit_name].window_seconds
    assert window is not None  # every RATE limit has one
    return window


def rate_limit_hit(*, user_id: int, limit_name: str, limit: int | None) -> None:
    """Count one request in the current fixed window; raise RateLimited past `limit`.

    The throttles' counter (core.throttles): of N concurrent requests exactly `limit` pass a
    window, Retry-After is the time left in it, and if Redis does not answer the request is
    let through (and logged): a rate limit must not take search down with it.
    """
    if limit is None:
        return
    retry_after = fixed_window_hit(
        name=limit_name, ident=str(user_id), limit=limit, window_seconds=_window_seconds(limit_name)
    )
    if retry_after:
        raise RateLimited(limit_name=limit_name, limit=limit, retry_after=retry_after)


def rate_limit_used(*, user_id: int, limit_name: str) -> tuple[int, dt.datetime]:
    """(requests counted in the current window, when it ends)."""
    window_seconds = _window_seconds(limit_name)
    count, _ = fixed_window_count(
        name=limit_name, ident=str(user_id), window_seconds=window_seconds
    )
    return count, dt.datetime.fromtimestamp(window_end(window_seconds), dt.UTC)


def plan_set_limits(*, name: str, limits: dict[str, object]) -> tuple[Plan, bool]:
    """Create the plan called `name` if missing (limits not given: unlimited) and set `limits`.

    Returns (plan, created). Raises ValueError for an unknown limit name. Users on the plan
    see the change on their next request: limits are read from the plan each time; work
    waiting for the old limits hears of it through the plan_limits_changed signal.
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
    plan_limits_changed.send(sender=Plan, plan_id=plan.pk, user_ids=None)
    return plan, created
