"""The plans a new deployment starts with (created by migration 0001; editable in admin)."""

from decimal import Decimal

DEFAULT_PLANS = [
    {
        "name": "free",
        "display_name": "Free",
        "max_memories": 1_000,
        "saves_per_day": 100,
        "enrichments_per_month": 1_000,
        "ai_budget_usd_per_month": Decimal("0.50"),
        "searches_per_minute": 30,
    },
    {
        "name": "pro",
        "display_name": "Pro",
        "max_memories": 50_000,
        "saves_per_day": 2_000,
        "enrichments_per_month": 20_000,
        "ai_budget_usd_per_month": Decimal("5.00"),
        "searches_per_minute": 120,
    },
    {
        "name": "team",
        "display_name": "Team",
        "max_memories": None,
        "saves_per_day": 10_000,
        "enrichments_per_month": 100_000,
        "ai_budget_usd_per_month": Decimal("25.00"),
        "searches_per_minute": 600,
    },
]

# Limits added after migration 0001 (which creates DEFAULT_PLANS with the fields of its day):
# each has the migration that adds it set these values.
WRITES_PER_MINUTE = {"free": 300, "pro": 1_200, "team": 6_000}


def ensure() -> None:
    """Create the default plans that are missing (tests that flush the database use this)."""
    from billing.models import Plan

    for plan in DEFAULT_PLANS:
        defaults = {**plan, "writes_per_minute": WRITES_PER_MINUTE[plan["name"]]}
        Plan.objects.get_or_create(name=plan["name"], defaults=defaults)
