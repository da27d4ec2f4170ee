"""AI spend: budget reservations in Redis, the ledger in Postgres.

Every provider call reserves its estimated cost before it is made (so concurrent calls cannot
overrun a budget together) and settles to the real cost after. The Redis counters are kept in
step with the ledger: a missing counter (Redis restarted, new period) is seeded from the
ledger's sum before use. Amounts are integer micro-dollars in Redis and Decimal elsewhere.

A counter lives until its period ends (the day's at 00:00 UTC, the month's on the 1st), so
a reservation never settled (a worker killed during its call) holds budget no longer than
that; a settle after its period's counter is gone does not bring it back. The nightly
reconciliation (budget_reconcile) puts counters that drifted back to the ledger's sums.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from billing import periods
from billing.limits import AI_BUDGET_USD_PER_MONTH
from billing.models import AiLedgerEntry, Plan
from core.alerts import BUDGET_SPENT, BUDGET_WARNING, alert_raise
from core.redis import state_redis

logger = logging.getLogger(__name__)

MICRO = Decimal("1000000")


class BudgetExhausted(Exception):
    """The global AI budget of the day or month is spent: the budget breaker is open."""


class BudgetUnavailable(Exception):
    """Redis did not answer: no reservation, so no AI call (fail safe)."""


def to_micro(usd: Decimal) -> int:
    """USD as integer micro-dollars (Redis counters), rounded up: never under-reserve."""
    return int((usd * MICRO).to_integral_value(rounding=ROUND_CEILING))


def from_micro(micro: int) -> Decimal:
    """Integer micro-dollars back to USD."""
    return Decimal(micro) / MICRO


def _periods(now: dt.datetime) -> tuple[dt.date, dt.date]:
    return periods.day(now).start, periods.month(now).start


def _global_day_key(day: dt.date) -> str:
    return f"aibudget:global:day:{day.isoformat()}"


def _global_month_key(month: dt.date) -> str:
    return f"aibudget:global:month:{month:%Y-%m}"


def _user_month_key(user_id: int, month: dt.date) -> str:
    return f"aibudget:user:{user_id}:month:{month:%Y-%m}"


def _ledger_sum(*, since: dt.date, user_id: int | None = None) -> Decimal:
    start = dt.datetime.combine(since, dt.time(), dt.UTC)
    entries = AiLedgerEntry.objects.filter(created_at__gte=start)
    if user_id is not None:
        entries = entries.filter(user_id=user_id)
    return entries.aggregate(total=Sum("cost_usd"))["total"] or Decimal(0)


def _seconds_left(resets_at: dt.datetime | None, now: dt.datetime) -> int:
    """Seconds until `resets_at`, for a counter's TTL (relative: Redis counts on its clock)."""
    assert resets_at is not None  # days and months end
    return max(1, math.ceil((resets_at - now).total_seconds()))


def _seed(redis, key: str, *, since: dt.date, ttl: int, user_id: int | None = None) -> None:
    if not redis.exists(key):
        redis.set(key, to_micro(_ledger_sum(since=since, user_id=user_id)), nx=True, ex=ttl)


# Accept each user whose own monthly budget has room, then check the global day and month
# budgets against the accepted total; all or nothing for the globals. Atomic in Redis.
# KEYS: global day, global month, then one key per user. ARGV: global day limit, global month
# limit (micro-dollars, -1 = none), then per user: amount, limit; last, the seconds left in
# the day and in the month (a counter created here, its seed having just expired, gets them).
_RESERVE_LUA = """
local accepted = {}
local total = 0
for i = 3, #KEYS do
  local amount = tonumber(ARGV[(i - 3) * 2 + 3])
  local limit = tonumber(ARGV[(i - 3) * 2 + 4])
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  if limit < 0 or used + amount <= limit then
    accepted[#accepted + 1] = i
    total = total + amount
  end
end
if total > 0 then
  for g = 1, 2 do
    local limit = tonumber(ARGV[g])
    local used = tonumber(redis.call('GET', KEYS[g]) or '0')
    if limit >= 0 and used + total > limit then
      return {-g}
    end
  end
end
for _, i in ipairs(accepted) do
  redis.call('INCRBY', KEYS[i], ARGV[(i - 3) * 2 + 3])
end
redis.call('INCRBY', KEYS[1], total)
redis.call('INCRBY', KEYS[2], total)
for i = 1, #KEYS do
  if redis.call('TTL', KEYS[i]) == -1 then
    redis.call('EXPIRE', KEYS[i], i == 1 and ARGV[#ARGV - 1] or ARGV[#ARGV])
  end
end
return accepted
"""

# Settle each counter by its delta, unless its period ended and took it away meanwhile.
_SETTLE_LUA = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('INCRBY', KEYS[i], ARGV[i])
  end
end
"""


@dataclass
class Reservation:
    """Estimated cost reserved per user (micro-dollars); users refused by their own budget
    are not in it."""

    day: dt.date
    month: dt.date
    amounts: dict[int, int] = field(default_factory=dict)
    refused_users: set[int] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(self.amounts.values())


def budget_reserve(*, estimates: dict[int, Decimal], now: dt.datetime | None = None) -> Reservation:
    """Reserve the estimated cost of a call, per user. Raises BudgetExhausted when a global
    budget cannot take it, BudgetUnavailable when Redis does not answer."""
    now = now or timezone.now()
    day, month = _periods(now)
    day_ttl = _seconds_left(periods.day(now).resets_at, now)
    month_ttl = _seconds_left(periods.month(now).resets_at, now)
    user_ids = list(estimates)
    limits = dict(
        Plan.objects.filter(users__id__in=user_ids).values_list(
            "users__id", AI_BUDGET_USD_PER_MONTH.name
        )
    )
    keys = [
        _global_day_key(day),
        _global_month_key(month),
        *(_user_month_key(user_id, month) for user_id in user_ids),
    ]
    argv: list[int] = [
        to_micro(settings.AI_BUDGET_USD_PER_DAY),
        to_micro(settings.AI_BUDGET_USD_PER_MONTH),
    ]
    for user_id in user_ids:
        limit = limits.get(user_id)
        argv += [to_micro(estimates[user_id]), -1 if limit is None else to_micro(limit)]
    argv += [day_ttl, month_ttl]
    try:
        redis = state_redis()
        _seed(redis, keys[0], since=day, ttl=day_ttl)
        _seed(redis, keys[1], since=month, ttl=month_ttl)
        for user_id, key in zip(user_ids, keys[2:], strict=True):
            _seed(redis, key, since=month, ttl=month_ttl, user_id=user_id)
        result = redis.eval(_RESERVE_LUA, len(keys), *keys, *argv)
    except Exception as exc:
        raise BudgetUnavailable(str(exc)) from exc
    if result and int(result[0]) < 0:
        period = "day" if int(result[0]) == -1 else "month"
        limit = (
            settings.AI_BUDGET_USD_PER_DAY if period == "day" else settings.AI_BUDGET_USD_PER_MONTH
        )
        alert_raise(
            BUDGET_SPENT,
            scope=f"{period}:{day if period == 'day' else month}",
            period=period,
            limit=limit,
        )
        raise BudgetExhausted(f"global {period} budget ${limit} spent")
    accepted = {user_ids[int(i) - 3] for i in result}
    reservation = Reservation(day=day, month=month)
    for user_id in user_ids:
        if user_id in accepted:
            reservation.amounts[user_id] = to_micro(estimates[user_id])
        else:
            reservation.refused_users.add(user_id)
    _warn_if_near(redis, day=day, month=month)
    return reservation


def _warn_if_near(redis, *, day: dt.date, month: dt.date) -> None:
    for period, key, limit, start in (
        ("day", _global_day_key(day), settings.AI_BUDGET_USD_PER_DAY, day),
        ("month", _global_month_key(month), settings.AI_BUDGET_USD_PER_MONTH, month),
    ):
        used = from_micro(int(redis.get(key) or 0))
        if limit > 0 and used >= limit * settings.AI_BUDGET_WARN_RATIO:
            alert_raise(
                BUDGET_WARNING,
                scope=f"{period}:{start}",
                period=period,
                percent=f"{used / limit:.0%}",
                limit=limit,
            )


def budget_settle(reservation: Reservation, *, actual: dict[int, Decimal]) -> None:
    """Replace the reservation by the real cost (a failed call: actual 0 for everyone)."""
    keys: list[str] = []
    deltas: list[int] = []
    for user_id, reserved in reservation.amounts.items():
        keys.append(_user_month_key(user_id, reservation.month))
        deltas.append(to_micro(actual.get(user_id, Decimal(0))) - reserved)
    keys += [_global_day_key(reservation.day), _global_month_key(reservation.month)]
    deltas += [sum(deltas)] * 2
    try:
        state_redis().eval(_SETTLE_LUA, len(keys), *keys, *deltas)
    except Exception:
        # The counters drift from the ledger until their period ends or the nightly
        # reconciliation (budget_reconcile) puts them back.
        logger.warning("AI budget counters not settled", exc_info=True)


@dataclass(frozen=True)
class BudgetCorrection:
    key: str  # the Redis counter
    was: Decimal
    now: Decimal


def budget_reconcile(*, now: dt.datetime | None = None) -> list[BudgetCorrection]:
    """Set every live budget counter of the current day and month (global and per user) to
    its ledger sum where they differ; returns the corrections. Nightly (enrichment's
    reconcile job). A reservation in flight at that moment is forgotten: its settle then
    leaves the counter short by the estimate, for the rest of the period at most."""
    now = now or timezone.now()
    day, month = _periods(now)
    redis = state_redis()
    wanted: dict[str, tuple[dt.date, int | None]] = {
        _global_day_key(day): (day, None),
        _global_month_key(month): (month, None),
    }
    for key in redis.scan_iter(match=_user_month_key(0, month).replace(":0:", ":*:")):
        name = key.decode() if isinstance(key, bytes) else key
        owner = int(name.split(":")[2])
        if owner:  # 0: calls on no user's behalf, which have no budget of their own
            wanted[name] = (month, owner)
    corrections: list[BudgetCorrection] = []
    for key, (since, user_id) in wanted.items():
        stored = redis.get(key)
        if stored is None:  # seeded from the ledger when next used
            continue
        ledger = to_micro(_ledger_sum(since=since, user_id=user_id))
        if int(stored) != ledger and redis.set(key, ledger, keepttl=True, xx=True):
            corrections.append(BudgetCorrection(key, from_micro(int(stored)), from_micro(ledger)))
    return corrections


def ai_ledger_items(*, operation: str, since: dt.date) -> dict[int, int]:
    """Items each user had processed by `operation` since `since`, from the ledger."""
    start = dt.datetime.combine(since, dt.time(), dt.UTC)
    rows = (
        AiLedgerEntry.objects.filter(
            created_at__gte=start, operation=operation, user_id__isnull=False
        )
        .values("user_id")
        .annotate(total=Sum("items"))
        .values_list("user_id", "total")
    )
    return dict(rows)


@dataclass(frozen=True)
class UserShare:
    items: int
    input_tokens: int
    cost_usd: Decimal


def ai_ledger_record(
    *,
    request_id: uuid.UUID,
    provider: str,
    model: str,
    operation: str,
    shares: dict[int | None, UserShare],
) -> None:
    """One ledger row per user share of one provider call (user None: on no user's behalf)."""
    AiLedgerEntry.objects.bulk_create(
        AiLedgerEntry(
            request_id=request_id,
            user_id=user_id,
            provider=provider,
            model=model,
            operation=operation,
            items=share.items,
            input_tokens=share.input_tokens,
            cost_usd=share.cost_usd,
        )
        for user_id, share in shares.items()
    )


def ai_spend_of_month(*, user_id: int, now: dt.datetime | None = None) -> Decimal:
    """What the user's AI calls cost this UTC month, from the ledger."""
    return _ledger_sum(since=periods.month(now or timezone.now()).start, user_id=user_id)


def ai_spend_views_refresh() -> None:
    """Refresh the spend views the cost console reads (beat: every minute)."""
    with connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY billing_ai_spend_user_day")
        cursor.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY billing_ai_spend_hour")
