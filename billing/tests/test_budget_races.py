"""50 callers reserve AI budget at once when it has room for only a little (issue 18).

The guarantee (billing.ai_budget.budget_reserve): the check and the increment are one Lua
script, so concurrent reservations never take a budget past its limit at all, not even by
one call's estimate: those that fit are reserved, every other one is refused."""

from decimal import Decimal

import pytest

from billing.ai_budget import (
    BudgetExhausted,
    Reservation,
    _global_day_key,
    _user_month_key,
    budget_reserve,
    from_micro,
)
from billing.models import Plan
from core.redis import state_redis
from tests.concurrency import all_at_once

CALLERS = 50
ROUNDS = 5  # a race lost once in a while is still lost: run it a few times
ESTIMATE = Decimal("0.01")  # one call's estimated cost


@pytest.fixture(autouse=True)
def _clean_ai_state(clean_ai_state, settings):
    """No budget counter, breaker or alert claim from another test (tests/fixtures.py)."""
    settings.SLACK_BOT_TOKEN = ""  # the budget-spent alert is logged, not queued


def reserve_at_once(estimates):
    """`CALLERS` callers, released together, each reserve `estimates`; returns each one's
    Reservation or exception."""
    return all_at_once(lambda _n: budget_reserve(estimates=estimates), CALLERS, catch=True)


def forget_budget_counters():
    """A fresh round: the counters are seeded again from the ledger (empty here)."""
    redis = state_redis()
    for key in redis.scan_iter("aibudget:*"):
        redis.delete(key)


def used(key):
    return from_micro(int(state_redis().get(key)))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("room", "fit"),
    [(Decimal("0.01"), 1), (Decimal("0.025"), 2)],  # limit - one estimate; two and a half
)
def test_fifty_reservations_at_once_never_take_the_global_budget_past_its_limit(
    settings, room, fit
):
    settings.AI_BUDGET_USD_PER_DAY = Decimal("1.00")
    settings.AI_BUDGET_USD_PER_MONTH = Decimal("1000.00")
    for _ in range(ROUNDS):
        forget_budget_counters()
        budget_reserve(estimates={0: Decimal("1.00") - room})  # calls in flight hold the rest
        outcomes = reserve_at_once({0: ESTIMATE})
        reserved = [o for o in outcomes if isinstance(o, Reservation)]
        refused = [o for o in outcomes if isinstance(o, BudgetExhausted)]
        assert len(reserved) == fit, outcomes
        assert len(refused) == CALLERS - fit, outcomes
        day_key = _global_day_key(reserved[0].day)
        assert used(day_key) == Decimal("1.00") - room + fit * ESTIMATE
        assert used(day_key) <= Decimal("1.00")  # no overshoot at all


@pytest.mark.django_db(transaction=True)  # the plan is read by every thread's connection
def test_fifty_reservations_at_once_never_take_a_users_monthly_budget_past_its_limit(
    user, settings
):
    settings.AI_BUDGET_USD_PER_DAY = Decimal("1000.00")
    settings.AI_BUDGET_USD_PER_MONTH = Decimal("1000.00")
    user.plan = Plan.objects.create(name="race-ai-budget", ai_budget_usd_per_month=Decimal("1.00"))
    user.save(update_fields=["plan"])
    for _ in range(ROUNDS):
        forget_budget_counters()
        budget_reserve(estimates={user.pk: Decimal("0.99")})  # limit - one estimate
        outcomes = reserve_at_once({user.pk: ESTIMATE})
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        accepted = [o for o in outcomes if user.pk in o.amounts]
        assert len(accepted) == 1
        assert sum(1 for o in outcomes if o.refused_users == {user.pk}) == CALLERS - 1
        assert used(_user_month_key(user.pk, accepted[0].month)) == Decimal("1.00")
        # The global counters took only what the user's budget let through.
        assert used(_global_day_key(accepted[0].day)) == Decimal("1.00")
