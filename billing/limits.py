"""Plan limits, the one source of truth (DESIGN §1): each limit's name (the Plan field that
holds it), what kind of count it is, its period, and how a refusal is answered (402 or 429).

Every app names a limit through the constants here, never by a string of its own. Adding a
limit: a constant and its line in LIMITS here, the Plan field (billing/models.py) with its
migration, and the call that counts it where the work happens (docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from billing.periods import Period, day, forever, month
from core.problems import Problem


class LimitKind(StrEnum):
    COUNTED = "counted"  # a Postgres counter per period (billing.services.usage_consume)
    RATE = "rate"  # a Redis counter per fixed window (billing.services.rate_limit_hit)
    BUDGET = "budget"  # AI spend in USD, reserved in Redis before each call (billing.ai_budget)


@dataclass(frozen=True)
class Limit:
    name: str
    kind: LimitKind
    description: str
    period: Callable[[dt.datetime], Period] | None = None  # COUNTED and BUDGET limits
    window_seconds: int | None = None  # RATE limits
    decimal: bool = False  # a Decimal (money) rather than an integer
    refused_title: str = "Plan limit reached"  # the title of the 402 or 429 answer


MAX_MEMORIES = Limit("max_memories", LimitKind.COUNTED, "memories stored at once", period=forever)
SAVES_PER_DAY = Limit("saves_per_day", LimitKind.COUNTED, "memories saved per UTC day", period=day)
ENRICHMENTS_PER_MONTH = Limit(
    "enrichments_per_month", LimitKind.COUNTED, "AI enrichments per UTC month", period=month
)
AI_BUDGET_USD_PER_MONTH = Limit(
    "ai_budget_usd_per_month",
    LimitKind.BUDGET,
    "AI spend in USD per UTC month",
    period=month,
    decimal=True,
)
SEARCHES_PER_MINUTE = Limit(
    "searches_per_minute",
    LimitKind.RATE,
    "searches a minute",
    window_seconds=60,
    refused_title="Too many searches",
)
# Every unsafe request (POST, PUT, PATCH, DELETE) of a user, counted by the API's default
# throttle (accounts.throttles.WritesThrottle): edits and deletes cost no quota but still work.
WRITES_PER_MINUTE = Limit(
    "writes_per_minute",
    LimitKind.RATE,
    "changes a minute",
    window_seconds=60,
    refused_title="Too many changes",
)

LIMITS: dict[str, Limit] = {
    limit.name: limit
    for limit in (
        MAX_MEMORIES,
        SAVES_PER_DAY,
        ENRICHMENTS_PER_MONTH,
        AI_BUDGET_USD_PER_MONTH,
        SEARCHES_PER_MINUTE,
        WRITES_PER_MINUTE,
    )
}


class QuotaExceeded(Exception):
    """A COUNTED limit would be passed: answered 402 (quota_problem)."""

    def __init__(
        self, *, limit_name: str, limit: int, used: int, resets_at: dt.datetime | None
    ) -> None:
        super().__init__(f"{limit_name}: {used}/{limit}")
        self.limit_name, self.limit, self.used, self.resets_at = limit_name, limit, used, resets_at


class RateLimited(Exception):
    """A RATE limit is passed in this window: answered 429 with Retry-After (rate_problem)."""

    def __init__(self, *, limit_name: str, limit: int, retry_after: int) -> None:
        super().__init__(f"{limit_name}: {limit} per window, retry in {retry_after}s")
        self.limit_name, self.limit, self.retry_after = limit_name, limit, retry_after


def quota_problem(exceeded: QuotaExceeded) -> Problem:
    """The 402 problem+json answer to a refused count (API.md: limit, used, resets_at)."""
    return Problem(
        status_code=402,
        code="quota_exceeded",
        title=LIMITS[exceeded.limit_name].refused_title,
        detail=f"Your plan allows {exceeded.limit} ({exceeded.limit_name}); you have used "
        f"{exceeded.used}.",
        limit_name=exceeded.limit_name,
        limit=exceeded.limit,
        used=exceeded.used,
        resets_at=exceeded.resets_at.isoformat() if exceeded.resets_at else None,
    )


def rate_problem(limited: RateLimited) -> Problem:
    """The 429 problem+json answer to a passed rate, with Retry-After."""
    return Problem(
        status_code=429,
        code="rate_limited",
        title=LIMITS[limited.limit_name].refused_title,
        detail=f"Your plan allows {limited.limit} {LIMITS[limited.limit_name].description}; "
        f"retry in {limited.retry_after} s.",
        limit=limited.limit,
        retry_after=limited.retry_after,
        headers={"Retry-After": str(limited.retry_after)},
    )


COUNTED_LIMITS: dict[str, Limit] = {
    name: limit for name, limit in LIMITS.items() if limit.kind is LimitKind.COUNTED
}
