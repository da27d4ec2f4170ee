"""AI budget counters end with their period (issue 13): a reservation never settled (a
worker killed during its call) holds budget until the day or month ends, not for 40 days,
and a settle that comes after its period's counter is gone does not bring it back."""

import datetime as dt
import time
from decimal import Decimal

import pytest
import time_machine

from billing.ai_budget import budget_reserve, budget_settle
from core.redis import state_redis

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture(autouse=True)
def _no_budget_keys():
    redis = state_redis()
    for key in redis.scan_iter("aibudget:*"):
        redis.delete(key)


def budget_ttls():
    redis = state_redis()
    return {key.decode(): redis.ttl(key) for key in redis.scan_iter("aibudget:*")}


def test_counters_expire_at_the_end_of_their_day_and_month(user):
    with time_machine.travel(dt.datetime(2026, 3, 14, 18, 0, tzinfo=UTC), tick=False):
        budget_reserve(estimates={user.pk: Decimal("0.5")})
    ttls = budget_ttls()
    six_hours = 6 * 3600
    month_left = dt.datetime(2026, 4, 1, tzinfo=UTC) - dt.datetime(2026, 3, 14, 18, 0, tzinfo=UTC)
    assert six_hours - 5 <= ttls["aibudget:global:day:2026-03-14"] <= six_hours
    for key in ("aibudget:global:month:2026-03", f"aibudget:user:{user.pk}:month:2026-03"):
        assert month_left.total_seconds() - 5 <= ttls[key] <= month_left.total_seconds(), key


def test_an_unsettled_reservation_is_gone_when_the_period_ends(user):
    last_second = dt.datetime(2026, 3, 31, 23, 59, 59, tzinfo=UTC)
    with time_machine.travel(last_second, tick=False):
        reservation = budget_reserve(estimates={user.pk: Decimal("5")})
    assert budget_ttls() and max(budget_ttls().values()) <= 1
    time.sleep(1.2)  # Redis's clock: the day and the month end
    assert budget_ttls() == {}
    budget_settle(reservation, actual={user.pk: Decimal("0.01")})  # late: the worker was slow
    assert budget_ttls() == {}  # not brought back as a key without expiry
