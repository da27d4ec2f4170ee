"""The enrichment task's retries, declared on the decorator and run by a real Celery worker:
a transient provider error is retried with exponential backoff, a permanent one is not."""

import re

import pytest

from enrichment.tasks import enrich_pending
from memories.models import Memory
from memories.tests.factories import MemoryFactory
from tests.workers import Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

RETRY_LOG = re.compile(r"enrich_pending\[[^\]]+\] retry: Retry in (\d+(?:\.\d+)?)s")


@pytest.fixture
def worker(openai_worker):
    # The breaker would stop the calls after a few failures: these tests are about retries.
    return openai_worker(AI_BREAKER_FAILURES="1000")


def retries_logged(worker: Worker) -> list[float]:
    return [float(seconds) for seconds in RETRY_LOG.findall(worker.log())]


def test_a_transient_error_is_retried_with_backoff_until_it_goes_through(user, vendor, worker):
    # Saved without the save path's kick: the only task is the one this test sends.
    memory = MemoryFactory(user=user, content="retried until the provider is back")
    vendor.mode = "error"  # HTTP 500
    enrich_pending.delay([str(memory.pk)])
    wait_until(lambda: len(retries_logged(worker)) >= 3, timeout=60, message=worker.log())
    vendor.mode = "ok"
    wait_until(
        lambda: Memory.objects.get(pk=memory.pk).enrichment_status == "enriched",
        timeout=60,
        message=worker.log(),
    )
    countdowns = retries_logged(worker)
    # Full jitter within an exponential cap: the n-th retry waits up to 2 * 2**n seconds.
    for attempt, countdown in enumerate(countdowns[:3]):
        assert 0 <= countdown <= 2 * 2**attempt, countdowns
    assert vendor.embedding_calls >= 4  # the first try, three retries, the one that worked
    memory.refresh_from_db()
    assert memory.enrichment_attempts <= 1  # an outage gives the attempts back


def test_a_permanent_error_is_not_retried(user, vendor, worker):
    memory = MemoryFactory(user=user, content="refused for good by the provider")
    vendor.mode = "bad_request"  # HTTP 400
    enrich_pending.delay([str(memory.pk)])
    wait_until(
        lambda: Memory.objects.get(pk=memory.pk).enrichment_error != "",
        timeout=60,
        message=worker.log(),
    )
    wait_until(lambda: "succeeded in" in worker.log(), timeout=30, message=worker.log())
    assert retries_logged(worker) == []
    assert vendor.embedding_calls == 1
    memory.refresh_from_db()
    assert memory.enrichment_status == "pending"
    # Refused whole (nothing of its batch went through): the provider's doing, counted by the
    # breaker, so the attempt is given back (issue 13 review); a bad item among good ones is
    # marked failed at once instead (test_poison).
    assert memory.enrichment_attempts == 0
    assert "400" in memory.enrichment_error or "invalid input" in memory.enrichment_error
