"""What billing.ai_budget promises beyond reserve and settle: the nightly reconcile puts each
live counter back to its own ledger sum, keeps its expiry and never brings back a counter
that is gone; ai_ledger_items counts each user's items of one operation since a UTC day."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection

from billing.ai_budget import (
    BudgetCorrection,
    BudgetExhausted,
    BudgetUnavailable,
    UserShare,
    ai_ledger_items,
    ai_ledger_record,
    budget_reconcile,
    budget_reserve,
    budget_settle,
)
from billing.models import AiLedgerEntry
from core.redis import state_redis

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_ai_state")]

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
DAY_KEY = "aibudget:global:day:2026-03-14"
MONTH_KEY = "aibudget:global:month:2026-03"


def user_key(user):
    return f"aibudget:user:{user.pk}:month:2026-03"


def spend(user, cost, *, at=NOW - dt.timedelta(hours=1), operation="embed_memories", items=1):
    """One ledger row of `cost` USD on `user`'s behalf (None: on no one's), made at `at`."""
    request_id = uuid.uuid4()
    ai_ledger_record(
        request_id=request_id,
        provider="openai",
        model="text-embedding-3-small",
        operation=operation,
        shares={user.pk if user else None: UserShare(items, 10, Decimal(cost))},
    )
    AiLedgerEntry.objects.filter(request_id=request_id).update(created_at=at)


def counters():
    redis = state_redis()
    return {key.decode(): int(redis.get(key)) for key in redis.scan_iter("aibudget:*")}


# budget_reconcile


def test_reconcile_puts_each_counter_back_to_its_own_ledger_sum_and_says_from_what(
    user, other_user
):
    spend(user, "0.05")
    spend(other_user, "0.1")
    # Reserved, never settled (a worker killed during its call): the counters drifted.
    budget_reserve(estimates={user.pk: Decimal("0.2"), other_user.pk: Decimal("0.2")}, now=NOW)

    corrections = budget_reconcile(now=NOW)

    assert sorted(corrections, key=lambda correction: correction.key) == sorted(
        [
            BudgetCorrection(DAY_KEY, Decimal("0.55"), Decimal("0.15")),
            BudgetCorrection(MONTH_KEY, Decimal("0.55"), Decimal("0.15")),
            BudgetCorrection(user_key(user), Decimal("0.25"), Decimal("0.05")),
            BudgetCorrection(user_key(other_user), Decimal("0.3"), Decimal("0.1")),
        ],
        key=lambda correction: correction.key,
    )
    assert counters() == {
        DAY_KEY: 150_000,
        MONTH_KEY: 150_000,
        user_key(user): 50_000,
        user_key(other_user): 100_000,
    }


def test_reconcile_keeps_each_counters_expiry(user):
    budget_reserve(estimates={user.pk: Decimal("0.2")}, now=NOW)

    assert len(budget_reconcile(now=NOW)) == 3

    redis = state_redis()
    ttls = {key: redis.ttl(key) for key in (DAY_KEY, MONTH_KEY, user_key(user))}
    assert all(ttl > 0 for ttl in ttls.values()), ttls


def test_reconcile_goes_on_past_a_counter_that_is_gone(user):
    spend(user, "0.05")
    budget_reserve(estimates={user.pk: Decimal("0.2")}, now=NOW)
    state_redis().delete(DAY_KEY)  # lost (a Redis restart): seeded from the ledger when used

    corrections = budget_reconcile(now=NOW)

    assert {correction.key for correction in corrections} == {MONTH_KEY, user_key(user)}
    assert counters() == {MONTH_KEY: 50_000, user_key(user): 50_000}


def test_reconcile_does_not_bring_back_a_counter_whose_period_ends_during_it(user):
    budget_reserve(estimates={user.pk: Decimal("0.2")}, now=NOW)
    redis = state_redis()

    def period_ends_while_the_ledger_is_read(execute, sql, params, many, context):
        for key in redis.scan_iter("aibudget:*"):
            redis.delete(key)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(period_ends_while_the_ledger_is_read):
        corrections = budget_reconcile(now=NOW)

    assert corrections == []
    assert counters() == {}  # not set again as a counter without expiry


@pytest.fixture
def state_redis_answering_strings(settings):
    """A state Redis whose client decodes replies (decode_responses in STATE_REDIS_URL)."""
    state = dict(settings.CACHES["state"])
    separator = "&" if "?" in state["LOCATION"] else "?"
    state["LOCATION"] += f"{separator}decode_responses=true"
    settings.CACHES = {**settings.CACHES, "state": state}
    caches.close_all()
    assert isinstance(state_redis().echo("answer"), str)
    yield
    caches.close_all()


def test_reconcile_works_with_a_state_redis_that_answers_strings(
    user, state_redis_answering_strings
):
    spend(user, "0.05")
    budget_reserve(estimates={user.pk: Decimal("0.2")}, now=NOW)

    corrections = budget_reconcile(now=NOW)

    assert BudgetCorrection(user_key(user), Decimal("0.25"), Decimal("0.05")) in corrections


# ai_ledger_items


def test_ledger_items_are_each_users_of_the_operation_since_the_day(user, other_user):
    since = dt.date(2026, 3, 1)
    spend(user, "0.01", items=2, at=dt.datetime(2026, 3, 1, 0, 0, tzinfo=UTC))
    spend(user, "0.01", items=3, at=dt.datetime(2026, 3, 9, 8, 0, tzinfo=UTC))
    spend(user, "0.01", items=50, at=dt.datetime(2026, 2, 28, 23, 59, tzinfo=UTC))
    spend(user, "0.01", items=70, at=dt.datetime(2026, 3, 2, tzinfo=UTC), operation="classify")
    spend(other_user, "0.01", items=100, at=dt.datetime(2026, 3, 2, tzinfo=UTC))
    spend(None, "0.01", items=1000, at=dt.datetime(2026, 3, 2, tzinfo=UTC))  # no one's

    assert ai_ledger_items(operation="embed_memories", since=since) == {
        user.pk: 5,
        other_user.pk: 100,
    }


def test_ledger_items_count_from_midnight_utc_whatever_the_servers_time_zone(user, settings):
    settings.TIME_ZONE = "Pacific/Auckland"  # midnight there is 11:00 the day before in UTC
    spend(user, "0.01", items=50, at=dt.datetime(2026, 2, 28, 23, 0, tzinfo=UTC))
    spend(user, "0.01", items=2, at=dt.datetime(2026, 3, 1, 1, 0, tzinfo=UTC))

    assert ai_ledger_items(operation="embed_memories", since=dt.date(2026, 3, 1)) == {user.pk: 2}


# budget_settle


def test_settle_replaces_each_reservation_by_the_real_cost_in_every_counter(user, other_user):
    spend(user, "0.05")
    reservation = budget_reserve(
        estimates={user.pk: Decimal("0.2"), other_user.pk: Decimal("0.3")}, now=NOW
    )

    budget_settle(reservation, actual={user.pk: Decimal("0.01"), other_user.pk: Decimal("0.12")})

    assert counters() == {
        DAY_KEY: 180_000,
        MONTH_KEY: 180_000,
        user_key(user): 60_000,
        user_key(other_user): 120_000,
    }


def test_settle_of_a_failed_call_gives_the_whole_reservation_back(user, other_user):
    spend(user, "0.05")
    reservation = budget_reserve(
        estimates={user.pk: Decimal("0.2"), other_user.pk: Decimal("0.3")}, now=NOW
    )

    budget_settle(reservation, actual={})

    assert counters() == {
        DAY_KEY: 50_000,
        MONTH_KEY: 50_000,
        user_key(user): 50_000,
        user_key(other_user): 0,
    }


# budget_reserve: seeding the counters from the ledger


def test_reserve_keeps_a_reservation_made_while_it_was_seeding_the_counters(user):
    spend(user, "0.05")
    raced = False

    def another_worker_reserves_first(execute, sql, params, many, context):
        nonlocal raced
        if not raced and "billing_ailedgerentry" in sql:
            raced = True  # both found the counters missing; the other seeds and reserves first
            budget_reserve(estimates={user.pk: Decimal("0.3")}, now=NOW)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(another_worker_reserves_first):
        budget_reserve(estimates={user.pk: Decimal("0.1")}, now=NOW)

    assert raced
    assert counters() == {DAY_KEY: 450_000, MONTH_KEY: 450_000, user_key(user): 450_000}


def test_counters_seeded_by_a_refused_reservation_still_end_with_their_period(
    user, other_user, settings
):
    settings.SLACK_BOT_TOKEN = ""  # the budget-spent alert is logged, not queued
    settings.AI_BUDGET_USD_PER_DAY = Decimal("1.00")
    spend(other_user, "1.00")  # today's global budget is spent

    with pytest.raises(BudgetExhausted):
        budget_reserve(estimates={user.pk: Decimal("0.2")}, now=NOW)

    redis = state_redis()
    ttls = {key: redis.ttl(key) for key in (DAY_KEY, MONTH_KEY, user_key(user))}
    assert all(ttl > 0 for ttl in ttls.values()), ttls  # seeded from the ledger, with expiry
    assert counters() == {DAY_KEY: 1_000_000, MONTH_KEY: 1_000_000, user_key(user): 0}


# ai_ledger_record


def test_ledger_record_writes_one_row_per_share_with_the_calls_details(user):
    request_id = uuid.uuid4()

    ai_ledger_record(
        request_id=request_id,
        provider="openai",
        model="text-embedding-3-small",
        operation="embed_memories",
        shares={
            user.pk: UserShare(items=3, input_tokens=120, cost_usd=Decimal("0.0003")),
            None: UserShare(items=1, input_tokens=40, cost_usd=Decimal("0.0001")),
        },
    )

    rows = AiLedgerEntry.objects.filter(request_id=request_id).values_list(
        "user_id", "provider", "model", "operation", "items", "input_tokens", "cost_usd"
    )
    assert sorted(rows, key=lambda row: row[0] or 0) == [
        (None, "openai", "text-embedding-3-small", "embed_memories", 1, 40, Decimal("0.0001")),
        (user.pk, "openai", "text-embedding-3-small", "embed_memories", 3, 120, Decimal("0.0003")),
    ]


def test_the_month_warning_names_the_month_and_comes_apart_from_the_days(
    user, other_user, settings, caplog
):
    settings.SLACK_BOT_TOKEN = ""  # alerts are logged, not queued
    settings.AI_BUDGET_USD_PER_DAY = Decimal("1.00")
    settings.AI_BUDGET_USD_PER_MONTH = Decimal("1.00")
    spend(other_user, "0.85")  # today's spend is all of the month's: 85 % of both

    budget_reserve(estimates={user.pk: Decimal("0.01")}, now=NOW)
    budget_reserve(estimates={user.pk: Decimal("0.01")}, now=NOW)  # warned already

    warnings = [r.getMessage() for r in caplog.records if "AI spend of the" in r.getMessage()]
    assert len(warnings) == 2, warnings
    assert "AI spend of the day is at 86% of its $1.00 budget." in warnings[0]
    assert "AI spend of the month is at 86% of its $1.00 budget." in warnings[1]


def test_a_spent_month_budget_is_refused_naming_the_month(user, other_user, settings):
    settings.SLACK_BOT_TOKEN = ""
    settings.AI_BUDGET_USD_PER_DAY = Decimal("100.00")
    settings.AI_BUDGET_USD_PER_MONTH = Decimal("1.00")
    spend(other_user, "1.00", at=NOW - dt.timedelta(days=3))  # the month's, not today's

    with pytest.raises(BudgetExhausted) as refused:
        budget_reserve(estimates={user.pk: Decimal("0.01")}, now=NOW)
    assert str(refused.value) == "global month budget $1.00 spent"


def test_a_counter_redis_cannot_use_makes_reserve_unavailable_saying_what_redis_said(user):
    state_redis().hset(DAY_KEY, "not", "a counter")  # INCRBY on it: Redis's WRONGTYPE error
    with pytest.raises(BudgetUnavailable) as unavailable:
        budget_reserve(estimates={user.pk: Decimal("0.01")}, now=NOW)
    assert "WRONGTYPE" in str(unavailable.value)


def test_counters_are_seeded_from_midnight_utc_whatever_the_servers_time_zone(user, settings):
    settings.TIME_ZONE = "Pacific/Auckland"  # its midnight is 11:00 UTC the day before
    spend(user, "0.30", at=dt.datetime(2026, 3, 13, 23, 0, tzinfo=UTC))  # yesterday, in UTC

    budget_reserve(estimates={user.pk: Decimal("0.01")}, now=NOW)

    assert counters()[DAY_KEY] == 10_000  # the reservation alone: yesterday's spend is not today's


def spent_alerts(caplog):
    return [
        r.getMessage() for r in caplog.records if "is spent: AI calls are paused" in r.getMessage()
    ]


def test_a_spent_day_budget_is_announced_once_a_day_naming_the_day(
    user, other_user, settings, caplog
):
    settings.SLACK_BOT_TOKEN = ""  # alerts are logged, not queued
    settings.AI_BUDGET_USD_PER_DAY = Decimal("1.00")
    settings.AI_BUDGET_USD_PER_MONTH = Decimal("100.00")
    tomorrow = NOW + dt.timedelta(days=1)
    spend(other_user, "1.00")  # today's budget is spent
    spend(other_user, "1.00", at=tomorrow - dt.timedelta(hours=1))  # and tomorrow's

    for now in (NOW, NOW, tomorrow, tomorrow):  # the second try of each day: announced already
        with pytest.raises(BudgetExhausted):
            budget_reserve(estimates={user.pk: Decimal("0.01")}, now=now)

    alerts = spent_alerts(caplog)
    assert len(alerts) == 2, alerts  # one incident a day, each day its own
    assert all("AI budget of the day ($1.00) is spent" in alert for alert in alerts), alerts


def test_a_spent_month_budget_is_announced_once_a_month_not_once_a_day(
    user, other_user, settings, caplog
):
    settings.SLACK_BOT_TOKEN = ""
    settings.AI_BUDGET_USD_PER_DAY = Decimal("100.00")
    settings.AI_BUDGET_USD_PER_MONTH = Decimal("1.00")
    spend(other_user, "1.00", at=NOW - dt.timedelta(days=3))
    next_month = dt.datetime(2026, 4, 2, 12, 0, tzinfo=UTC)
    spend(other_user, "1.00", at=next_month - dt.timedelta(hours=1))

    for now in (NOW, NOW + dt.timedelta(days=1), next_month):
        with pytest.raises(BudgetExhausted):
            budget_reserve(estimates={user.pk: Decimal("0.01")}, now=now)

    alerts = spent_alerts(caplog)
    assert len(alerts) == 2, alerts  # March's incident once over two days, then April's
    assert all("AI budget of the month ($1.00) is spent" in alert for alert in alerts), alerts
