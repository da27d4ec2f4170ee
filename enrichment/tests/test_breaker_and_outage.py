"""The guard against a fake OpenAI server: breaker, outage recovery, exactly-once results."""

import time

import pytest

from ai.breaker import Forced, State, ai_breaker
from billing.models import AiLedgerEntry
from enrichment.services import enrich_batch
from memories.models import Embedding, Memory
from memories.services import memory_create
from tests.alerts import deliver_queued_alerts

pytestmark = pytest.mark.django_db


def save_many(user, n, prefix="note"):
    return [
        memory_create(user=user, content=f"{prefix} number {i} about gardening").memory
        for i in range(n)
    ]


def drain(max_batches=100):
    """Run batches until nothing is claimed; returns the outcomes."""
    outcomes = []
    for _ in range(max_batches):
        outcome = enrich_batch()
        outcomes.append(outcome)
        if not outcome.claimed or outcome.unavailable:
            break
    return outcomes


def test_breaker_opens_after_n_failures_and_no_call_is_made_while_open(user, openai_fake):
    save_many(user, 5)
    openai_fake.mode = "error"
    for _ in range(3):
        assert enrich_batch(limit=1).error
    assert ai_breaker.state() is State.OPEN
    calls = openai_fake.embedding_calls
    outcome = enrich_batch()
    assert outcome.unavailable == "breaker_open" and outcome.claimed == 0
    assert openai_fake.embedding_calls == calls
    assert Memory.objects.filter(enrichment_status="pending").count() == 5
    # An outage gives attempts back: nothing is one step closer to "failed".
    assert set(Memory.objects.values_list("enrichment_attempts", flat=True)) == {0}


def test_half_open_after_cooldown_and_a_good_probe_closes(user, openai_fake):
    save_many(user, 4)
    openai_fake.mode = "error"
    for _ in range(3):
        enrich_batch(limit=1)
    assert ai_breaker.state() is State.OPEN
    time.sleep(1.1)
    assert ai_breaker.state() is State.HALF_OPEN
    openai_fake.mode = "ok"
    probe = enrich_batch()
    assert probe.claimed == 1 and probe.enriched == 1  # the probe is one memory
    assert ai_breaker.state() is State.CLOSED
    assert sum(o.enriched for o in drain()) == 3


def test_a_failed_probe_opens_again(user, openai_fake):
    save_many(user, 2)
    openai_fake.mode = "error"
    for _ in range(3):
        enrich_batch(limit=1)
    time.sleep(1.1)
    assert enrich_batch().error  # the probe fails
    assert ai_breaker.state() is State.OPEN


def test_a_wrong_api_key_fails_no_memory_however_long_it_lasts(user, openai_fake, settings):
    # 401 is permanent, not a refused input: the call is wrong, not the memory. Five batches
    # (ENRICHMENT_MAX_ATTEMPTS) would have failed it if each took an attempt.
    settings.AI_BREAKER_FAILURES = 100  # keep calling, as probes do over a long outage
    settings.ENRICHMENT_MAX_ATTEMPTS = 5
    memory = save_many(user, 1)[0]
    openai_fake.mode = "bad_key"
    for _ in range(6):
        outcome = enrich_batch()
        assert outcome.claimed == 1 and outcome.error and not outcome.transient
    memory.refresh_from_db()
    assert (memory.enrichment_status, memory.enrichment_attempts) == ("pending", 0)
    assert "Incorrect API key" in memory.enrichment_error
    openai_fake.mode = "ok"
    assert enrich_batch().enriched == 1


def test_throttling_honours_retry_after(user, openai_fake):
    save_many(user, 1)
    openai_fake.mode = "throttle"
    openai_fake.retry_after = 30
    for _ in range(3):
        enrich_batch()
    assert ai_breaker.state() is State.OPEN
    assert ai_breaker.open_until() - time.time() > 25  # not the 1 s cool-down


def test_insufficient_quota_opens_at_once(user, openai_fake):
    save_many(user, 1)
    openai_fake.mode = "quota"
    outcome = enrich_batch()
    assert outcome.error
    assert ai_breaker.state() is State.OPEN
    assert openai_fake.embedding_calls == 1
    # An hour, whatever the cool-down setting (1 s here): a spent quota is not back soon.
    assert 3599 < ai_breaker.open_until() - time.time() <= 3600
    deliver_queued_alerts()  # as a worker would: alerts are never sent on the caller's path
    assert any("opened (the provider's quota is spent);" in m for m in openai_fake.slack_messages)


def test_a_stalled_provider_times_out_and_counts_as_a_failure(user, openai_fake, settings):
    settings.OPENAI_TIMEOUT_SECONDS = 0.5
    openai_fake.mode = "stall"
    openai_fake.stall_seconds = 2
    save_many(user, 1)
    started = time.monotonic()
    outcome = enrich_batch()
    assert outcome.error and outcome.transient
    assert time.monotonic() - started < 1.5
    assert Memory.objects.get().enrichment_status == "pending"


def test_force_open_stops_calls_and_force_close_resumes(user, openai_fake):
    save_many(user, 2)
    ai_breaker.force(Forced.OPEN)
    assert enrich_batch().unavailable == "breaker_open"
    assert openai_fake.embedding_calls == 0
    ai_breaker.force(None)
    assert sum(o.enriched for o in drain()) == 2


def test_200_memories_saved_during_an_outage_are_all_enriched_once_after_recovery(
    user, other_user, openai_fake
):
    openai_fake.mode = "error"
    saved = save_many(user, 100, "mine") + save_many(other_user, 100, "theirs")
    drain()
    assert ai_breaker.state() is State.OPEN
    assert Memory.objects.filter(enrichment_status="pending").count() == 200
    failed_calls = openai_fake.embedding_calls
    openai_fake.mode = "ok"
    time.sleep(1.1)
    for _ in range(20):
        drain()
        if not Memory.objects.filter(enrichment_status="pending").exists():
            break
    assert Memory.objects.filter(enrichment_status="enriched").count() == 200
    # Exactly once: one embedding per memory, each text embedded once, one request id per call.
    assert Embedding.objects.count() == 200
    assert set(Embedding.objects.values_list("memory_id", flat=True)) == {m.pk for m in saved}
    memory_texts = [t for t in openai_fake.embedded_texts if "gardening" in t]
    assert len(memory_texts) == len(set(memory_texts)) == 200
    ok_calls = openai_fake.ok_calls
    assert AiLedgerEntry.objects.values("request_id").distinct().count() == ok_calls
    assert openai_fake.embedding_calls == failed_calls + ok_calls
    assert AiLedgerEntry.objects.filter(operation="embed_memories").count() >= 2  # 2 users


def test_running_a_batch_twice_enriches_once(user, openai_fake):
    memory = save_many(user, 1)[0]
    assert enrich_batch(memory_ids=[str(memory.pk)]).enriched == 1
    again = enrich_batch(memory_ids=[str(memory.pk)])
    assert again.claimed == 0
    assert Embedding.objects.filter(memory_id=memory.pk).count() == 1


def test_an_edit_during_enrichment_keeps_the_memory_pending(user, openai_fake, monkeypatch):
    from enrichment import services

    memory = save_many(user, 1)[0]
    real_apply = services.memories_enrichment_apply

    def edit_then_apply(**kwargs):
        Memory.objects.filter(pk=memory.pk).update(content="edited meanwhile", content_hash="other")
        return real_apply(**kwargs)

    monkeypatch.setattr(services, "memories_enrichment_apply", edit_then_apply)
    assert enrich_batch().enriched == 0
    memory.refresh_from_db()
    assert memory.enrichment_status == "pending"
    assert not Embedding.objects.filter(memory_id=memory.pk).exists()
