"""Plan limits on the save path (402) and the search rate (429), and GET /usage."""

import datetime as dt
import time
import uuid
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

import core.throttles
from billing.limits import QuotaExceeded
from billing.models import Plan, UsageCounter
from billing.services import usage_consume, usage_consume_many
from memories.models import Memory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def tight_plan(user):
    plan = Plan.objects.create(name="tight", saves_per_day=3, max_memories=2, searches_per_minute=2)
    user.plan = plan
    user.save()
    return plan


@pytest.fixture
def inside_a_rate_window(monkeypatch):
    """Search rates count in fixed one-minute windows. The rate limiter's clock stands still
    in the middle of the current one, so a test's requests cannot straddle two however slow
    they are (the first search of a process may load a model)."""
    frozen = (time.time() // 60) * 60 + 30
    monkeypatch.setattr(core.throttles, "time", SimpleNamespace(time=lambda: frozen))
    return frozen


def save(client, content):
    return client.post("/api/v1/memories", {"content": content}, format="json")


def test_max_memories_is_402_with_limit_used_and_no_reset(api, tight_plan):
    assert save(api, "one").status_code == 201
    assert save(api, "two").status_code == 201
    body = assert_problem(save(api, "three"), 402, "quota_exceeded")
    assert body["limit_name"] == "max_memories"
    assert body["limit"] == 2 and body["used"] == 2
    assert body["resets_at"] is None
    assert Memory.objects.count() == 2


def test_deleting_a_memory_frees_a_slot(api, tight_plan):
    first = save(api, "one").json()
    save(api, "two")
    api.delete(f"/api/v1/memories/{first['id']}")
    assert save(api, "three").status_code == 201


def test_saves_per_day_counts_deleted_saves_and_resets_at_midnight_utc(api, tight_plan):
    tight_plan.max_memories = None
    tight_plan.save()
    for n in range(3):
        created = save(api, f"n{n}").json()
        api.delete(f"/api/v1/memories/{created['id']}")
    body = assert_problem(save(api, "fourth"), 402, "quota_exceeded")
    assert body["limit_name"] == "saves_per_day"
    tomorrow = (timezone.now() + dt.timedelta(days=1)).date()
    assert body["resets_at"] == f"{tomorrow.isoformat()}T00:00:00+00:00"


def test_yesterdays_saves_do_not_count_today(user):
    yesterday = timezone.now() - dt.timedelta(days=1)
    for _ in range(3):
        usage_consume(user_id=user.pk, limit_name="saves_per_day", limit=3, now=yesterday)
    with pytest.raises(QuotaExceeded):
        usage_consume(user_id=user.pk, limit_name="saves_per_day", limit=3, now=yesterday)
    assert usage_consume(user_id=user.pk, limit_name="saves_per_day", limit=3) == 1


def test_a_refused_consume_counts_nothing(user):
    usage_consume(user_id=user.pk, limit_name="saves_per_day", limit=1)
    for _ in range(3):
        with pytest.raises(QuotaExceeded):
            usage_consume(user_id=user.pk, limit_name="saves_per_day", limit=1)
    assert UsageCounter.objects.get(user=user, limit_name="saves_per_day").count == 1


def test_consuming_several_limits_is_all_or_nothing(user):
    limits = {"saves_per_day": 5, "max_memories": 1}
    assert usage_consume_many(user_id=user.pk, limits=limits) == {
        "saves_per_day": 1,
        "max_memories": 1,
    }
    with pytest.raises(QuotaExceeded) as refused:
        usage_consume_many(user_id=user.pk, limits=limits)
    assert refused.value.limit_name == "max_memories" and refused.value.used == 1
    counts = dict(UsageCounter.objects.filter(user=user).values_list("limit_name", "count"))
    assert counts == {"saves_per_day": 1, "max_memories": 1}


def test_a_save_refused_by_one_limit_counts_against_none(api, user, tight_plan):
    save(api, "one")
    save(api, "two")
    assert save(api, "three").status_code == 402
    assert api.get("/api/v1/usage").json()["used"]["saves_per_day"] == 2
    assert Memory.objects.filter(user=user).count() == 2
    # The refusal left the request's transaction usable: the same client saves again later.
    call_command("plan", "tight", "--set", "max_memories=3")
    assert save(api, "three").status_code == 201


def test_a_plan_change_takes_effect_on_the_next_request(api, user, tight_plan):
    save(api, "one")
    save(api, "two")
    assert save(api, "three").status_code == 402
    call_command("plan", "tight", "--set", "max_memories=10")
    assert save(api, "three").status_code == 201
    call_command("setplan", user.email, "pro")
    assert api.get("/api/v1/usage").json()["plan"] == "pro"


def test_searches_per_minute_is_429_with_retry_after(api, tight_plan, inside_a_rate_window):
    for _ in range(2):
        assert api.get("/api/v1/search?q=x").status_code == 200
    response = api.get("/api/v1/search?q=x")
    body = assert_problem(response, 429, "rate_limited")
    retry_after = int(response["Retry-After"])
    assert retry_after == 30  # the rest of the (frozen) window
    assert body["retry_after"] == retry_after and body["limit"] == 2


def test_a_bad_search_is_400_and_is_not_counted(api, tight_plan, inside_a_rate_window):
    assert_problem(api.get("/api/v1/search"), 400, "invalid")
    assert_problem(api.get("/api/v1/search?q=x&limit=0"), 400, "invalid")
    assert api.get("/api/v1/usage").json()["used"]["searches_per_minute"] == 0


def test_usage_shows_plan_limits_use_and_reset_times(api, user, inside_a_rate_window):
    save(api, "one")
    save(api, "two")
    api.get("/api/v1/search?q=one")
    response = api.get("/api/v1/usage")
    assert response.status_code == 200
    body = response.json()
    assert body["plan"] == "free"
    assert body["limits"] == {
        "max_memories": 1000,
        "saves_per_day": 100,
        "enrichments_per_month": 1000,
        "ai_budget_usd_per_month": "0.5000",
        "searches_per_minute": 30,
        "writes_per_minute": 300,
    }
    assert body["used"]["max_memories"] == 2
    assert body["used"]["saves_per_day"] == 2
    assert body["used"]["enrichments_per_month"] == 0
    assert body["used"]["searches_per_minute"] == 1
    assert body["resets_at"]["max_memories"] is None
    assert body["resets_at"]["saves_per_day"].endswith("T00:00:00Z")
    assert body["resets_at"]["enrichments_per_month"][8:] == "01T00:00:00Z"


def test_usage_shows_the_months_ai_spend_from_the_ledger(api, user, other_user):
    from decimal import Decimal

    from billing.ai_budget import UserShare, ai_ledger_record
    from billing.models import AiLedgerEntry

    def spend(owner, cost):
        ai_ledger_record(
            request_id=uuid.uuid4(),
            provider="openai",
            model="text-embedding-3-small",
            operation="embed_memories",
            shares={owner.pk: UserShare(items=1, input_tokens=10, cost_usd=Decimal(cost))},
        )

    spend(user, "0.00012345")
    spend(user, "0.00000005")
    spend(other_user, "0.5")  # someone else's
    spend(user, "0.25")
    last_month = timezone.now().replace(day=1) - dt.timedelta(days=1)
    AiLedgerEntry.objects.filter(user=user, cost_usd=Decimal("0.25")).update(created_at=last_month)
    body = api.get("/api/v1/usage").json()
    assert body["used"]["ai_budget_usd_per_month"] == "0.00012350"
    assert body["resets_at"]["ai_budget_usd_per_month"][8:] == "01T00:00:00Z"


def test_unlimited_plans_show_null_limits_and_still_count(api, user):
    call_command("plan", "bench")
    call_command("setplan", user.email, "bench")
    save(api, "counted")
    body = api.get("/api/v1/usage").json()
    assert set(body["limits"].values()) == {None}
    assert body["used"]["saves_per_day"] == 1


def test_the_plan_command_creates_and_updates_plans():
    call_command("plan", "gold", "--set", "max_memories=5", "--set", "ai_budget_usd_per_month=2.50")
    gold = Plan.objects.get(name="gold")
    assert gold.max_memories == 5
    assert str(gold.ai_budget_usd_per_month) == "2.5000"
    assert gold.saves_per_day is None  # unset limits are unlimited
    call_command("plan", "gold", "--set", "max_memories=unlimited", "--set", "saves_per_day=9")
    gold.refresh_from_db()
    assert gold.max_memories is None and gold.saves_per_day == 9


@pytest.mark.parametrize(
    "assignment,message",
    [
        ("colour=blue", "unknown limit"),
        ("max_memories=many", "not a number"),
        ("max_memories", "expected LIMIT=VALUE"),
        ("saves_per_day=-1", "negative"),
    ],
)
def test_the_plan_command_says_what_is_wrong(assignment, message):
    with pytest.raises(CommandError, match=message):
        call_command("plan", "gold", "--set", assignment)
