"""memories_claim leases at most `limit` memories whatever plan Postgres picks."""

import datetime as dt

import pytest
from django.utils import timezone

from memories.enrichment import memories_claim
from memories.models import Memory
from memories.tests.factories import MemoryFactory
from tests.planner import prefer_hash_joins_over_seq_scans, prefer_subquery_rescans

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


def test_a_claim_returns_its_memories_oldest_first_whatever_the_join_order(user):
    # The batch is embedded in this order, and the guard's search for refused items splits
    # it in halves: a plan's row order must not reshuffle it. Inserted newest first, so a
    # scan of the table meets them in the reverse of their age.
    now = timezone.now()
    newest_first = [
        MemoryFactory(user=user, content=f"note {i}", created_at=now - dt.timedelta(minutes=i))
        for i in range(8)
    ]
    prefer_hash_joins_over_seq_scans()

    claimed = memories_claim(limit=8)

    assert [c.id for c in claimed] == [str(m.id) for m in reversed(newest_first)]
