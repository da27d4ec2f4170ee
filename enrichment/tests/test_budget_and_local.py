"""Budgets stop spend, alerts are sent once, Redis down means no AI call, the local model."""

from decimal import Decimal

import pytest

from ai.breaker import State, ai_breaker
from billing.models import AiLedgerEntry, Plan
from enrichment.services import enrich_batch
from memories.models import Embedding, Memory
from memories.services import memory_create
from tests.alerts import deliver_queued_alerts

pytestmark = pytest.mark.django_db


def save_many(user, n, words=40):
    body = " ".join(["tomato basil garlic olive oil"] * (words // 5))
    return [memory_create(user=user, content=f"{i}: {body}").memory for i in range(n)]


def test_spend_stops_at_the_global_budget_and_alerts_once(user, openai_fake, settings):
    settings.AI_PRICES_PER_1K_TOKENS = {"text-embedding-3-small": Decimal("1.00")}
    settings.AI_BUDGET_USD_PER_DAY = Decimal("2.00")
    settings.ENRICHMENT_BATCH_SIZE = 2
    unlimited = Plan.objects.create(name="unlimited-ai")
    user.plan = unlimited
    user.save()
    save_many(user, 60)
    for _ in range(30):
        outcome = enrich_batch()
        if outcome.unavailable:
            break
    assert outcome.unavailable == "budget_spent"
    spent = sum(AiLedgerEntry.objects.values_list("cost_usd", flat=True))
    # Overshoot at most one batch's estimated cost (2 texts at 1 token per 3 characters, $1 per
    # 1k tokens); reservations are checked before each call, so in fact there is none. It
    # stopped because the next batch did not fit.
    one_batch_estimate = Decimal(2 * (len(Memory.objects.first().content) // 3)) / 1000
    assert spent <= settings.AI_BUDGET_USD_PER_DAY
    assert spent + one_batch_estimate > settings.AI_BUDGET_USD_PER_DAY
    calls = openai_fake.embedding_calls
    enrich_batch()
    enrich_batch()
    assert openai_fake.embedding_calls == calls  # no call once the budget is spent
    assert Memory.objects.filter(enrichment_status="pending").exists()
    deliver_queued_alerts()  # as a worker would: alerts are never sent on the caller's path
    warnings = [m for m in openai_fake.slack_messages if "80%" in m or "budget" in m]
    assert len([m for m in warnings if "is spent" in m]) == 1
    assert len([m for m in warnings if "% of its" in m]) == 1


def test_a_users_monthly_budget_leaves_their_memories_pending(
    user, other_user, openai_fake, settings
):
    settings.AI_PRICES_PER_1K_TOKENS = {"text-embedding-3-small": Decimal("1.00")}
    tiny = Plan.objects.create(name="tiny-ai", ai_budget_usd_per_month=Decimal("0.0001"))
    user.plan = tiny
    user.save()
    mine = save_many(user, 2)
    theirs = save_many(other_user, 2)
    enrich_batch()
    statuses = dict(Memory.objects.values_list("pk", "enrichment_status"))
    assert {statuses[m.pk] for m in mine} == {"pending"}
    assert {statuses[m.pk] for m in theirs} == {"enriched"}
    assert not AiLedgerEntry.objects.filter(user=user).exists()


def test_without_redis_the_guard_makes_no_call_and_saves_go_on(user, openai_fake, redis_down):
    memory = memory_create(user=user, content="saved while Redis is down").memory
    assert ai_breaker.state() is State.UNKNOWN
    assert enrich_batch().unavailable == "breaker_open"
    assert openai_fake.embedding_calls == 0
    assert Memory.objects.get(pk=memory.pk).enrichment_status == "pending"


def test_the_local_model_enriches_real_text(user, settings):
    settings.AI_PROVIDER = "local"
    pasta = memory_create(
        user=user,
        content="Recipe: boil the pasta, fry garlic in olive oil, "
        "add tomatoes and basil. Dinner for four.",
    ).memory
    sql = memory_create(
        user=user,
        title="Postgres tip",
        content="Use EXPLAIN ANALYZE to see "
        "why a SQL query on the orders table is slow; add an index.",
    ).memory
    outcome = enrich_batch()
    assert outcome.enriched == 2
    pasta.refresh_from_db()
    sql.refresh_from_db()
    assert pasta.category == "food" and sql.category == "technology"
    assert "recipe" in pasta.tags and "database" in sql.tags
    assert (
        pasta.summary == "Recipe: boil the pasta, fry garlic in olive oil, add tomatoes and basil."
    )
    rows = {e.memory_id: e for e in Embedding.objects.all()}
    assert rows[pasta.pk].model == "all-MiniLM-L6-v2" and rows[pasta.pk].dimensions == 384
    assert len(rows[pasta.pk].embedding) == 384
    ledger = AiLedgerEntry.objects.get(operation="embed_memories")
    assert ledger.provider == "local" and ledger.cost_usd == 0 and ledger.input_tokens > 20


# Texts whose cl100k_base token counts are pinned below: at $1 per 1k tokens, $0.001 a token.
TEN_TOKENS = "one two three four five six seven eight nine ten"
TEN_OTHER_TOKENS = "the quick brown fox jumps over the lazy dog again"
ONE_HUNDRED_NINETY_TOKENS = " ".join(["apple"] * 190)


def test_the_budget_warning_is_silent_at_79_percent_sent_once_at_80_and_spend_stops_at_100(
    openai_fake, settings
):
    from uuid import uuid4

    from ai.guard import AiUnavailable, guarded_embed
    from tests.fake_openai import count_tokens

    settings.AI_PRICES_PER_1K_TOKENS = {"text-embedding-3-small": Decimal("1.00")}
    settings.AI_BUDGET_USD_PER_DAY = Decimal("1.00")
    settings.AI_BUDGET_USD_PER_MONTH = Decimal("1000.00")  # only the day's budget is near
    assert count_tokens(TEN_TOKENS) == count_tokens(TEN_OTHER_TOKENS) == 10
    assert count_tokens(ONE_HUNDRED_NINETY_TOKENS) == 190
    # Spent earlier today: the budget counter is seeded from the ledger.
    AiLedgerEntry.objects.create(
        request_id=uuid4(),
        provider="openai",
        model="text-embedding-3-small",
        operation="earlier",
        cost_usd=Decimal("0.780"),
    )

    def spend(text):
        guarded_embed(items=[(None, text)], operation="test")
        deliver_queued_alerts()  # as a worker would
        return [m for m in openai_fake.slack_messages if "of its $1.00 budget" in m]

    assert spend(TEN_TOKENS) == []  # $0.790: 79 %, silent
    warnings = spend(TEN_OTHER_TOKENS)  # $0.800: 80 % exactly
    assert len(warnings) == 1
    assert "AI spend of the day is at 80% of its $1.00 budget" in warnings[0]
    assert spend(ONE_HUNDRED_NINETY_TOKENS) == warnings  # $0.990: no second message
    assert spend(TEN_TOKENS) == warnings  # $1.000: the budget holds this call exactly
    assert sum(AiLedgerEntry.objects.values_list("cost_usd", flat=True)) == Decimal("1.000")
    calls = openai_fake.embedding_calls
    with pytest.raises(AiUnavailable) as refused:
        guarded_embed(items=[(None, "hello world")], operation="test")
    assert refused.value.reason == "budget_spent"
    assert openai_fake.embedding_calls == calls  # spending stopped: no provider call
    deliver_queued_alerts()
    assert len([m for m in openai_fake.slack_messages if "($1.00) is spent" in m]) == 1
    assert len([m for m in openai_fake.slack_messages if "of its $1.00 budget" in m]) == 1
