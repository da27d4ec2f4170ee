"""Celery tasks. Thin: the work is in enrichment.services.

Delivery is at least once (acks late, rejected on worker loss, SQS visibility timeout longer
than ENRICHMENT_TASK_TIME_LIMIT), and every task is idempotent. Retries: the task is the one
retry owner (the OpenAI SDK's are off): a transient provider error retries with exponential
backoff and full jitter; an open breaker or a spent budget does not retry, the sweeper
re-enqueues once the breaker closes.
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.conf import settings

from core.alerts import alert_once, incident_resolved
from enrichment.breaker import State, ai_breaker
from enrichment.guard import AiUnavailable
from enrichment.models import EmbeddingModel
from enrichment.providers import ProviderError
from enrichment.reembed import drop_inactive_rows, reembed_batch, reembed_switch
from enrichment.services import (
    enrich_batch,
    enrichment_kick,
    enrichment_kick_clear,
    mark_poisoned,
    pending_count,
)

logger = logging.getLogger(__name__)

MAX_BATCHES_PER_TASK = 50


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=6,
    retry_backoff=True,
    retry_backoff_max=300,
    retry_jitter=True,
    time_limit=settings.ENRICHMENT_TASK_TIME_LIMIT,
    soft_time_limit=settings.ENRICHMENT_TASK_TIME_LIMIT - 30,
)
def enrich_pending(self, memory_ids: list[str] | None = None) -> dict:
    """Enrich pending memories in batches until none is left (or the breaker opens)."""
    enrichment_kick_clear()  # before claiming: a save committed after this kicks again
    # A web process that saw the flag just before it was cleared may skip kicking for the
    # debounce window (enrichment_kick): the last claim comes after that window has passed.
    settled_at = time.monotonic() + settings.ENRICHMENT_KICK_DEBOUNCE_SECONDS
    enriched = 0
    for _ in range(MAX_BATCHES_PER_TASK):
        outcome = enrich_batch(memory_ids=memory_ids)
        enriched += outcome.enriched
        if outcome.error and outcome.transient:
            raise self.retry(countdown=_backoff(self.request.retries))
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
    return {"enriched": enriched}


def _backoff(retries: int) -> float:
    import random

    return random.uniform(0, min(300, 2 ** (retries + 1)))


@shared_task(ignore_result=True)
def sweep_pending() -> dict:
    """Every minute: fail poison memories, alert on a backlog, and re-enqueue what is
    pending while the breaker lets calls through."""
    poisoned = mark_poisoned()
    backlog = pending_count()
    if backlog > settings.ENRICHMENT_BACKLOG_ALERT:
        alert_once(
            "enrichment-backlog",
            f"{backlog} memories wait for enrichment (threshold "
            f"{settings.ENRICHMENT_BACKLOG_ALERT}).",
        )
    elif backlog < settings.ENRICHMENT_BACKLOG_ALERT // 2:
        incident_resolved("enrichment-backlog")
    if backlog and ai_breaker.state() in (State.CLOSED, State.HALF_OPEN):
        enrichment_kick_clear()
        enrichment_kick()
    return {"poisoned": poisoned, "pending": backlog}


REEMBED_BATCHES_PER_TASK = 20


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    max_retries=None,  # an AI outage pauses a re-embedding, it does not end it
    time_limit=settings.ENRICHMENT_TASK_TIME_LIMIT,
    soft_time_limit=settings.ENRICHMENT_TASK_TIME_LIMIT - 30,
)
def reembed_continue(self, target_id: int) -> dict:
    """Fill the building model's embeddings, switch to it when complete, catch up memories
    enriched by the old model meanwhile, drop the old rows; re-enqueues itself until done."""
    target = EmbeddingModel.objects.filter(pk=target_id).first()
    if target is None or target.state == EmbeddingModel.State.RETIRED:
        return {"done": True}
    try:
        for _ in range(REEMBED_BATCHES_PER_TASK):
            missing = reembed_batch(target=target, size=settings.ENRICHMENT_BATCH_SIZE)
            if target.state == EmbeddingModel.State.BUILDING:
                if not missing and reembed_switch(target=target):
                    target.refresh_from_db()
            elif not missing and not drop_inactive_rows():
                return {"done": True}
    except (AiUnavailable, ProviderError) as exc:
        logger.info("re-embedding paused: %s", exc)
        raise self.retry(countdown=_backoff(min(self.request.retries, 7))) from exc
    reembed_continue.delay(target_id)
    return {"done": False}
