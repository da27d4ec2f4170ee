"""Enrichment is a write like any other: it bumps the memory's version and updated_at, so the
ETag tells the truth and a client editing the version it saw before cannot drop the AI's
tags (issue 13). An edit that lands while enrichment runs still wins."""

import pytest

from memories.enrichment import EnrichmentResult, memories_claim, memories_enrichment_apply
from memories.models import Memory
from memories.tests.factories import MemoryFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

DIMENSIONS = 8


def enrich(claimed, tags):
    return memories_enrichment_apply(
        results=[
            EnrichmentResult(memory, [1.0] + [0.0] * (DIMENSIONS - 1), "idea", "a summary", tags)
            for memory in claimed
        ],
        model="test-model",
        dimensions=DIMENSIONS,
    )


def test_enrichment_bumps_the_version_and_a_stale_edit_sees_the_ai_tags(api, user):
    memory = MemoryFactory(user=user, content="plant tomatoes in may", tags=["garden"])
    first = api.get(f"/api/v1/memories/{memory.id}")
    assert first["ETag"] == '"1"'
    assert enrich(memories_claim(limit=10), ["vegetables"]) == {str(memory.id)}
    second = api.get(f"/api/v1/memories/{memory.id}")
    assert second["ETag"] == '"2"'
    assert second.json()["updated_at"] > first.json()["updated_at"]
    assert second.json()["tags"] == ["garden", "vegetables"]

    response = api.patch(
        f"/api/v1/memories/{memory.id}",
        {"tags": ["garden"]},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    body = assert_problem(response, 412, "version_conflict")
    assert body["current"]["version"] == 2
    assert body["current"]["tags"] == ["garden", "vegetables"]
    memory.refresh_from_db()
    assert memory.tags == ["garden", "vegetables"]


def test_an_edit_during_enrichment_wins_and_the_memory_stays_pending(api, user):
    memory = MemoryFactory(user=user, content="first words")
    claimed = memories_claim(limit=10)
    response = api.patch(
        f"/api/v1/memories/{memory.id}",
        {"content": "second thoughts"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200
    assert enrich(claimed, ["stale"]) == set()
    memory.refresh_from_db()
    assert memory.content == "second thoughts"
    assert memory.version == 2 and memory.enrichment_status == Memory.EnrichmentStatus.PENDING
    assert "stale" not in memory.tags
