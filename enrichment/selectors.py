"""Reads for operators: the AI breaker, the enrichment backlog and the broker queue."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from celery import current_app
from django.db.models import Count, Q

from enrichment.breaker import Forced, State, ai_breaker
from memories.models import Memory

logger = logging.getLogger(__name__)

# The console must answer even when the broker does not: one try, short timeouts (botocore's
# own defaults are 60 s and several retries).
_QUEUE_PROBE_TRANSPORT_OPTIONS = {
    "max_retries": 0,
    "client-config": {"connect_timeout": 2, "read_timeout": 5, "retries": {"max_attempts": 1}},
}


@dataclass(frozen=True)
class BreakerStatus:
    state: State
    forced: Forced | None  # set by an operator; None when failures decide
    open_until: dt.datetime | None  # the end of the cool-down after failures


@dataclass(frozen=True)
class EnrichmentCounts:
    pending: int
    failed: int


def ai_breaker_status() -> BreakerStatus:
    """The AI breaker as every process sees it (read from Redis; UNKNOWN when Redis does
    not answer, which the guard treats as open)."""
    open_until = ai_breaker.open_until()
    return BreakerStatus(
        state=ai_breaker.state(),
        forced=ai_breaker.forced(),
        open_until=dt.datetime.fromtimestamp(open_until, dt.UTC) if open_until else None,
    )


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


def enrichment_queue_depth(*, queues: list[str] | None = None) -> int | None:
    """Messages waiting in the Celery broker's queues (the default queue unless `queues` are
    given): the lengths of the Redis lists of a Redis broker, ApproximateNumberOfMessages on
    SQS. Messages a worker has already taken are not counted. None when the broker does not
    answer."""
    names = queues or [current_app.conf.task_default_queue]
    try:
        with current_app.connection_for_read(
            transport_options=_QUEUE_PROBE_TRANSPORT_OPTIONS
        ) as connection:
            channel = connection.default_channel
            # A declaration reports the queue's size; it creates nothing on Redis, and on
            # SQS only a queue the first worker would create anyway.
            return sum(channel.queue_declare(queue=name).message_count for name in names)
    except Exception:
        logger.warning("queue depth unknown: the broker did not answer", exc_info=True)
        return None
