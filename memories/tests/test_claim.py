"""memories_claim leases at most `limit` memories whatever plan Postgres picks."""

import pytest

from memories.enrichment import memories_claim
from memories.models import Memory
from memories.tests.factories import MemoryFactory
from tests.planner import prefer_subquery_rescans

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("limit", [1, 2])
def test_a_claim_leases_at_most_its_limit_even_on_a_rescanning_plan(user, limit):
    # Seen in CI: a half-open probe (limit 1) claimed two memories, on a plan that re-ran the
    # IN-subquery for each row while SKIP LOCKED skipped the rows already updated.
    memories = [MemoryFactory(user=user, content=f"note {i}") for i in range(4)]
    prefer_subquery_rescans()

    claimed = memories_claim(limit=limit)

    assert sorted(c.id for c in claimed) == sorted(str(m.id) for m in memories[:limit])
    leased = Memory.objects.filter(enrichment_lease_until__isnull=False)
    assert leased.count() == limit
    assert set(Memory.objects.values_list("enrichment_attempts", flat=True)) == {0, 1}
