"""A memory's enrichment state, written for the enrichment pipeline (enrichment.services):
the pipeline decides, this module writes memories (memories.services writes the rest).

At-least-once delivery is assumed everywhere: a claim is a lease (a memory claimed by a worker
that died is claimed again once the lease ends), results apply only if the memory still has
the content that was embedded, and the embedding is an upsert. Every claim counts an attempt;
a memory claimed ENRICHMENT_MAX_ATTEMPTS times without success (a poison message) is marked
failed, visible in admin with a retry action.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Func, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from core.redis import state_redis
from memories.embeddings import (
    EmbeddingRow,
    embedding_text,
    embeddings_drop_other_models,
    embeddings_store,
)
from memories.models import Memory

logger = logging.getLogger(__name__)

KICK_KEY = "enrichment:kick"
# The pipeline's task, sent by name: memories sits below the pipeline and never imports it.
ENRICH_TASK = "enrichment.tasks.enrich_pending"


@dataclass(frozen=True)
class ClaimedMemory:
    id: str
    user_id: int
    text: str  # embedding_text
    content_hash: str


# The batch is picked in a MATERIALIZED CTE, evaluated once: as an `IN (subquery)`, a
# nested-loop plan re-runs the subquery per row, SKIP LOCKED skips the rows this statement
# already updated, and a limit of 1 claimed every pending memory (a probe of many). The rows
# come back oldest first: an UPDATE's RETURNING follows the join's order, which can be the
# table's, and the guard's search for refused items halves the batch in its order.
_CLAIM_SQL = """
WITH picked AS MATERIALIZED (
    SELECT id FROM memories_memory
    WHERE enrichment_status = 'pending' AND deleted_at IS NULL
      AND enrichment_attempts < %(max_attempts)s
      AND (enrichment_lease_until IS NULL OR enrichment_lease_until < now())
      AND (%(ids)s::uuid[] IS NULL OR id = ANY(%(ids)s::uuid[]))
    ORDER BY created_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE memories_memory AS m
    SET enrichment_attempts = m.enrichment_attempts + 1,
        enrichment_lease_until = now() + make_interval(secs => %(lease)s)
    FROM picked
    WHERE m.id = picked.id
    RETURNING m.id, m.user_id, m.title, m.content, m.url, m.content_hash, m.created_at
)
SELECT id, user_id, title, content, url, content_hash FROM claimed ORDER BY created_at, id
"""


def memories_claim(*, limit: int, memory_ids: list[str] | None = None) -> list[ClaimedMemory]:
    """Lease up to `limit` pending memories (of `memory_ids` only, if given), oldest first, for
    ENRICHMENT_LEASE_SECONDS, counting an attempt on each. One statement; SKIP LOCKED lets
    concurrent workers claim different memories."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            {
                "lease": settings.ENRICHMENT_LEASE_SECONDS,
                "limit": limit,
                "max_attempts": settings.ENRICHMENT_MAX_ATTEMPTS,
                "ids": memory_ids,
            },
        )
        rows = cursor.fetchall()
    return [
        ClaimedMemory(str(memory_id), user_id, embedding_text(title, content, url), hashed)
        for memory_id, user_id, title, content, url, hashed in rows
    ]


def memories_release(
    *, memory_ids: Sequence[str], give_back_attempt: bool, error: str = ""
) -> None:
    """End the lease on these memories (after a failure) so a worker may claim them again;
    `give_back_attempt` when the failure was no fault of theirs (an outage)."""
    Memory.objects.filter(pk__in=memory_ids).update(
        enrichment_lease_until=None,
        enrichment_error=error[:500],
        **(
            {"enrichment_attempts": Greatest(F("enrichment_attempts") - 1, 0)}
            if give_back_attempt
            else {}
        ),
    )


def memories_park(*, memory_ids: Sequence[str], until: dt.datetime, error: str) -> None:
    """Leave memories pending until `until` (a plan limit's reset): leased until then, so
    workers do not claim them again and again meanwhile, with the attempt given back.
    memories_unpark lets them go earlier."""
    Memory.objects.filter(pk__in=memory_ids).update(
        enrichment_lease_until=until,
        enrichment_attempts=Greatest(F("enrichment_attempts") - 1, 0),
        enrichment_error=error,
    )


def memories_unpark(*, user_ids: list[int] | None = None, plan_id: int | None = None) -> int:
    """Parked memories of these users, or of every user on this plan, become claimable
    again; returns how many."""
    memories = Memory.objects.filter(
        enrichment_status=Memory.EnrichmentStatus.PENDING,
        # A worker's lease ends within ENRICHMENT_LEASE_SECONDS; a parked one much later.
        enrichment_lease_until__gt=timezone.now()
        + dt.timedelta(seconds=settings.ENRICHMENT_LEASE_SECONDS),
    )
    if user_ids is not None:
        memories = memories.filter(user_id__in=user_ids)
    if plan_id is not None:
        memories = memories.filter(user__plan_id=plan_id)
    return memories.update(enrichment_lease_until=None, enrichment_error="")


@dataclass(frozen=True)
class EnrichmentResult:
    memory: ClaimedMemory
    vector: Sequence[float]
    category: str
    summary: str
    tags: list[str]


_APPLY_SQL = """
UPDATE memories_memory AS m
SET enrichment_status = 'enriched', category = r.category, summary = r.summary,
    tags = m.tags || ARRAY(SELECT t FROM unnest(string_to_array(r.tags, E'\\x1f')) AS t
                           WHERE t <> '' AND NOT t = ANY(m.tags)),
    enrichment_lease_until = NULL, enrichment_error = '',
    -- A write like any other: the ETag changes, and an edit of the version before is refused
    -- instead of silently dropping the AI's tags.
    version = m.version + 1, updated_at = statement_timestamp()
FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[])
     AS r(id, content_hash, category, summary, tags)
WHERE m.id = r.id AND m.content_hash = r.content_hash AND m.enrichment_status = 'pending'
  AND m.deleted_at IS NULL
RETURNING m.id
"""


def memories_enrichment_apply(
    *, results: Sequence[EnrichmentResult], model: str, dimensions: int
) -> set[str]:
    """Store category, summary, AI tags (added to the user's) and the embedding by `model` of
    each memory still pending with the content that was embedded, in one transaction, bumping
    its version and updated_at; returns the ids enriched. A memory edited meanwhile is
    pending again and left alone: the edit wins, and its kick enriches it again."""
    if not results:
        return set()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            _APPLY_SQL,
            [
                [result.memory.id for result in results],
                [result.memory.content_hash for result in results],
                [result.category for result in results],
                [result.summary for result in results],
                ["\x1f".join(result.tags) for result in results],
            ],
        )
        applied = {str(memory_id) for (memory_id,) in cursor.fetchall()}
        if applied:
            embeddings_drop_other_models(memory_ids=sorted(applied), model=model)
            embeddings_store(
                model=model,
                dimensions=dimensions,
                rows=[
                    EmbeddingRow(
                        result.memory.user_id,
                        result.memory.id,
                        result.memory.content_hash,
                        result.vector,
                    )
                    for result in results
                    if result.memory.id in applied
                ],
            )
    return applied


def memories_mark_failed(*, memory_ids: Sequence[str], error: str) -> int:
    """These memories become failed at once (the provider refused their input for good, while
    the rest of their batch went through); returns how many. Admin's retry action undoes it."""
    return Memory.objects.filter(
        pk__in=memory_ids, enrichment_status=Memory.EnrichmentStatus.PENDING
    ).update(
        enrichment_status=Memory.EnrichmentStatus.FAILED,
        enrichment_lease_until=None,
        enrichment_error=error[:500],
        # enrichment_status is part of the API's memory: the changes feed sends it again.
        updated_at=timezone.now(),
    )


def memories_mark_poisoned() -> int:
    """Memories claimed ENRICHMENT_MAX_ATTEMPTS times without success, and not leased now,
    become failed; returns how many."""
    return (
        Memory.objects.filter(
            enrichment_status=Memory.EnrichmentStatus.PENDING,
            enrichment_attempts__gte=settings.ENRICHMENT_MAX_ATTEMPTS,
        )
        .filter(
            Q(enrichment_lease_until__isnull=True) | Q(enrichment_lease_until__lt=timezone.now())
        )
        .update(
            enrichment_status=Memory.EnrichmentStatus.FAILED,
            enrichment_lease_until=None,
            enrichment_error=f"gave up after {settings.ENRICHMENT_MAX_ATTEMPTS} attempts",
            updated_at=timezone.now(),
        )
    )


def memories_retry_failed(*, memory_ids: list[str]) -> int:
    """Admin's retry action: failed memories become pending with their attempts reset;
    returns how many (memories that had not failed are left alone)."""
    return Memory.objects.filter(
        pk__in=memory_ids, enrichment_status=Memory.EnrichmentStatus.FAILED
    ).update(
        enrichment_status=Memory.EnrichmentStatus.PENDING,
        enrichment_attempts=0,
        enrichment_lease_until=None,
        enrichment_error="",
        updated_at=timezone.now(),
    )


def enrichment_in_flight(*, user_id: int) -> bool:
    """Has a worker claimed memories of this user that it has not finished with (leased now,
    for at most ENRICHMENT_LEASE_SECONDS: a parked memory is leased much longer)? Such a
    batch has counted its enrichments and not yet written what it spent."""
    # The database's clock, as the claim's (_CLAIM_SQL) is, so an app host's skew cannot make
    # a fresh lease look parked; the statement's time, not the transaction's, so a claim made
    # while the caller's transaction waited for a lock counts too.
    now = Func(function="statement_timestamp", template="statement_timestamp()")
    lease = dt.timedelta(seconds=settings.ENRICHMENT_LEASE_SECONDS)
    return Memory.objects.filter(
        user_id=user_id,
        enrichment_status=Memory.EnrichmentStatus.PENDING,
        enrichment_lease_until__gt=now,
        enrichment_lease_until__lte=ExpressionWrapper(now + lease, output_field=DateTimeField()),
    ).exists()


def pending_count() -> int:
    """Live memories waiting for enrichment."""
    return Memory.objects.live().filter(enrichment_status=Memory.EnrichmentStatus.PENDING).count()


@dataclass(frozen=True)
class EnrichmentCounts:
    pending: int
    failed: int


def enrichment_counts() -> EnrichmentCounts:
    """Live memories waiting for enrichment and memories whose enrichment gave up."""
    counts = (
        Memory.objects.live()
        .filter(
            enrichment_status__in=[
                Memory.EnrichmentStatus.PENDING,
                Memory.EnrichmentStatus.FAILED,
            ]
        )
        .aggregate(
            pending=Count("pk", filter=Q(enrichment_status=Memory.EnrichmentStatus.PENDING)),
            failed=Count("pk", filter=Q(enrichment_status=Memory.EnrichmentStatus.FAILED)),
        )
    )
    return EnrichmentCounts(pending=counts["pending"], failed=counts["failed"])


# When this process last saw the kick flag set (time.monotonic()), for debounced kicks.
_kick_seen_at: float | None = None


def enrichment_kick(*, debounced: bool = False) -> None:
    """Ask a worker to enrich what is pending. Called after a save commits; at most one task
    waits in the queue at a time (the task clears the flag before it claims), so a burst of
    saves becomes a few batched calls. A broker or Redis failure is logged, never raised: the
    sweeper picks the memories up within a minute.

    `debounced` (the save path): if this process saw the flag set less than
    ENRICHMENT_KICK_DEBOUNCE_SECONDS ago, it does not ask Redis again. Nothing is missed: a
    flag seen set is cleared later by the task it announced, and that task claims once more
    at least the debounce after clearing it (enrichment.services.enrichment_run), so it sees
    every save committed in the window. A burst of saves costs each web process one Redis
    call per window instead of one per save.
    """
    global _kick_seen_at
    now = time.monotonic()
    window = settings.ENRICHMENT_KICK_DEBOUNCE_SECONDS
    if debounced and _kick_seen_at is not None and now - _kick_seen_at < window:
        return
    try:
        if state_redis().set(KICK_KEY, 1, nx=True, ex=60):
            current_app.send_task(ENRICH_TASK)
        _kick_seen_at = now  # taken before the SET: the flag was set no earlier than this
    except Exception:
        logger.warning("enrichment not queued; the sweeper will pick it up", exc_info=True)


def enrichment_kick_clear() -> None:
    """Clear the kick flag (the task does, before it claims): the next save kicks again."""
    global _kick_seen_at
    _kick_seen_at = None
    try:
        state_redis().delete(KICK_KEY)
    except Exception:
        logger.warning("enrichment kick flag not cleared (Redis unavailable)")
