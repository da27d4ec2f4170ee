"""The enrichment pipeline (DESIGN §2): claim pending memories, embed them in one guarded
call, classify them, and store the results, within each user's plan.

It decides; the rooms below it write: memories (claims, results, embeddings:
memories.enrichment), billing (the plan's counts), the AI gateway (the call, its budget and
breaker). At-least-once delivery is assumed everywhere (memories.enrichment says how), so
running a batch twice enriches once. A transient provider failure gives the attempt back: an
outage does not make memories fail.
"""

from __future__ import annotations

import functools
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from ai.breaker import State, ai_breaker
from ai.guard import AiUnavailable, guarded_embed
from ai.providers import ModelSpec, ProviderError, TransientProviderError
from billing import periods as billing_periods
from billing.limits import ENRICHMENTS_PER_MONTH, QuotaExceeded
from billing.services import usage_consume, usage_release
from core.alerts import ENRICHMENT_BACKLOG, alert_raise, alert_resolve
from enrichment.classify import prototypes_for, summarize
from memories.embeddings import active_spec
from memories.enrichment import (
    ClaimedMemory,
    EnrichmentResult,
    enrichment_kick,
    enrichment_kick_clear,
    memories_claim,
    memories_enrichment_apply,
    memories_mark_poisoned,
    memories_park,
    memories_release,
    memories_unpark,
    pending_count,
)

MAX_BATCHES_PER_TASK = 50


@dataclass
class BatchOutcome:
    claimed: int = 0
    enriched: int = 0
    unavailable: str = ""  # why no call was made (breaker_open, budget_spent, …)
    error: str = ""  # a provider failure
    transient: bool = False  # worth retrying later
    left_pending: list[str] = field(default_factory=list)


def _prototype_embed(texts: list[str], *, spec: ModelSpec) -> list[list[float]]:
    result = guarded_embed(
        items=[(None, text) for text in texts], operation="prototypes", spec=spec
    )
    return [result.vectors[i] for i in range(len(texts))]


def enrich_batch(*, memory_ids: list[str] | None = None, limit: int | None = None) -> BatchOutcome:
    """Claim up to `limit` pending memories (those of `memory_ids` only, if given), embed them
    in one guarded provider call, and store embeddings, categories, tags and summaries.
    Failures are reported in the outcome, never raised."""
    outcome = BatchOutcome()
    if ai_breaker.state() in (State.OPEN, State.UNKNOWN):
        outcome.unavailable = "breaker_open"
        return outcome
    if ai_breaker.state() is State.HALF_OPEN:
        limit = 1  # the probe: as small as it gets
    claimed = memories_claim(limit=limit or settings.ENRICHMENT_BATCH_SIZE, memory_ids=memory_ids)
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
        memories_release(memory_ids=[c.id for c in claimed], give_back_attempt=True)
        outcome.unavailable = exc.reason
        return outcome
    except ProviderError as exc:
        _refund_enrichments(claimed)
        memories_release(
            memory_ids=[c.id for c in claimed], give_back_attempt=exc.transient, error=str(exc)
        )
        outcome.error, outcome.transient = str(exc), exc.transient
        return outcome
    refused = [c for i, c in enumerate(claimed) if i in result.refused]
    if refused:  # their users' AI budget is spent: they wait for the next month
        _refund_enrichments(refused)
        _park(refused, error="AI budget of the plan is spent")
        outcome.left_pending += [c.id for c in refused]
    results = []
    for i, memory in enumerate(claimed):
        if i in result.vectors:
            category, tags = prototypes.classify(result.vectors[i])
            results.append(
                EnrichmentResult(memory, result.vectors[i], category, summarize(memory.text), tags)
            )
    applied = memories_enrichment_apply(
        results=results,
        model=result.model,
        dimensions=len(results[0].vector) if results else spec.dimensions,
    )
    # Memories edited while they were embedded were not applied: they are not counted.
    _refund_enrichments([r.memory for r in results if r.memory.id not in applied])
    outcome.enriched = len(applied)
    return outcome


def enrichment_run(*, memory_ids: list[str] | None = None) -> int:
    """Enrich pending memories batch after batch until none is left, the breaker or budget
    stops calls (the sweeper re-enqueues later), or MAX_BATCHES_PER_TASK (then another task
    is asked for); returns how many were enriched. Raises TransientProviderError when a batch
    failed for a reason worth retrying (the task retries with backoff).

    A web process that saw the kick flag just before it was cleared may skip kicking for the
    debounce window (memories.enrichment.enrichment_kick), so the last claim comes after that
    window has passed since the flag was cleared.
    """
    enrichment_kick_clear()  # before claiming: a save committed after this kicks again
    settled_at = time.monotonic() + settings.ENRICHMENT_KICK_DEBOUNCE_SECONDS
    enriched = 0
    for _ in range(MAX_BATCHES_PER_TASK):
        outcome = enrich_batch(memory_ids=memory_ids)
        enriched += outcome.enriched
        if outcome.error and outcome.transient:
            raise TransientProviderError(outcome.error)
        if outcome.unavailable:
            break  # the sweeper re-enqueues once calls may go through
        if outcome.claimed and not outcome.error:
            continue
        # Nothing left, or a batch failed for good: stop, but not before the debounce
        # window has passed, so the last claim sees every save whose kick was skipped.
        if memory_ids is not None or time.monotonic() >= settled_at:
            break
        time.sleep(max(0.0, settled_at - time.monotonic()))
    else:
        enrichment_kick()  # more is waiting: hand over to a fresh task
    return enriched


@dataclass(frozen=True)
class SweepOutcome:
    poisoned: int
    pending: int


def enrichment_sweep() -> SweepOutcome:
    """Every minute: fail poison memories, raise or resolve the backlog alert (raised above
    ENRICHMENT_BACKLOG_ALERT, resolved below half of it), and re-enqueue what is pending
    while the breaker lets calls through."""
    poisoned = memories_mark_poisoned()
    backlog = pending_count()
    if backlog > settings.ENRICHMENT_BACKLOG_ALERT:
        alert_raise(
            ENRICHMENT_BACKLOG, backlog=backlog, threshold=settings.ENRICHMENT_BACKLOG_ALERT
        )
    elif backlog < settings.ENRICHMENT_BACKLOG_ALERT // 2:
        alert_resolve(ENRICHMENT_BACKLOG)
    if backlog and ai_breaker.state() in (State.CLOSED, State.HALF_OPEN):
        enrichment_kick_clear()
        enrichment_kick()
    return SweepOutcome(poisoned=poisoned, pending=backlog)


def _plan_allowance(
    claimed: list[ClaimedMemory],
) -> tuple[list[ClaimedMemory], list[ClaimedMemory]]:
    """Count the claimed memories against each user's `enrichments_per_month`; returns
    (allowed, over the limit). Counted before the call, so no AI is spent on a memory the
    plan does not pay for; failures give the counts back (_refund_enrichments)."""
    by_user: dict[int, list[ClaimedMemory]] = defaultdict(list)
    for item in claimed:
        by_user[item.user_id].append(item)
    limits = dict(
        User.objects.filter(pk__in=by_user).values_list("pk", f"plan__{ENRICHMENTS_PER_MONTH.name}")
    )
    allowed: list[ClaimedMemory] = []
    over: list[ClaimedMemory] = []
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
    name = ENRICHMENTS_PER_MONTH.name
    try:
        usage_consume(user_id=user_id, limit_name=name, limit=limit, amount=wanted)
        return wanted
    except QuotaExceeded as exc:
        left = min(wanted, limit - exc.used)
    if left <= 0:
        return 0
    try:  # another worker may have counted meanwhile: the statement is conditional
        usage_consume(user_id=user_id, limit_name=name, limit=limit, amount=left)
        return left
    except QuotaExceeded:
        return 0


def _refund_enrichments(items: Sequence[ClaimedMemory]) -> None:
    counts = Counter(item.user_id for item in items)
    for user_id, count in counts.items():
        usage_release(user_id=user_id, limit_name=ENRICHMENTS_PER_MONTH.name, amount=count)


def _park(items: list[ClaimedMemory], *, error: str) -> None:
    """Leave memories pending until the month resets (plan limits and the plan's AI budget
    are monthly). `enrichment_unpark` lets them go earlier (a plan upgrade, the admin retry
    action)."""
    resets_at = billing_periods.month(timezone.now()).resets_at
    assert resets_at is not None
    memories_park(memory_ids=[c.id for c in items], until=resets_at, error=error)


def enrichment_unpark(*, user_ids: list[int] | None = None, plan_id: int | None = None) -> int:
    """Parked memories of these users, or of every user on this plan, become claimable again
    and a worker is asked for: their plan changed, so its limits may now let them through.
    Connected to billing's plan_limits_changed signal (enrichment.apps)."""
    unparked = memories_unpark(user_ids=user_ids, plan_id=plan_id)
    if unparked:
        transaction.on_commit(enrichment_kick)
    return unparked
