"""What billing's services promise their callers beyond the save path: counter reconciles,
the AI ledger's items per user, the rate window's end, refusals' `used`, and plan_set_limits."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
import time_machine

from billing.limits import QuotaExceeded
from billing.models import AiLedgerEntry, Plan, UsageCounter
from billing.periods import FOREVER
from billing.services import (
    CounterCorrection,
    ai_ledger_items_of_user,
    plan_set_limits,
    rate_limit_hit,
    rate_limit_used,
    usage_consume,
    usage_counters_reconcile,
)
from billing.signals import plan_limits_changed

pytestmark = pytest.mark.django_db

UTC = dt.UTC
# The 1st of a month: that day's saves_per_day and the month's enrichments_per_month
# counters share a period_start, so a counter of the wrong limit would be at hand.
FIRST_OF_MARCH = dt.datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
THE_DAY_BEFORE = FIRST_OF_MARCH - dt.timedelta(days=1)


def counter(user, limit_name, period_start):
    return UsageCounter.objects.get(user=user, limit_name=limit_name, period_start=period_start)


def consume(user, limit_name, times, *, now=FIRST_OF_MARCH):
    for _ in range(times):
        usage_consume(user_id=user.pk, limit_name=limit_name, limit=None, now=now)


# usage_counters_reconcile


def test_reconcile_gives_a_user_without_a_counter_one_at_their_count(user):
    corrections = usage_counters_reconcile(
        limit_name="max_memories", user_ids=[user.pk], count=lambda user_id: 2
    )
    assert corrections == [CounterCorrection(user.pk, "max_memories", was=0, now=2)]
    assert counter(user, "max_memories", FOREVER).count == 2


def test_reconcile_raises_a_counter_below_the_count_unless_the_count_is_a_floor(user):
    consume(user, "max_memories", 1)
    floor = usage_counters_reconcile(
        limit_name="max_memories", user_ids=[user.pk], count=lambda user_id: 3, lower_only=True
    )
    assert floor == []
    assert counter(user, "max_memories", FOREVER).count == 1

    truth = usage_counters_reconcile(
        limit_name="max_memories", user_ids=[user.pk], count=lambda user_id: 3
    )
    assert truth == [CounterCorrection(user.pk, "max_memories", was=1, now=3)]
    assert counter(user, "max_memories", FOREVER).count == 3


def test_reconcile_goes_on_to_the_next_user_after_a_counter_that_is_right(user, other_user):
    right, drifted = sorted([user, other_user], key=lambda u: u.pk)  # reconciled in id order
    consume(right, "max_memories", 2)
    consume(drifted, "max_memories", 5)
    corrections = usage_counters_reconcile(
        limit_name="max_memories", user_ids=[], count=lambda user_id: 2
    )
    assert corrections == [CounterCorrection(drifted.pk, "max_memories", was=5, now=2)]
    assert counter(drifted, "max_memories", FOREVER).count == 2


def test_reconcile_leaves_a_user_with_a_write_in_flight_at_their_count(user):
    consume(user, "max_memories", 4)
    corrections = usage_counters_reconcile(
        limit_name="max_memories",
        user_ids=[user.pk],
        count=lambda user_id: 0,
        in_flight=lambda user_id: True,
    )
    assert corrections == [CounterCorrection(user.pk, "max_memories", 4, 4, skipped=True)]
    assert counter(user, "max_memories", FOREVER).count == 4


def test_reconcile_looks_only_at_counters_of_its_limit_in_its_period(user, other_user):
    consume(user, "enrichments_per_month", 3)  # same period_start, another limit
    consume(other_user, "saves_per_day", 2, now=THE_DAY_BEFORE)  # same limit, the day before
    corrections = usage_counters_reconcile(
        limit_name="saves_per_day", user_ids=[], count=lambda user_id: 0, now=FIRST_OF_MARCH
    )
    assert corrections == []
    assert not UsageCounter.objects.filter(
        limit_name="saves_per_day", period_start=FIRST_OF_MARCH.date()
    ).exists()


# QuotaExceeded.used


def test_a_refusal_reports_what_that_user_used_of_that_limit_in_that_period(user, other_user):
    # Counters that are not the one refused, each written before it.
    consume(other_user, "saves_per_day", 2)
    consume(user, "enrichments_per_month", 3)
    consume(user, "saves_per_day", 4, now=THE_DAY_BEFORE)
    usage_consume(user_id=user.pk, limit_name="saves_per_day", limit=1, now=FIRST_OF_MARCH)
    with pytest.raises(QuotaExceeded) as refused:
        usage_consume(user_id=user.pk, limit_name="saves_per_day", limit=1, now=FIRST_OF_MARCH)
    assert refused.value.used == 1


# ai_ledger_items_of_user


def ledger_entry(user, *, items, at, operation="embed_memories"):
    entry = AiLedgerEntry.objects.create(
        request_id=uuid.uuid4(),
        user=user,
        provider="openai",
        model="text-embedding-3-small",
        operation=operation,
        items=items,
        cost_usd=Decimal("0.0001"),
    )
    AiLedgerEntry.objects.filter(pk=entry.pk).update(created_at=at)


def test_ledger_items_of_a_user_are_theirs_of_the_operation_since_the_day(user, other_user):
    since = dt.date(2025, 3, 1)
    ledger_entry(user, items=2, at=dt.datetime(2025, 3, 1, 0, 0, tzinfo=UTC))
    ledger_entry(user, items=3, at=dt.datetime(2025, 3, 9, 8, 0, tzinfo=UTC))
    ledger_entry(user, items=50, at=dt.datetime(2025, 2, 28, 23, 59, tzinfo=UTC))
    ledger_entry(user, items=70, at=dt.datetime(2025, 3, 2, tzinfo=UTC), operation="classify")
    ledger_entry(other_user, items=100, at=dt.datetime(2025, 3, 2, tzinfo=UTC))
    assert ai_ledger_items_of_user(user_id=user.pk, operation="embed_memories", since=since) == 5
    assert ai_ledger_items_of_user(user_id=user.pk, operation="embed", since=since) == 0


def test_ledger_items_count_from_midnight_utc_whatever_the_servers_time_zone(user, settings):
    settings.TIME_ZONE = "Pacific/Auckland"  # midnight there is noon the day before in UTC
    ledger_entry(user, items=50, at=dt.datetime(2025, 2, 28, 23, 0, tzinfo=UTC))
    ledger_entry(user, items=2, at=dt.datetime(2025, 3, 1, 1, 0, tzinfo=UTC))
    items = ai_ledger_items_of_user(
        user_id=user.pk, operation="embed_memories", since=dt.date(2025, 3, 1)
    )
    assert items == 2


# rate_limit_used


def test_rate_use_ends_with_its_window_as_a_utc_time(user):
    with time_machine.travel(dt.datetime(2025, 3, 1, 12, 0, 30, tzinfo=UTC), tick=False):
        rate_limit_hit(user_id=user.pk, limit_name="searches_per_minute", limit=10)
        used, resets_at = rate_limit_used(user_id=user.pk, limit_name="searches_per_minute")
    assert used == 1
    assert resets_at.utcoffset() == dt.timedelta(0)
    assert resets_at == dt.datetime(2025, 3, 1, 12, 1, tzinfo=UTC)


# plan_set_limits


def test_setting_unknown_limits_is_refused_naming_them_and_the_known_ones():
    with pytest.raises(ValueError) as refused:
        plan_set_limits(name="gold", limits={"colour": "blue", "bogus": 1, "max_memories": 5})
    assert str(refused.value) == (
        "unknown limit(s): bogus, colour; known: max_memories, saves_per_day, "
        "enrichments_per_month, ai_budget_usd_per_month, searches_per_minute, writes_per_minute"
    )
    assert not Plan.objects.filter(name="gold").exists()


def test_a_new_plan_is_displayed_as_its_name_in_title_case():
    plan, created = plan_set_limits(name="gold", limits={"max_memories": 5})
    assert created
    assert Plan.objects.get(name="gold").display_name == "Gold"
    assert str(plan) == "Gold"


def test_changing_a_plans_limits_tells_listeners_to_plan_which_plan_changed():
    heard = []

    def listener(sender, signal, **kwargs):
        heard.append((sender, kwargs))

    plan_limits_changed.connect(listener, sender=Plan)
    try:
        plan, _ = plan_set_limits(name="gold", limits={"saves_per_day": 9})
    finally:
        plan_limits_changed.disconnect(listener, sender=Plan)
    assert heard == [(Plan, {"plan_id": plan.pk, "user_ids": None})]
