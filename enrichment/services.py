"""Enriching memories: claim a batch, embed it in one guarded call, store the results.

At-least-once delivery is assumed everywhere: a claim is a lease (a memory claimed by a worker
that died is claimed again once the lease ends), the embedding is an upsert on (user, memory,
model), and the memory is marked enriched only if its content is still the one embedded. So
running a batch twice enriches once and stores one embedding. Every claim counts an attempt;
a memory claimed ENRICHMENT_MAX_ATTEMPTS times without success (a poison message) is marked
failed, visible in admin with a retry action. A transient provider failure gives the attempt
back: an outage does not make memories fail.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone
from django_redis import get_redis_connection

from accounts.models import User
from billing import periods as billing_periods
from billing.services import QuotaExceeded, usage_consume, usage_release
from enrichment.breaker import State, ai_breaker
from enrichment.classify import prototypes_for, summarize
from enrichment.guard import AiUnavailable, guarded_embed
from enrichment.models import vector_literal
from enrichment.providers import ModelSpec, ProviderError
from enrichment.reembed import active_spec
from memories.models import Memory

logger = logging.getLogger(__name__)

KICK_KEY = "enrichment:kick"


@dataclass
class Claimed:
    id: str
    user_id: int
    text: str
    content_hash: str


@dataclass
class BatchOutcome:
    claimed: int = 0
    enriched: int = 0
    unavailable: str = ""  # why no call was made (breaker_open, budget_spent, …)
    error: str = ""  # a provider failure
    transient: bool = False
    left_pending: list[str] = field(default_factory=list)


def _text(title: str, content: str, url: str) -> str:
    return "\n".join(part for part in (title, content, url) if part)


def mark_poisoned() -> int:
    """Memories claimed too often without success become failed; returns how many."""
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
        )
    )


_CLAIM_SQL = """
UPDATE memories_memory AS m
SET enrichment_attempts = m.enrichment_attempts + 1,
    enrichment_lease_until = now() + make_interval(secs => %(lease)s)
WHERE m.id IN (
    SELECT id FROM memories_memory
    WHERE enrichment_status = 'pending' AND deleted_at IS NULL
      AND enrichment_attempts < %(max_attempts)s
      AND (enrichment_lease_until IS NULL OR enrichment_lease_until < now())
      AND (%(ids)s::uuid[] IS NULL OR id = ANY(%(ids)s::uuid[]))
    ORDER BY created_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
RETURNING m.id, m.user_id, m.title, m.content, m.url, m.content_hash
"""


def claim(*, limit: int, memory_ids: list[str] | None = None) -> list[Claimed]:
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
        Claimed(id=str(r[0]), user_id=r[1], text=_text(r[2], r[3], r[4]), content_hash=r[5])
        for r in rows
    ]


def _release(claimed: list[Claimed], *, give_back_attempt: bool, error: str = "") -> None:
    """Let other workers claim these again (after a failure)."""
    Memory.objects.filter(pk__in=[c.id for c in claimed]).update(
        enrichment_lease_until=None,
        enrichment_error=error[:500],
        **(
            {"enrichment_attempts": Greatest(F("enrichment_attempts") - 1, 0)}
            if give_back_attempt
            else {}
        ),
    )


_APPLY_SQL = """
UPDATE memories_memory AS m
SET enrichment_status = 'enriched', category = r.category, summary = r.summary,
    tags = m.tags || ARRAY(SELECT t FROM unnest(string_to_array(r.tags, E'\\x1f')) AS t
                           WHERE t <> '' AND NOT t = ANY(m.tags)),
    enrichment_lease_until = NULL, enrichment_error = ''
FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::text[], %s::text[])
     AS r(id, content_hash, category, summary, tags)
WHERE m.id = r.id AND m.content_hash = r.content_hash AND m.enrichment_status = 'pending'
  AND m.deleted_at IS NULL
RETURNING m.id, m.user_id
"""

_EMBEDDING_SQL = """
INSERT INTO enrichment_embedding (user_id, memory_id, model, dimensions, embedding)
SELECT u, mid, %s, %s, e::vector
FROM unnest(%s::bigint[], %s::uuid[], %s::text[]) AS r(u, mid, e)
ON CONFLICT (user_id, memory_id, model)
    DO UPDATE SET embedding = EXCLUDED.embedding, dimensions = EXCLUDED.dimensions,
                  created_at = now()
"""


def _prototype_embed(texts: list[str], *, spec: ModelSpec) -> list[list[float]]:
    result = guarded_embed(
        items=[(None, text) for text in texts], operation="prototypes", spec=spec
    )
    return [result.vectors[i] for i in range(len(texts))]


def enrich_batch(*, memory_ids: list[str] | None = None, limit: int | None = None) -> BatchOutcome:
    """Claim up to `limit` pending memories (those of `memory_ids` only, if given), embed them
    in one guarded provider call, and store embeddings, categories, tags and summaries."""
    outcome = BatchOutcome()
    if ai_breaker.state() in (State.OPEN, State.UNKNOWN):
        outcome.unavailable = "breaker_open"
        return outcome
    if ai_breaker.state() is State.HALF_OPEN:
        limit = 1  # the probe: as small as it gets
    claimed = claim(limit=limit or settings.ENRICHMENT_BATCH_SIZE, memory_ids=memory_ids)
    outcome.claimed = len(claimed)
    claimed, over_limit = _plan_allowance(claimed)
    if over_limit:  # the plan's enrichments of this month are used up
        _park(over_limit, error="enrichments_per_month of the plan reached")
        outcome.left_pending += [c.id for c in over_limit]
    if not claimed:
        return outcome
    try:
        # Prototypes first (once per model and process): if they cannot be had, no batch
        # call is wasted.
        spec = active_spec()
        prototypes = prototypes_for(spec.model, functools.partial(_prototype_embed, spec=spec))
        result = guarded_embed(
            items=[(c.user_id, c.text) for c in claimed], operation="embed_memories", spec=spec
        )
    except AiUnavailable as exc:
        _refund_enrichments(claimed)
        _release(claimed, give_back_attempt=True)
        outcome.unavailable = exc.reason
        return outcome
    except ProviderError as exc:
        _refund_enrichments(claimed)
        _release(claimed, give_back_attempt=exc.transient, error=str(exc))
        outcome.error, outcome.transient = str(exc), exc.transient
        return outcome
    done = [(c, result.vectors[i]) for i, c in enumerate(claimed) if i in result.vectors]
    refused = [c for i, c in enumerate(claimed) if i in result.refused]
    if refused:  # their users' AI budget is spent: they wait for the next month
        _refund_enrichments(refused)
        _park(refused, error="AI budget of the plan is spent")
        outcome.left_pending += [c.id for c in refused]
    applied = _apply(done, model=result.model, prototypes=prototypes)
    # Memories edited while they were embedded were not applied: they are not counted.
    _refund_enrichments([c for c, _ in done if c.id not in applied])
    outcome.enriched = len(applied)
    return outcome


def _plan_allowance(claimed: list[Claimed]) -> tuple[list[Claimed], list[Claimed]]:
    """Count the claimed memories against each user's `enrichments_per_month`; returns
    (allowed, over the limit). Counted before the call, so no AI is spent on a memory the
    plan does not pay for; failures give the counts back (_refund_enrichments)."""
    by_user: dict[int, list[Claimed]] = defaultdict(list)
    for item in claimed:
        by_user[item.user_id].append(item)
    limits = dict(
        User.objects.filter(pk__in=by_user).values_list("pk", "plan__enrichments_per_month")
    )
    allowed: list[Claimed] = []
    over: list[Claimed] = []
    for user_id, items in by_user.items():
        limit = limits.get(user_id)
        if limit is None:
            allowed += items
            continue
        counted = _consume_up_to(user_id, limit, len(items))
        allowed += items[:counted]
        over += items[counted:]
    return allowed, over


def _consume_up_to(user_id: int, limit: int, wanted: int) -> int:
    """Count as many of `wanted` enrichments as the limit leaves; returns how many."""
    try:
        usage_consume(
            user_id=user_id, limit_name="enrichments_per_month", limit=limit, amount=wanted
        )
        return wanted
    except QuotaExceeded as exc:
        left = min(wanted, limit - exc.used)
    if left <= 0:
        return 0
    try:  # another worker may have counted meanwhile: the statement is conditional
        usage_consume(user_id=user_id, limit_name="enrichments_per_month", limit=limit, amount=left)
        return left
    except QuotaExceeded:
        return 0


def _refund_enrichments(items: list[Claimed]) -> None:
    counts = Counter(item.user_id for item in items)
    for user_id, count in counts.items():
        usage_release(user_id=user_id, limit_name="enrichments_per_month", amount=count)


def _park(items: list[Claimed], *, error: str) -> None:
    """Leave memories pending until the month resets (plan limits and the plan's AI budget
    are monthly): leased until then, so workers do not claim them again and again meanwhile.
    `enrichment_unpark` lets them go earlier (a plan upgrade, the admin retry action)."""
    Memory.objects.filter(pk__in=[c.id for c in items]).update(
        enrichment_lease_until=billing_periods.month(timezone.now()).resets_at,
        enrichment_attempts=Greatest(F("enrichment_attempts") - 1, 0),
        enrichment_error=error,
    )


def enrichment_unpark(*, user_ids: list[int] | None = None, plan_id: int | None = None) -> int:
    """Parked memories (see _park) of these users, or of every user on this plan, become
    claimable again: their plan changed, so its limits may now let them through."""
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
    unparked = memories.update(enrichment_lease_until=None, enrichment_error="")
    if unparked:
        transaction.on_commit(enrichment_kick)
    return unparked


def _apply(done, *, model: str, prototypes) -> set[str]:
    """Store the results; returns the ids of the memories enriched."""
    if not done:
        return set()
    ids, hashes, categories, summaries, tags = [], [], [], [], []
    for claimed, vector in done:
        category, ai_tags = prototypes.classify(vector)
        ids.append(claimed.id)
        hashes.append(claimed.content_hash)
        categories.append(category)
        summaries.append(summarize(claimed.text))
        tags.append("\x1f".join(ai_tags))
    vectors = {claimed.id: vector for claimed, vector in done}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_APPLY_SQL, [ids, hashes, categories, summaries, tags])
        applied = cursor.fetchall()  # memories edited meanwhile are not: they are pending again
        if applied:
            # A memory enriched again (edited) drops its embeddings by other models, so a
            # re-embedding under way finds it missing and embeds the new text.
            cursor.execute(
                "DELETE FROM enrichment_embedding WHERE memory_id = ANY(%s) AND model <> %s",
                [[memory_id for memory_id, _ in applied], model],
            )
            dims = len(next(iter(vectors.values())))
            cursor.execute(
                _EMBEDDING_SQL,
                [
                    model,
                    dims,
                    [user_id for _, user_id in applied],
                    [memory_id for memory_id, _ in applied],
                    [vector_literal(vectors[str(memory_id)]) for memory_id, _ in applied],
                ],
            )
    return {str(memory_id) for memory_id, _ in applied}


def embeddings_forget(*, user_id: int, memory_id) -> None:
    """Drop a deleted memory's embeddings (every model's), in the caller's transaction: a
    deleted memory is never a search result, so semantic search needs no join to skip it."""
    with connection.cursor() as cursor:
        cursor.execute(  # the user picks the partition
            "DELETE FROM enrichment_embedding WHERE user_id = %s AND memory_id = %s",
            [user_id, memory_id],
        )


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
    at least the debounce after clearing it (enrich_pending), so it sees every save
    committed in the window. A burst of saves costs each web process one Redis call per
    window instead of one per save.
    """
    global _kick_seen_at
    from enrichment.tasks import enrich_pending

    now = time.monotonic()
    window = settings.ENRICHMENT_KICK_DEBOUNCE_SECONDS
    if debounced and _kick_seen_at is not None and now - _kick_seen_at < window:
        return
    try:
        if get_redis_connection("default").set(KICK_KEY, 1, nx=True, ex=60):
            enrich_pending.delay()
        _kick_seen_at = now  # taken before the SET: the flag was set no earlier than this
    except Exception:
        logger.warning("enrichment not queued; the sweeper will pick it up", exc_info=True)


def enrichment_kick_clear() -> None:
    global _kick_seen_at
    _kick_seen_at = None
    try:
        get_redis_connection("default").delete(KICK_KEY)
    except Exception:
        logger.warning("enrichment kick flag not cleared (Redis unavailable)")


def pending_count() -> int:
    return Memory.objects.live().filter(enrichment_status=Memory.EnrichmentStatus.PENDING).count()


def enrichment_retry_failed(*, memory_ids: list[str]) -> int:
    """Admin's retry action: failed memories become pending with their attempts reset."""
    return Memory.objects.filter(
        pk__in=memory_ids, enrichment_status=Memory.EnrichmentStatus.FAILED
    ).update(
        enrichment_status=Memory.EnrichmentStatus.PENDING,
        enrichment_attempts=0,
        enrichment_lease_until=None,
        enrichment_error="",
    )
