"""One bad memory must not poison its batch (issue 13): inputs are cut to the model's token
limit, a request stays under the provider's tokens per request, a batch the provider refuses
is split until the bad item is found, and refusals of a request do not count toward the
breaker. Against the fake OpenAI server, which enforces OpenAI's limits."""

import pytest

from ai.breaker import State, ai_breaker
from ai.guard import guarded_embed
from ai.providers.registry import get_provider
from enrichment.reembed import reembed_start, reembed_step
from enrichment.services import enrich_batch
from memories.models import Embedding, Memory
from memories.services import memory_create
from tests.fake_openai import MAX_INPUT_TOKENS, count_tokens

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _unlimited_plan(user, other_user):
    """More saves and enrichments than a default plan allows in a day."""
    from billing.models import Plan

    plan, _ = Plan.objects.get_or_create(name="poison-unlimited")
    for person in (user, other_user):
        person.plan = plan
        person.save(update_fields=["plan"])


def save_many(user, n, prefix="note"):
    return [
        memory_create(user=user, content=f"{prefix} number {i} about gardening").memory
        for i in range(n)
    ]


def drain(max_batches=100):
    for _ in range(max_batches):
        outcome = enrich_batch()
        if not outcome.claimed or outcome.unavailable:
            return


def huge_text(chars=100_000):
    # Words of varied length, so the tokenizer cannot fold them into a few long tokens.
    words = [f"w{i % 997}x{i % 13}" for i in range(chars)]
    return " ".join(words)[:chars]


def test_a_100k_character_memory_among_200_is_enriched_and_poisons_nothing(
    user, other_user, openai_fake
):
    assert openai_fake.max_input_tokens == MAX_INPUT_TOKENS  # the fake enforces OpenAI's limit
    big_text = huge_text()
    assert count_tokens(big_text) > MAX_INPUT_TOKENS
    big = memory_create(user=user, content=big_text).memory
    save_many(user, 100, "mine")
    save_many(other_user, 100, "theirs")
    for _ in range(10):  # as the worker would, batch after batch (and retries, if any)
        drain()
    assert Memory.objects.filter(enrichment_status="enriched").count() == 201
    assert not Memory.objects.filter(enrichment_status="failed").exists()
    assert Embedding.objects.filter(memory_id=big.pk).exists()
    assert ai_breaker.state() is State.CLOSED
    assert openai_fake.refused_calls == 0  # cut before sending, not after a 400
    sent = [text for text in openai_fake.embedded_texts if text.startswith(big_text[:50])]
    assert len(sent) == 1
    assert MAX_INPUT_TOKENS - 10 <= count_tokens(sent[0]) <= MAX_INPUT_TOKENS  # cut at the limit


def test_a_batch_stays_under_the_tokens_per_request_limit(user, openai_fake, settings):
    settings.AI_MAX_TOKENS_PER_REQUEST = 20_000
    openai_fake.max_request_tokens = 20_000
    for i in range(5):  # 5 x ~8k tokens: three requests at least
        memory_create(user=user, content=f"{i} " + huge_text(40_000))
    drain()
    assert Memory.objects.filter(enrichment_status="enriched").count() == 5
    assert openai_fake.refused_calls == 0
    assert openai_fake.ok_calls >= 3


def test_a_bad_item_is_isolated_the_others_are_enriched_and_the_breaker_stays_closed(
    user, openai_fake
):
    memories = save_many(user, 40)
    bad = memory_create(user=user, content="the one the provider refuses").memory
    save_many(user, 23, "later")
    openai_fake.reject_inputs = {"the one the provider refuses"}
    drain()
    bad.refresh_from_db()
    assert bad.enrichment_status == "failed"
    assert "invalid input" in bad.enrichment_error
    assert Memory.objects.filter(enrichment_status="enriched").count() == 63
    assert Memory.objects.filter(enrichment_status="failed").count() == 1
    innocent = Memory.objects.filter(pk__in=[m.pk for m in memories])
    assert {m.enrichment_status for m in innocent} == {"enriched"}
    assert ai_breaker.state() is State.CLOSED
    assert openai_fake.refused_calls >= 3  # enough 400s to open it, had they counted


def test_invalid_request_errors_do_not_count_toward_the_breaker(openai_fake):
    openai_fake.reject_inputs = {"refused"}
    for _ in range(5):  # AI_BREAKER_FAILURES is 3 with the fake
        with pytest.raises(Exception, match="invalid input"):
            guarded_embed(items=[(None, "refused for good")], operation="test")
    assert ai_breaker.state() is State.CLOSED


def test_a_lone_memory_refused_by_the_provider_stays_pending_with_its_attempt_counted(
    user, openai_fake
):
    # Nothing in its batch went through: the provider may refuse everything (a setting), so
    # it is not judged alone; it ends failed after ENRICHMENT_MAX_ATTEMPTS like before.
    memory = memory_create(user=user, content="refused alone").memory
    openai_fake.reject_inputs = {"refused alone"}
    assert enrich_batch().error
    memory.refresh_from_db()
    assert memory.enrichment_status == "pending" and memory.enrichment_attempts == 1


def test_the_provider_cuts_inputs_to_its_token_limit(openai_fake):
    provider = get_provider()
    text = huge_text()
    assert provider.estimate_tokens(text) <= MAX_INPUT_TOKENS
    assert provider.estimate_tokens("hello world") == 2


@pytest.mark.django_db(transaction=True)  # the re-embedding builds indexes CONCURRENTLY
def test_reembedding_a_100k_character_memory_goes_through(user, openai_fake, settings):
    from ai.providers import ModelSpec

    settings.OPENAI_EMBEDDING_MODEL, settings.EMBEDDING_DIMENSIONS = "text-embedding-3-small", 384
    big = memory_create(user=user, content=huge_text()).memory
    save_many(user, 3)
    target = reembed_start(spec=ModelSpec("openai", "text-embedding-3-large", 256))
    for _ in range(5):
        if reembed_step(target_id=target.pk):
            break
    assert Embedding.objects.filter(memory_id=big.pk, model="text-embedding-3-large").exists()
    assert openai_fake.refused_calls == 0
