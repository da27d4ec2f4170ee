"""The guard's calls against the fake OpenAI server."""

import time
import uuid

import pytest
from django.utils import timezone

from ai.guard import AiUnavailable, guarded_embed, guarded_embed_many
from ai.providers import ModelSpec, ProviderError, TransientProviderError
from billing.models import AiLedgerEntry
from core.redis import state_redis

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean(clean_ai_state):
    """No breaker or budget state from other tests."""


def test_a_batch_call_honours_the_callers_timeout(openai_fake):
    openai_fake.mode = "stall"
    openai_fake.stall_seconds = 5  # the fixture's own timeout is 10 s
    started = time.monotonic()
    with pytest.raises(ProviderError) as raised:
        guarded_embed_many(items=[(None, "a"), (None, "b")], operation="test", timeout=0.5)
    assert raised.value.transient
    # Given up before the stall ends: with the fixture's 10 s it would have been answered at 5 s.
    assert time.monotonic() - started < openai_fake.stall_seconds


@pytest.mark.parametrize(
    "bad,undecided",
    [
        ({0, 4, 8, 16}, set()),  # isolated with the last refusal the budget allows
        ({0, 1, 2, 4, 8, 16}, {16, 17}),  # one more was needed: that pair stays undecided
    ],
)
def test_the_search_for_refused_items_stops_at_its_budget_of_refusals(openai_fake, bad, undecided):
    # 32 items: 2 * bit_length(32) + 2 = 14 refused calls may be split further.
    texts = [f"bad item #{i}#" if i in bad else f"good item #{i}#" for i in range(32)]
    openai_fake.reject_inputs = {f"bad item #{i}#" for i in bad}

    result = guarded_embed_many(items=[(None, text) for text in texts], operation="test")

    assert set(result.rejected) == bad - undecided
    assert result.undecided == undecided
    assert set(result.vectors) == set(range(32)) - bad - undecided


def test_an_empty_batch_calls_nothing_and_answers_for_the_requested_model():
    # Not the configured model: the answer names the one asked for.
    spec = ModelSpec("openai", "text-embedding-3-large", 256)

    result = guarded_embed_many(items=[], operation="test", spec=spec)

    assert result.model == "text-embedding-3-large"
    assert isinstance(result.request_id, uuid.UUID)
    assert not (result.vectors or result.refused or result.rejected or result.undecided)
    assert not AiLedgerEntry.objects.exists()


def test_a_batch_answers_with_the_request_id_its_ledger_entry_carries(openai_fake):
    result = guarded_embed_many(items=[(None, "a"), (None, "b")], operation="test")

    assert set(result.vectors) == {0, 1}
    assert list(AiLedgerEntry.objects.values_list("request_id", flat=True)) == [result.request_id]


@pytest.mark.parametrize("limit,calls", [(10, [2, 2]), (9, [1, 1, 1, 1])])
def test_a_batch_fills_each_request_up_to_the_token_limit_exactly(settings, limit, calls):
    # The local provider counts a token per 4 characters: each text is 5 tokens, so two fill a
    # request of 10 exactly and one more would pass it.
    settings.AI_PROVIDER = "local"
    settings.AI_MAX_TOKENS_PER_REQUEST = limit
    sizes = []

    def counted(*, items, **kwargs):
        sizes.append(len(items))
        return guarded_embed(items=items, **kwargs)

    texts = [f"twenty characters {i}"[:20].ljust(20) for i in range(4)]
    result = guarded_embed_many(
        items=[(None, text) for text in texts], operation="test", call=counted
    )

    assert sizes == calls
    assert sorted(result.vectors) == [0, 1, 2, 3]


def test_budget_counters_redis_cannot_use_make_ai_unavailable_for_that_reason():
    # The breaker's keys answer; the budget's day counter holds a hash, which its script
    # cannot add to (Redis's WRONGTYPE error): no call is made, and the reason says why.
    state_redis().hset(f"aibudget:global:day:{timezone.now():%Y-%m-%d}", "not", "a counter")
    with pytest.raises(AiUnavailable) as raised:
        guarded_embed(items=[(None, "a note")], operation="test")
    assert raised.value.reason == "redis_unavailable"
    assert str(raised.value) == "redis_unavailable"


def test_a_call_on_no_users_behalf_counts_against_user_0_only():
    month = f"{timezone.now():%Y-%m}"
    guarded_embed(items=[(None, "a category prototype")], operation="test")
    assert state_redis().exists(f"aibudget:user:0:month:{month}")
    assert not state_redis().exists(f"aibudget:user:1:month:{month}")


def test_a_provider_that_crashes_is_a_transient_error_naming_the_crash():
    # The local model's tokenizer cannot take a lone surrogate (the API refuses them; a
    # caller inside the process might not): not a ProviderError, so the guard wraps it.
    with pytest.raises(TransientProviderError) as raised:
        guarded_embed(items=[(None, "\ud800")], operation="test")
    assert str(raised.value).startswith("TypeError: ")
