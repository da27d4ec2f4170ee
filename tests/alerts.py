"""Alerts queued for Slack, for in-process tests: read from the broker's `alerts` queue and run
by the real task code (core.tasks.deliver_alert), as a worker would."""

from __future__ import annotations

from django.conf import settings

from tests import queues


def deliver_queued_alerts() -> int:
    """Run every queued alert delivery; returns how many ran."""
    return len(queues.run_queued(settings.CELERY_ALERTS_QUEUE))


def queued_alerts() -> int:
    """How many alert deliveries wait in the queue."""
    return queues.queued(settings.CELERY_ALERTS_QUEUE)


def purge_queued_alerts() -> None:
    queues.purge(settings.CELERY_ALERTS_QUEUE)
