from django.conf import settings

from billing.models import Plan


def plan_get(*, name: str) -> Plan:
    """The plan called `name`; raises Plan.DoesNotExist."""
    return Plan.objects.get(name=name)


def plan_default() -> Plan:
    """The plan new accounts start on (DEFAULT_PLAN)."""
    return plan_get(name=settings.DEFAULT_PLAN)


def usage_summary(*, user) -> dict:
    """The user's plan, limits, use and reset times, for GET /usage."""
    import datetime as dt

    from django.utils import timezone

    from billing.models import UsageCounter
    from billing.periods import COUNTED_LIMITS
    from billing.services import rate_limit_used

    plan = user.plan
    now = timezone.now()
    periods = {name: period(now) for name, period in COUNTED_LIMITS.items()}
    counts = {
        (row.limit_name, row.period_start): row.count
        for row in UsageCounter.objects.filter(
            user=user, period_start__in={p.start for p in periods.values()}
        )
    }
    used: dict[str, object] = {
        name: counts.get((name, period.start), 0) for name, period in periods.items()
    }
    resets_at: dict[str, dt.datetime | None] = {
        name: period.resets_at for name, period in periods.items()
    }
    used["searches_per_minute"], resets_at["searches_per_minute"] = rate_limit_used(
        user_id=user.pk, limit_name="searches_per_minute"
    )
    # AI spend is counted by the enrichment ledger, which does not exist yet.
    used["ai_budget_usd_per_month"] = None
    resets_at["ai_budget_usd_per_month"] = periods["enrichments_per_month"].resets_at
    return {"plan": plan.name, "limits": plan.limits, "used": used, "resets_at": resets_at}
