"""Alerts queued for Slack, for in-process tests: read from the broker's `alerts` queue and run
by the real task code (core.tasks.deliver_alert), as a worker would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery import current_app
from django.conf import settings
from kombu.simple import SimpleQueue


@contextmanager
def _alerts_queue() -> Iterator[SimpleQueue]:
    connection = current_app.connection_for_write()
    queue = connection.SimpleQueue(settings.CELERY_ALERTS_QUEUE)
    try:
        yield queue
    finally:
        queue.close()
        connection.release()


def deliver_queued_alerts() -> int:
    """Run every queued alert delivery; returns how many ran."""
    ran = 0
    with _alerts_queue() as queue:
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                return ran
            args, kwargs, _embed = message.decode()
            current_app.tasks[message.headers["task"]].apply(args=args, kwargs=kwargs).get()
            message.ack()
            ran += 1


def queued_alerts() -> int:
    """How many alert deliveries wait in the queue."""
    with _alerts_queue() as queue:
        _name, size, _consumers = queue.queue.queue_declare()
        return size


def purge_queued_alerts() -> None:
    with _alerts_queue() as queue:
        queue.clear()
