"""Reads of plans, usage and AI spend."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from billing.ai_budget import ai_spend_of_month
from billing.limits import LIMITS, LimitKind
from billing.models import Plan, UsageCounter
from billing.periods import month_start
from billing.services import rate_limit_used


def plan_get(*, name: str) -> Plan:
    """The plan called `name`; raises Plan.DoesNotExist."""
    return Plan.objects.get(name=name)


def plan_default() -> Plan:
    """The plan new accounts start on (DEFAULT_PLAN)."""
    return plan_get(name=settings.DEFAULT_PLAN)


def usage_summary(*, user) -> dict:
    """The user's plan, its limits, what the user has used of each and when each count
    resets, for GET /usage. AI spend is the month's sum of the user's ledger entries."""
    plan = user.plan
    now = timezone.now()
    periods = {name: limit.period(now) for name, limit in LIMITS.items() if limit.period}
    counts = {
        (row.limit_name, row.period_start): row.count
        for row in UsageCounter.objects.filter(
            user=user, period_start__in={p.start for p in periods.values()}
        )
    }
    used: dict[str, object] = {}
    resets_at: dict[str, dt.datetime | None] = {}
    for name, limit in LIMITS.items():
        if limit.kind is LimitKind.RATE:
            used[name], resets_at[name] = rate_limit_used(user_id=user.pk, limit_name=name)
            continue
        period = periods[name]
        resets_at[name] = period.resets_at
        if limit.kind is LimitKind.BUDGET:
            used[name] = ai_spend_of_month(user_id=user.pk, now=now)
        else:
            used[name] = counts.get((name, period.start), 0)
    return {"plan": plan.name, "limits": plan.limits, "used": used, "resets_at": resets_at}


# AI spend, for the admin cost console. Read from the materialized views of migration 0003
# (refreshed every minute by beat), not from the ledger: global figures from the hourly view
# (a few rows per day, indexed by hour), per-user figures from the per-user daily view. Days
# are UTC days, as in the views.


@dataclass(frozen=True)
class AiSpendTotals:
    today_usd: Decimal
    month_usd: Decimal


@dataclass(frozen=True)
class AiBudgetStatus:
    """Global spend of one period against its budget (the budget breaker opens at 100%)."""

    period: str  # "day" or "month"
    spent_usd: Decimal
    budget_usd: Decimal
    percent: Decimal | None  # None when the budget is 0 (every call refused)
    state: str  # "ok", "warning" (at AI_BUDGET_WARN_RATIO) or "spent"


@dataclass(frozen=True)
class UserAiSpend:
    user_id: int
    email: str
    today_usd: Decimal
    month_usd: Decimal
    plan_budget_usd: Decimal | None  # the plan's monthly AI budget; None means unlimited


@dataclass(frozen=True)
class DayAiSpend:
    day: dt.date
    cost_usd: Decimal


def ai_spend_totals(*, today: dt.date) -> AiSpendTotals:
    """Global AI spend of `today` and of its month so far (every user, and calls made on no
    user's behalf)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT coalesce(sum(cost_usd) FILTER (WHERE hour >= %(today)s), 0),
                   coalesce(sum(cost_usd), 0)
            FROM billing_ai_spend_hour
            WHERE hour >= %(month)s AND hour < %(tomorrow)s
            """,
            {
                "today": today,
                "month": month_start(today),
                "tomorrow": today + dt.timedelta(days=1),
            },
        )
        today_usd, month_usd = cursor.fetchone()
    return AiSpendTotals(today_usd=today_usd, month_usd=month_usd)


def ai_budget_status(*, totals: AiSpendTotals) -> list[AiBudgetStatus]:
    """The global day and month budgets (AI_BUDGET_USD_PER_DAY / _PER_MONTH) against spend."""
    statuses = []
    for period, spent, budget in (
        ("day", totals.today_usd, settings.AI_BUDGET_USD_PER_DAY),
        ("month", totals.month_usd, settings.AI_BUDGET_USD_PER_MONTH),
    ):
        if spent >= budget:
            state = "spent"
        elif spent >= budget * settings.AI_BUDGET_WARN_RATIO:
            state = "warning"
        else:
            state = "ok"
        statuses.append(
            AiBudgetStatus(
                period=period,
                spent_usd=spent,
                budget_usd=budget,
                percent=(spent * 100 / budget).quantize(Decimal("0.1")) if budget > 0 else None,
                state=state,
            )
        )
    return statuses


_USER_SPEND_SQL = """
SELECT user_id, coalesce(sum(cost_usd) FILTER (WHERE day = %(today)s), 0) AS today,
       sum(cost_usd) AS month
FROM billing_ai_spend_user_day
WHERE day BETWEEN %(month)s AND %(today)s AND user_id IS NOT NULL
  AND (%(user_id)s::bigint IS NULL OR user_id = %(user_id)s)
GROUP BY user_id
ORDER BY month DESC, user_id
LIMIT %(limit)s
"""


def _user_spends(*, today: dt.date, limit: int, user_id: int | None = None) -> list[UserAiSpend]:
    with connection.cursor() as cursor:
        cursor.execute(
            _USER_SPEND_SQL,
            {"today": today, "month": month_start(today), "limit": limit, "user_id": user_id},
        )
        rows = cursor.fetchall()
    users = get_user_model().objects.select_related("plan").in_bulk([row[0] for row in rows])
    return [
        UserAiSpend(
            user_id=row_user_id,
            # A user deleted since the view was last refreshed is no longer in the table.
            email=users[row_user_id].email if row_user_id in users else f"user {row_user_id}",
            today_usd=today_usd,
            month_usd=month_usd,
            plan_budget_usd=(
                users[row_user_id].plan.ai_budget_usd_per_month if row_user_id in users else None
            ),
        )
        for row_user_id, today_usd, month_usd in rows
    ]


def ai_spend_top_users(*, today: dt.date, limit: int = 10) -> list[UserAiSpend]:
    """The users who spent most this month, with their spend of `today` and of the month.
    Calls made on no user's behalf (category prototypes) count in the totals only."""
    return _user_spends(today=today, limit=limit)


def ai_spend_of_user(*, user, today: dt.date) -> UserAiSpend:
    """One user's AI spend of `today` and of its month (zero when they spent nothing)."""
    spends = _user_spends(today=today, limit=1, user_id=user.pk)
    if spends:
        return spends[0]
    return UserAiSpend(
        user_id=user.pk,
        email=user.email,
        today_usd=Decimal(0),
        month_usd=Decimal(0),
        plan_budget_usd=user.plan.ai_budget_usd_per_month,
    )


def ai_spend_by_day(*, today: dt.date, days: int = 30) -> list[DayAiSpend]:
    """Global AI spend per day for the `days` days up to `today`, oldest first; a day
    without spend is there with zero."""
    first = today - dt.timedelta(days=days - 1)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT hour::date, sum(cost_usd) FROM billing_ai_spend_hour
            WHERE hour >= %(first)s AND hour < %(tomorrow)s
            GROUP BY 1
            """,
            {"first": first, "tomorrow": today + dt.timedelta(days=1)},
        )
        spent = dict(cursor.fetchall())
    return [
        DayAiSpend(day=day, cost_usd=spent.get(day, Decimal(0)))
        for day in (first + dt.timedelta(days=offset) for offset in range(days))
    ]
