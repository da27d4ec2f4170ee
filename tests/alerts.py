"""Alerts queued for Slack, for in-process tests: read from the broker's `alerts` queue and run
by the real task code (core.tasks.deliver_alert), as a worker would."""

from __future__ import annotations

from celery import current_app
from django.conf import settings


def _queue():
    connection = current_app.connection_for_write()
    return connection, connection.SimpleQueue(settings.CELERY_ALERTS_QUEUE)


def deliver_queued_alerts() -> int:
    """Run every queued alert delivery; returns how many ran."""
    connection, queue = _queue()
    ran = 0
    try:
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                return ran
            args, kwargs, _embed = message.decode()
            current_app.tasks[message.headers["task"]].apply(args=args, kwargs=kwargs).get()
            message.ack()
            ran += 1
    finally:
        queue.close()
        connection.release()


def queued_alerts() -> int:
    """How many alert deliveries wait in the queue."""
    connection, queue = _queue()
    try:
        _name, size, _consumers = queue.queue.queue_declare()
        return size
    finally:
        queue.close()
        connection.release()


def purge_queued_alerts() -> None:
    connection, queue = _queue()
    try:
        queue.clear()
    finally:
        queue.close()
        connection.release()
