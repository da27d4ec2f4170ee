"""One bad memory must not poison its batch (issue 13): inputs are cut to the model's token
limit, a request stays under the provider's tokens per request, a batch the provider refuses
is split until the bad item is found, and refusals of a request do not count toward the
breaker. Against the fake OpenAI server, which enforces OpenAI's limits."""

import functools
import time

import pytest

from ai.breaker import State, ai_breaker
from ai.guard import guarded_embed
from ai.providers.registry import get_provider
from core.redis import state_redis
from enrichment import services
from enrichment.classify import prototypes_for
from enrichment.reembed import reembed_start, reembed_step
from enrichment.services import enrich_batch
from memories.embeddings import active_spec
from memories.enrichment import memories_mark_poisoned
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


def warm_prototypes():
    """The category prototypes are embedded once per model and process: embed them now, so
    the test sees the batch's own calls only."""
    spec = active_spec()
    prototypes_for(spec.model, functools.partial(services._prototype_embed, spec=spec))


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


def test_a_lone_memory_refused_by_the_provider_stays_pending_with_its_attempt_given_back(
    user, openai_fake
):
    # Nothing in its batch went through: the provider may refuse everything (a setting), so
    # it is not judged alone; the refusal counts toward the breaker instead, and the memory
    # is judged once it shares a batch with memories that go through.
    memory = memory_create(user=user, content="refused alone").memory
    openai_fake.reject_inputs = {"refused alone"}
    assert enrich_batch().error
    memory.refresh_from_db()
    assert memory.enrichment_status == "pending" and memory.enrichment_attempts == 0


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


# A provider that refuses everything (a wrong model setting): at most the whole request, its
# two halves and their four quarters are tried before the batch is given up as refused whole.
REFUSED_CALLS_PER_BATCH = 7


def test_a_provider_refusing_everything_opens_the_breaker_and_fails_no_memory(
    user, openai_fake, settings
):
    save_many(user, 64)
    warm_prototypes()
    openai_fake.mode = "bad_request"  # every request answers 400 invalid_request_error
    for _ in range(settings.AI_BREAKER_FAILURES):
        assert ai_breaker.state() is State.CLOSED
        calls_before = openai_fake.embedding_calls
        outcome = enrich_batch()
        assert outcome.claimed == 64 and "invalid input" in outcome.error
        assert openai_fake.embedding_calls - calls_before <= REFUSED_CALLS_PER_BATCH
    assert ai_breaker.state() is State.OPEN  # each batch refused whole counted as a failure
    assert enrich_batch().unavailable == "breaker_open"
    # However long it lasts (the breaker let through again and again), no memory is failed.
    for _ in range(settings.ENRICHMENT_MAX_ATTEMPTS + 2):
        ai_breaker.record_success()
        assert enrich_batch().claimed == 64
    memories_mark_poisoned()
    assert not Memory.objects.filter(enrichment_status="failed").exists()
    assert set(Memory.objects.values_list("enrichment_status", "enrichment_attempts")) == {
        ("pending", 0)
    }


def test_two_bad_items_in_different_halves_are_both_isolated(user, openai_fake):
    save_many(user, 10, "early")
    memory_create(user=user, content="first refused one")
    save_many(user, 30, "middle")
    memory_create(user=user, content="second refused one")
    save_many(user, 20, "late")
    warm_prototypes()
    openai_fake.reject_inputs = {"refused one"}
    drain()
    assert Memory.objects.filter(enrichment_status="enriched").count() == 60
    assert Memory.objects.filter(enrichment_status="failed").count() == 2
    assert ai_breaker.state() is State.CLOSED


def open_then_half_open():
    for _ in range(3):  # AI_BREAKER_FAILURES is 3 with the fake
        ai_breaker.record_failure()
    assert ai_breaker.state() is State.OPEN
    state_redis().set("breaker:ai:open_until", time.time() - 1)  # the cool-down has passed
    assert ai_breaker.state() is State.HALF_OPEN


def test_a_probe_refused_for_its_input_does_not_hold_the_probe_slot(openai_fake):
    warm_prototypes()
    open_then_half_open()
    openai_fake.reject_inputs = {"refused"}
    with pytest.raises(Exception, match="invalid input"):
        guarded_embed(items=[(None, "refused probe")], operation="test")
    # The provider answered: the next caller is let through at once, not after the slot's
    # expiry.
    assert ai_breaker.allow()


def test_a_bad_memory_first_in_line_does_not_keep_the_breaker_from_recovering(user, openai_fake):
    bad = memory_create(user=user, content="refused probe").memory  # the oldest: the probe
    good = save_many(user, 5)
    warm_prototypes()
    open_then_half_open()
    openai_fake.reject_inputs = {"refused probe"}
    drain()
    good_ones = Memory.objects.filter(pk__in=[m.pk for m in good])
    assert {m.enrichment_status for m in good_ones} == {"enriched"}
    bad.refresh_from_db()
    assert bad.enrichment_status == "failed"
    assert ai_breaker.state() is State.CLOSED
