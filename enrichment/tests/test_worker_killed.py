"""A real Celery worker, SIGKILLed in the middle of a batch, then restarted."""

from collections import Counter

import pytest
from django.db.models import Sum

from billing.models import AiLedgerEntry
from enrichment.tasks import sweep_pending
from memories.models import Embedding, Memory
from memories.services import memory_create
from tests.workers import Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

MEMORIES = 60
BATCH = 10


@pytest.fixture
def broker_empty():
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    yield


def worker_env(vendor) -> dict[str, str]:
    return {
        "AI_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": vendor.url + "/v1",
        "OPENAI_TIMEOUT_SECONDS": "10",
        "ENRICHMENT_BATCH_SIZE": str(BATCH),
        # Short, so the test need not wait five minutes for the killed batch's lease and the
        # unacknowledged message to come back.
        "ENRICHMENT_LEASE_SECONDS": "3",
        "CELERY_VISIBILITY_TIMEOUT": "5",
    }


def test_worker_killed_mid_batch_every_memory_ends_enriched_exactly_once(
    user, vendor, broker_empty, tmp_path
):
    vendor.latency = 1.0  # each provider call is in flight long enough to be killed in
    texts = {
        memory_create(user=user, content=f"killed-worker note {i} about sailing").memory.id: None
        for i in range(MEMORIES)
    }
    assert len(texts) == MEMORIES
    worker = Worker(worker_env(vendor), tmp_path / "worker.log")
    try:
        worker.start()
        # The first call embeds the category prototypes, the next ones the batches: kill while
        # the third batch's call is in flight.
        wait_until(
            lambda: vendor.embedding_calls >= 4, timeout=60, interval=0.02, message=worker.log()
        )
        worker.kill()
        calls_at_kill = vendor.embedding_calls

        enriched_at_kill = Memory.objects.filter(enrichment_status="enriched").count()
        leased = Memory.objects.filter(
            enrichment_status="pending", enrichment_lease_until__isnull=False
        ).count()
        assert 0 < enriched_at_kill < MEMORIES, "the kill was not in the middle of the work"
        assert leased == BATCH, "the batch in flight is claimed (leased) and not enriched"

        worker.start()

        def all_enriched() -> bool:
            sweep_pending()  # what beat runs every minute: re-enqueue what is pending
            return not Memory.objects.exclude(enrichment_status="enriched").exists()

        wait_until(all_enriched, timeout=90, interval=1, message=worker.log())
    finally:
        worker.stop()

    embeddings = Counter(Embedding.objects.values_list("memory_id", flat=True))
    assert set(embeddings) == set(texts)
    assert set(embeddings.values()) == {1}
    # The killed call never reached the ledger; every other memory was billed exactly once.
    billed = AiLedgerEntry.objects.filter(operation="embed_memories").aggregate(n=Sum("items"))
    assert billed["n"] == MEMORIES
    # Only the batch in flight at the kill was sent to the provider twice.
    sent = Counter(t for t in vendor.embedded_texts if "killed-worker note" in t)
    assert len(sent) == MEMORIES
    assert sum(n - 1 for n in sent.values()) <= BATCH
    assert vendor.embedding_calls > calls_at_kill
