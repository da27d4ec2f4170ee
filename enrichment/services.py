"""The enrichment pipeline (DESIGN §2): claim pending memories, embed them in one guarded
call, classify them, and store the results, within each user's plan.

It decides; the rooms below it write: memories (claims, results, embeddings:
memories.enrichment), billing (the plan's counts), the AI gateway (the call, its budget and
breaker). At-least-once delivery is assumed everywhere (memories.enrichment says how), so
running a batch twice enriches once. A failed call (an outage, a wrong key or model, a
batch the provider refuses whole) gives the attempt back: an outage or a wrong setting does
not make memories fail.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from ai.breaker import State, ai_breaker
from ai.guard import AiUnavailable, guarded_embed, guarded_embed_many
from ai.providers import ModelSpec, ProviderError, TransientProviderError
from billing import periods as billing_periods
from billing.ai_budget import BudgetCorrection, ai_ledger_items, budget_reconcile
from billing.limits import ENRICHMENTS_PER_MONTH, QuotaExceeded
from billing.services import (
    CounterCorrection,
    ai_ledger_items_of_user,
    usage_consume,
    usage_counters_reconcile,
    usage_release,
)
from core.alerts import ENRICHMENT_BACKLOG, alert_raise, alert_resolve
from enrichment.classify import prototypes_for, summarize
from memories.embeddings import EmbeddedMemory, active_spec
from memories.enrichment import (
    ClaimedMemory,
    EnrichmentResult,
    enrichment_in_flight,
    enrichment_kick,
    enrichment_kick_clear,
    memories_claim,
    memories_enrichment_apply,
    memories_mark_failed,
    memories_mark_poisoned,
    memories_park,
    memories_release,
    memories_unpark,
    pending_count,
)
from memories.services import memories_usage_reconcile
from memories.signals import memories_embedded

logger = logging.getLogger(__name__)

MAX_BATCHES_PER_TASK = 50
EMBED_OPERATION = "embed_memories"  # the ledger's name for the pipeline's calls


@dataclass
class BatchOutcome:
    claimed: int = 0
    enriched: int = 0
    failed: int = 0  # refused by the provider for their input, while the rest went through
    unavailable: str = ""  # why no call was made (breaker_open, budget_spent, …)
    error: str = ""  # a provider failure
    transient: bool = False  # worth retrying later
    left_pending: list[str] = field(default_factory=list)


def _prototype_embed(texts: list[str], *, spec: ModelSpec) -> list[list[float]]:
    try:
        result = guarded_embed(
            items=[(None, text) for text in texts], operation="prototypes", spec=spec
        )
    except ProviderError as exc:
        if exc.invalid_request:  # our own fixed texts refused: the provider refuses all
            ai_breaker.record_failure()
        raise
    return [result.vectors[i] for i in range(len(texts))]


def enrich_batch(*, memory_ids: list[str] | None = None, limit: int | None = None) -> BatchOutcome:
    """Claim up to `limit` pending memories (those of `memory_ids` only, if given), embed them
    through the guard (one provider call, or more under its tokens per request or to isolate
    inputs it refuses), and store embeddings, categories, tags and summaries. A memory the
    provider refuses while others of the batch go through is marked failed at once.
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
    settled: set[str] = set()
    try:
        _embed_and_apply(claimed, outcome, settled)
    finally:
        # Counted before the call; whatever happened since (a failure, a refusal, an edit
        # meanwhile, an exception of any kind), only what was applied stays counted.
        _refund_enrichments([c for c in claimed if c.id not in settled])
    return outcome


def _embed_and_apply(
    claimed: list[ClaimedMemory], outcome: BatchOutcome, settled: set[str]
) -> None:
    """enrich_batch's call and writes for the memories the plan allows; adds to `settled`
    the ids it enriched (their charge stays) and those it gave the charge back for.

    A charge is given back before the memory's lease ends: the nightly reconcile leaves a
    user with claimed memories alone and takes the others' counters as settled."""

    def give_back(items: Sequence[ClaimedMemory]) -> None:
        _refund_enrichments(items)
        settled.update(c.id for c in items)

    try:
        # Prototypes first (once per model and process): if they cannot be had, no batch
        # call is wasted.
        spec = active_spec()
        prototypes = prototypes_for(spec.model, functools.partial(_prototype_embed, spec=spec))
        result = guarded_embed_many(
            items=[(c.user_id, c.text) for c in claimed],
            operation=EMBED_OPERATION,
            spec=spec,
            call=guarded_embed,
        )
    except AiUnavailable as exc:
        give_back(claimed)
        memories_release(memory_ids=[c.id for c in claimed], give_back_attempt=True)
        outcome.unavailable = exc.reason
        return
    except ProviderError as exc:
        # The call failed, not these memories: an outage, a wrong key or model (401, 403,
        # 404), or a refused input when nothing of the batch went through (or the prototypes
        # were refused), which means the provider refuses everything. The breaker has counted
        # it; the attempt goes back, so a long misconfiguration fails no memory. (A memory
        # the provider refuses alone is isolated below, through result.rejected.)
        give_back(claimed)
        memories_release(memory_ids=[c.id for c in claimed], give_back_attempt=True, error=str(exc))
        outcome.error, outcome.transient = str(exc), exc.transient
        return
    give_back([c for i, c in enumerate(claimed) if i not in result.vectors])
    for i, error in result.rejected.items():
        memories_mark_failed(memory_ids=[claimed[i].id], error=error)
    outcome.failed = len(result.rejected)
    if result.undecided:  # not isolated in this run: tried again, the attempt counted
        memories_release(
            memory_ids=[claimed[i].id for i in result.undecided],
            give_back_attempt=False,
            error="refused by the provider in a batch",
        )
    refused = [c for i, c in enumerate(claimed) if i in result.refused]
    if refused:  # their users' AI budget is spent: they wait for the next month
        _park(refused, error="AI budget of the plan is spent")
        outcome.left_pending += [c.id for c in refused]
    results = []
    for i, memory in enumerate(claimed):
        if i in result.vectors:
            category, tags = prototypes.classify(result.vectors[i])
            results.append(
                EnrichmentResult(memory, result.vectors[i], category, summarize(memory.text), tags)
            )
    # Memories edited while they were embedded are not applied (nor counted: enrich_batch
    # gives their charge back; the ledger has them, so the reconcile lowers nothing meanwhile).
    applied = memories_enrichment_apply(
        results=results,
        model=result.model,
        dimensions=len(results[0].vector) if results else spec.dimensions,
    )
    settled |= applied
    outcome.enriched = len(applied)
    _announce_embedded(results, applied, model=result.model)


def _announce_embedded(results: list[EnrichmentResult], applied: set[str], *, model: str) -> None:
    """Tell the features built on embeddings (near-duplicates) which memories have theirs
    now. Their failure is logged and never fails the enrichment that already committed."""
    if not applied:
        return
    embedded = [
        EmbeddedMemory(r.memory.user_id, r.memory.id, r.vector)
        for r in results
        if r.memory.id in applied
    ]
    for receiver, response in memories_embedded.send_robust(
        sender=EnrichmentResult, model=model, memories=embedded
    ):
        if isinstance(response, Exception):
            logger.error(
                "after enrichment, %s failed",
                getattr(receiver, "__qualname__", receiver),
                exc_info=response,
            )


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


@dataclass(frozen=True)
class ReconcileSummary:
    counters: list[CounterCorrection]
    budgets: list[BudgetCorrection]
    skipped: list[CounterCorrection]  # left alone: a batch of the user was in flight

    def as_dict(self) -> dict:
        return {
            "counters": [
                {"user_id": c.user_id, "limit": c.limit_name, "was": c.was, "now": c.now}
                for c in self.counters
            ],
            "budgets": [{"key": b.key, "was": str(b.was), "now": str(b.now)} for b in self.budgets],
            "skipped": [
                {"user_id": c.user_id, "limit": c.limit_name, "count": c.was} for c in self.skipped
            ],
        }


def counters_reconcile() -> ReconcileSummary:
    """Nightly: put the counters back in step with the rows they count, and log each fix.

    - stored memories (`max_memories`) = each user's live memories;
    - enrichments of the month: lowered to the memories the ledger says were embedded (a
      memory edited while it was embedded is embedded twice but counted once, so the ledger
      is a ceiling: a counter above it missed a refund). A batch counts its enrichments
      before the call and writes the ledger after it, so the sum is taken under the user's
      counter lock, and a user with a batch in flight (memories claimed) is left alone and
      reported as skipped: it is put right the next night;
    - AI budgets of the day and month (Redis) = the ledger's sums.
    """
    month_start = billing_periods.month(timezone.now()).start
    enrichments = usage_counters_reconcile(
        limit_name=ENRICHMENTS_PER_MONTH.name,
        # Who to look at; each one's sum is taken again under the lock.
        user_ids=ai_ledger_items(operation=EMBED_OPERATION, since=month_start),
        count=lambda user_id: ai_ledger_items_of_user(
            user_id=user_id, operation=EMBED_OPERATION, since=month_start
        ),
        lower_only=True,
        in_flight=lambda user_id: enrichment_in_flight(user_id=user_id),
    )
    summary = ReconcileSummary(
        counters=[*memories_usage_reconcile(), *(c for c in enrichments if not c.skipped)],
        budgets=budget_reconcile(),
        skipped=[c for c in enrichments if c.skipped],
    )
    for fix in summary.counters:
        logger.warning(
            "reconcile: %s of user %s was %s, set to %s",
            *(fix.limit_name, fix.user_id, fix.was, fix.now),
        )
    for budget in summary.budgets:
        logger.warning("reconcile: %s was $%s, set to $%s", budget.key, budget.was, budget.now)
    for skip in summary.skipped:
        logger.warning(
            "reconcile: %s of user %s left at %s (a batch in flight)",
            *(skip.limit_name, skip.user_id, skip.was),
        )
    logger.info(
        "reconcile: %d counters and %d budgets corrected, %d skipped",
        len(summary.counters),
        len(summary.budgets),
        len(summary.skipped),
    )
    return summary
