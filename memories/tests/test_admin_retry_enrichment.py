"""Admin: failed memories are visible with their error, and the retry action sends them back
to enrichment."""

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from core.broker import broker_queue_depth
from core.redis import state_redis
from memories.enrichment import KICK_KEY
from memories.models import Memory
from memories.tests.factories import MemoryFactory
from tests.queues import purge

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/memories/memory/"


@pytest.fixture
def empty_queue():
    """No kick flag and an empty broker queue, before and after."""
    from celery import current_app

    def empty():
        state_redis().delete(KICK_KEY)
        purge(current_app.conf.task_default_queue)

    empty()
    yield
    empty()


def poisoned(**kwargs) -> Memory:
    return MemoryFactory(
        enrichment_status=Memory.EnrichmentStatus.FAILED,
        enrichment_attempts=5,
        enrichment_error="gave up after 5 attempts",
        **kwargs,
    )


def test_failed_memories_are_listed_with_their_error(staff_client):
    failed = poisoned()
    MemoryFactory(content="this one is waiting")

    response = staff_client.get(CHANGELIST, {"enrichment_status__exact": "failed"})

    html = response.content.decode()
    assert list(response.context["cl"].result_list) == [failed]
    assert "gave up after 5 attempts" in html


def test_retry_turns_failed_memories_pending_and_queues_a_worker(
    staff_client, empty_queue, django_capture_on_commit_callbacks
):
    failed = [poisoned(), poisoned()]
    enriched = MemoryFactory(enrichment_status=Memory.EnrichmentStatus.ENRICHED)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            CHANGELIST,
            {
                "action": "retry_enrichment",
                "_selected_action": [str(m.pk) for m in [*failed, enriched]],
            },
            follow=True,
        )

    for memory in failed:
        memory.refresh_from_db()
        assert memory.enrichment_status == Memory.EnrichmentStatus.PENDING
        assert memory.enrichment_attempts == 0
        assert memory.enrichment_error == ""
    enriched.refresh_from_db()
    assert enriched.enrichment_status == Memory.EnrichmentStatus.ENRICHED
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        "2 failed memories will be enriched again; 1 selected memories had not failed and "
        "were left alone."
    ]
    # A worker was asked, once the change was committed.
    assert state_redis().exists(KICK_KEY)
    assert broker_queue_depth() == 1


def test_retry_of_memories_that_had_not_failed_queues_nothing(staff_client, empty_queue):
    pending = MemoryFactory()

    staff_client.post(
        CHANGELIST, {"action": "retry_enrichment", "_selected_action": [str(pending.pk)]}
    )

    assert not state_redis().exists(KICK_KEY)
    assert broker_queue_depth() == 0


def test_the_retry_action_is_refused_to_staff_who_cannot_change_memories(empty_queue):
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    failed = poisoned()

    response = client.post(
        CHANGELIST, {"action": "retry_enrichment", "_selected_action": [str(failed.pk)]}
    )

    assert response.status_code == 403
    failed.refresh_from_db()
    assert failed.enrichment_status == Memory.EnrichmentStatus.FAILED
