"""Plan limits hold under a burst: 50 concurrent consumers one short of a limit, one gets it.

The counters are one conditional upsert (billing.services.usage_consume_many); a check that
read the count and then wrote it would let every consumer that read before the first commit
through. Saves race through the real HTTP path (live_server, one thread and one database
connection per request); enrichment counting races through the pipeline's own accounting
(enrichment.services._plan_allowance), one thread and connection per consumer.
"""

from __future__ import annotations

import uuid

import pytest
import requests
from django.db import connections

from accounts.tests.factories import TokenFactory
from billing.models import Plan, UsageCounter
from billing.services import usage_consume
from enrichment.services import _plan_allowance
from memories.enrichment import ClaimedMemory
from memories.models import Memory
from memories.services import memory_create
from tests.concurrency import all_at_once

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 50
LIMIT = 5


def counter(user, limit_name: str) -> int:
    row = UsageCounter.objects.filter(user=user, limit_name=limit_name).first()
    return row.count if row else 0


def on_plan(user, **limits) -> None:
    # Only the limit under test: nothing else (saves a day, writes a minute) may refuse first.
    user.plan = Plan.objects.create(name=f"race-{uuid.uuid4().hex[:8]}", **limits)
    user.save(update_fields=["plan"])


def test_fifty_saves_at_max_memories_minus_one_store_exactly_one(live_server, user):
    on_plan(user, max_memories=LIMIT)
    for n in range(LIMIT - 1):
        memory_create(user=user, content=f"already saved {n}")
    assert counter(user, "max_memories") == LIMIT - 1
    token = TokenFactory(user=user).key
    sessions = [requests.Session() for _ in range(RACERS)]

    def connect(n):
        # Connected before the barrier (kept alive), so the saves arrive together and none
        # waits in the server's short accept queue (connection reset when it overflows).
        warm_up = sessions[n].get(f"{live_server.url}/api/v1/health", timeout=60)
        assert warm_up.status_code == 200 and warm_up.headers.get("Connection") != "close"

    def save(n):
        return sessions[n].post(
            f"{live_server.url}/api/v1/memories",
            json={"content": f"racing save {n}"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )

    responses = all_at_once(save, RACERS, prepare=connect)

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [402] * (RACERS - 1), statuses
    for refused in (response for response in responses if response.status_code == 402):
        body = refused.json()
        assert (body["limit_name"], body["limit"], body["used"]) == ("max_memories", LIMIT, LIMIT)
    assert Memory.objects.filter(user=user).count() == LIMIT
    assert counter(user, "max_memories") == LIMIT


def claimed(user, n: int) -> list[ClaimedMemory]:
    return [
        ClaimedMemory(id=str(uuid.uuid4()), user_id=user.pk, text="t", content_hash="h")
        for _ in range(n)
    ]


@pytest.mark.parametrize("batch", [1, 2], ids=["one-memory-batches", "two-memory-batches"])
def test_fifty_enrichment_batches_at_the_monthly_limit_minus_one_allow_exactly_one(user, batch):
    """Each consumer counts its batch, or what is left of the limit when the whole batch does
    not fit (the second, smaller count of _consume_up_to, itself raced by the others). Three
    rounds: a burst of threads does not always overlap on a two-core machine."""
    on_plan(user, enrichments_per_month=LIMIT)
    for _round in range(3):
        UsageCounter.objects.filter(user=user).delete()
        usage_consume(
            user_id=user.pk, limit_name="enrichments_per_month", limit=LIMIT, amount=LIMIT - 1
        )
        batches = [claimed(user, batch) for _ in range(RACERS)]

        outcomes = all_at_once(
            lambda n, batches=batches: _plan_allowance(batches[n]),
            RACERS,
            prepare=lambda n: connections["default"].ensure_connection(),  # connected: then race
        )

        allowed = [len(allowed) for allowed, _over in outcomes]
        assert sorted(allowed) == [0] * (RACERS - 1) + [1], f"{sum(allowed)} allowed"
        assert sum(len(over) for _allowed, over in outcomes) == RACERS * batch - 1
        assert counter(user, "enrichments_per_month") == LIMIT
