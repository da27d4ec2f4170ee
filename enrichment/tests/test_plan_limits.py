"""The plan's enrichments_per_month: counted before the call, parked past it, given back on
failure, and let through again when the plan changes."""

import pytest
from django.utils import timezone

from accounts.services import user_set_plan
from billing.models import Plan, UsageCounter
from billing.services import plan_set_limits
from enrichment.services import enrich_batch
from memories.models import Memory
from memories.services import memory_create

pytestmark = pytest.mark.django_db


def enrichments_used(user) -> int:
    counter = UsageCounter.objects.filter(user=user, limit_name="enrichments_per_month").first()
    return counter.count if counter else 0


def save(user, n, word="orchard"):
    return [memory_create(user=user, content=f"{word} note {i}").memory for i in range(n)]


def test_enrichments_past_the_monthly_limit_wait_without_spending(
    user, other_user, openai_fake, settings
):
    settings.ENRICHMENT_BATCH_SIZE = 10
    plan_set_limits(name="three-a-month", limits={"enrichments_per_month": 3})
    user_set_plan(user=user, plan_name="three-a-month")
    save(user, 5)
    save(other_user, 2, word="harbour")

    outcome = enrich_batch()
    assert outcome.enriched == 5  # 3 of the user's, both of the other user's
    assert enrichments_used(user) == 3
    mine = Memory.objects.filter(user=user)
    assert mine.filter(enrichment_status="enriched").count() == 3
    parked = mine.filter(enrichment_status="pending")
    assert parked.count() == 2
    assert set(parked.values_list("enrichment_error", flat=True)) == {
        "enrichments_per_month of the plan reached"
    }
    assert all(
        lease > timezone.now() for lease in parked.values_list("enrichment_lease_until", flat=True)
    )
    assert set(parked.values_list("enrichment_attempts", flat=True)) == {0}
    # No AI was spent on them: the provider saw 3 of the user's texts, not 5.
    assert len([t for t in openai_fake.embedded_texts if t.startswith("orchard")]) == 3
    # Parked memories are not claimed again and again.
    calls = openai_fake.embedding_calls
    assert enrich_batch().claimed == 0
    assert openai_fake.embedding_calls == calls


def test_raising_the_limit_lets_parked_memories_through(user, openai_fake):
    plan_set_limits(name="two-a-month", limits={"enrichments_per_month": 2})
    user_set_plan(user=user, plan_name="two-a-month")
    save(user, 4)
    enrich_batch()
    assert Memory.objects.filter(enrichment_status="pending").count() == 2

    plan_set_limits(name="two-a-month", limits={"enrichments_per_month": 10})
    assert enrich_batch().enriched == 2
    assert not Memory.objects.exclude(enrichment_status="enriched").exists()
    assert enrichments_used(user) == 4


def test_moving_to_a_bigger_plan_lets_parked_memories_through(user, openai_fake):
    plan_set_limits(name="one-a-month", limits={"enrichments_per_month": 1})
    Plan.objects.get_or_create(name="roomy")
    user_set_plan(user=user, plan_name="one-a-month")
    save(user, 3)
    enrich_batch()
    assert Memory.objects.filter(enrichment_status="pending").count() == 2
    user_set_plan(user=user, plan_name="roomy")
    assert enrich_batch().enriched == 2


def test_a_failed_call_gives_the_counted_enrichments_back(user, openai_fake):
    plan_set_limits(name="ten-a-month", limits={"enrichments_per_month": 10})
    user_set_plan(user=user, plan_name="ten-a-month")
    save(user, 4)
    openai_fake.mode = "error"
    assert enrich_batch().error
    assert enrichments_used(user) == 0
    openai_fake.mode = "ok"
    assert enrich_batch().enriched == 4
    assert enrichments_used(user) == 4
