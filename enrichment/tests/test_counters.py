"""Counters never drift (issue 13): the enrichment charge is given back on every failure
path, and a nightly job puts counters and AI budgets back in step with the rows and the
ledger, saying what it corrected."""

import logging
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.services import user_set_plan
from ai.providers.openai import OpenAIProvider
from billing import periods
from billing.ai_budget import (
    UserShare,
    ai_ledger_record,
    ai_spend_of_month,
    budget_reserve,
    to_micro,
)
from billing.models import UsageCounter
from billing.services import plan_set_limits, usage_consume
from core.redis import state_redis
from enrichment import services
from enrichment.services import enrich_batch
from enrichment.tasks import reconcile_counters
from memories.enrichment import memories_claim, memories_park
from memories.models import Memory
from memories.services import memory_create, memory_delete

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def counted_plan(user):
    plan_set_limits(name="counted", limits={"enrichments_per_month": 1000, "max_memories": 1000})
    user_set_plan(user=user, plan_name="counted")


def counter(user, limit_name):
    row = UsageCounter.objects.filter(user=user, limit_name=limit_name).first()
    return row.count if row else 0


def save(user, n):
    return [memory_create(user=user, content=f"counted note {i}").memory for i in range(n)]


def test_an_unexpected_error_from_the_provider_gives_the_charge_back(
    user, openai_fake, monkeypatch
):
    save(user, 3)

    def broken(self, texts, *, timeout=None):
        raise KeyError("the SDK changed its answer")

    monkeypatch.setattr(OpenAIProvider, "embed", broken)
    outcome = enrich_batch()
    assert outcome.claimed == 3 and outcome.error
    assert counter(user, "enrichments_per_month") == 0


@pytest.mark.parametrize("step", ["summarize", "memories_enrichment_apply"])
def test_an_exception_after_the_call_gives_the_charge_back(user, openai_fake, monkeypatch, step):
    save(user, 3)

    def broken(*args, **kwargs):
        raise RuntimeError(f"{step} broke")

    monkeypatch.setattr(services, step, broken)
    with pytest.raises(RuntimeError):
        enrich_batch()
    assert counter(user, "enrichments_per_month") == 0
    assert not Memory.objects.filter(enrichment_status="enriched").exists()


def test_only_what_was_enriched_stays_counted(user, openai_fake):
    save(user, 3)
    assert enrich_batch().enriched == 3
    assert counter(user, "enrichments_per_month") == 3


def test_the_nightly_job_corrects_drifted_counters_and_budgets_and_reports_them(
    user, other_user, openai_fake, caplog
):
    memories = save(user, 3)
    memory_delete(user=user, memory_id=memories[0].pk)
    assert enrich_batch().enriched == 2
    month = periods.month(timezone.now()).start
    # Drift, as a lost refund or a hard delete would leave it.
    UsageCounter.objects.filter(user=user, limit_name="max_memories").update(count=50)
    UsageCounter.objects.filter(user=user, limit_name="enrichments_per_month").update(count=9)
    UsageCounter.objects.create(
        user=other_user, limit_name="max_memories", period_start=periods.FOREVER, count=4
    )
    ai_ledger_record(
        request_id=uuid.uuid4(),
        provider="openai",
        model="text-embedding-3-small",
        operation="test",
        shares={user.pk: UserShare(items=1, input_tokens=10, cost_usd=Decimal("0.25"))},
    )
    budget_reserve(estimates={user.pk: Decimal("1.5")})  # never settled: a worker died
    user_key = f"aibudget:user:{user.pk}:month:{month:%Y-%m}"

    with caplog.at_level(logging.INFO, logger="enrichment.services"):
        summary = reconcile_counters.apply().get()

    assert counter(user, "max_memories") == 2
    assert counter(other_user, "max_memories") == 0
    assert counter(user, "enrichments_per_month") == 2
    # The ledger's sum ($0.25 and the embeddings), without the reservation never settled.
    assert int(state_redis().get(user_key)) == to_micro(ai_spend_of_month(user_id=user.pk))
    assert ai_spend_of_month(user_id=user.pk) < Decimal("0.26")
    fixed = {(c["user_id"], c["limit"]): (c["was"], c["now"]) for c in summary["counters"]}
    assert fixed == {
        (user.pk, "max_memories"): (50, 2),
        (other_user.pk, "max_memories"): (4, 0),
        (user.pk, "enrichments_per_month"): (9, 2),
    }
    assert {b["key"] for b in summary["budgets"]} >= {user_key}
    assert f"max_memories of user {user.pk} was 50, set to 2" in caplog.text
    assert "3 counters" in caplog.text
    # Nothing left to correct: a second run reports nothing.
    again = reconcile_counters.apply().get()
    assert again == {"counters": [], "budgets": [], "skipped": []}


def test_the_nightly_job_leaves_alone_a_user_whose_batch_is_in_flight(user, other_user):
    user_set_plan(user=other_user, plan_name="counted")
    mine = save(user, 1)[0]
    # A batch in flight, as enrich_batch leaves it before the call: the memory claimed, the
    # enrichment counted, the ledger row not written yet.
    assert [c.id for c in memories_claim(limit=10, memory_ids=[str(mine.pk)])] == [str(mine.pk)]
    usage_consume(user_id=user.pk, limit_name="enrichments_per_month", limit=1000)
    # Another user with a missed refund and nothing in flight, but a memory parked until the
    # month resets (over a plan limit): parked is not in flight.
    theirs = memory_create(user=other_user, content="parked note").memory
    resets_at = periods.month(timezone.now()).resets_at
    memories_park(memory_ids=[str(theirs.pk)], until=resets_at, error="limit reached")
    UsageCounter.objects.create(
        user=other_user,
        limit_name="enrichments_per_month",
        period_start=periods.month(timezone.now()).start,
        count=5,
    )

    summary = reconcile_counters.apply().get()

    assert counter(user, "enrichments_per_month") == 1  # not lowered under the batch
    assert counter(other_user, "enrichments_per_month") == 0  # corrected as before
    assert summary["skipped"] == [
        {"user_id": user.pk, "limit": "enrichments_per_month", "count": 1}
    ]
    assert [(c["user_id"], c["limit"], c["was"], c["now"]) for c in summary["counters"]] == [
        (other_user.pk, "enrichments_per_month", 5, 0)
    ]


def test_the_nightly_job_between_a_failed_batch_and_its_refund_gives_nothing_away(
    user, openai_fake, monkeypatch
):
    save(user, 2)
    assert enrich_batch().enriched == 2  # in the ledger and counted
    for i in range(3):
        memory_create(user=user, content=f"note of a failing batch {i}")
    openai_fake.mode = "error"  # the next batch fails: its 3 enrichments are given back
    release = services.memories_release

    def release_then_reconcile(**kwargs):
        release(**kwargs)  # the memories are no longer claimed: the nightly job runs now
        services.counters_reconcile()

    monkeypatch.setattr(services, "memories_release", release_then_reconcile)
    assert enrich_batch().error
    assert counter(user, "enrichments_per_month") == 2
