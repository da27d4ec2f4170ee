"""Celery tasks of the enrichment pipeline. Thin: each calls one service of
enrichment.services or enrichment.reembed and declares its retries here.

Delivery is at least once (acks late, rejected on worker loss, SQS visibility timeout longer
than ENRICHMENT_TASK_TIME_LIMIT), and every task is idempotent. Retries: the task is the one
retry owner (the OpenAI SDK's are off): a transient provider error retries with exponential
backoff and full jitter; a permanent one does not; an open breaker or a spent budget does not
retry either: the sweeper re-enqueues once the breaker closes.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from ai.guard import AiUnavailable
from ai.providers import ProviderError, TransientProviderError
from enrichment.reembed import reembed_step
from enrichment.services import counters_reconcile, enrichment_run, enrichment_sweep


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(TransientProviderError,),
    max_retries=6,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    time_limit=settings.ENRICHMENT_TASK_TIME_LIMIT,
    soft_time_limit=settings.ENRICHMENT_TASK_TIME_LIMIT - 30,
)
def enrich_pending(memory_ids: list[str] | None = None) -> dict:
    """Enrich pending memories in batches until none is left (or the breaker opens)."""
    return {"enriched": enrichment_run(memory_ids=memory_ids)}


@shared_task(ignore_result=True)
def sweep_pending() -> dict:
    """Every minute: fail poison memories, alert on a backlog, and re-enqueue what is
    pending while the breaker lets calls through."""
    outcome = enrichment_sweep()
    return {"poisoned": outcome.poisoned, "pending": outcome.pending}


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # An AI outage pauses a re-embedding, it does not end it: retried for as long as it lasts.
    autoretry_for=(AiUnavailable, ProviderError),
    max_retries=None,
    retry_backoff=2,
    retry_backoff_max=256,
    retry_jitter=True,
    time_limit=settings.ENRICHMENT_TASK_TIME_LIMIT,
    soft_time_limit=settings.ENRICHMENT_TASK_TIME_LIMIT - 30,
)
def reembed_continue(self, target_id: int) -> dict:
    """Steps of the re-embedding to `target_id`; re-enqueues itself until it is done."""
    if reembed_step(target_id=target_id):
        return {"done": True}
    self.apply_async(args=[target_id])
    return {"done": False}


@shared_task(acks_late=True)
def reconcile_counters() -> dict:
    """Nightly, on the maintenance queue: counters and AI budgets back in step with the rows
    and the ledger; returns (and logs) what was corrected."""
    return counters_reconcile().as_dict()
