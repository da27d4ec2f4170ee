"""Reads of the Celery broker, for operators."""

from __future__ import annotations

import logging

from celery import current_app

logger = logging.getLogger(__name__)

# The console must answer even when the broker does not: one try, short timeouts (botocore's
# own defaults are 60 s and several retries).
_QUEUE_PROBE_TRANSPORT_OPTIONS = {
    "max_retries": 0,
    "client-config": {"connect_timeout": 2, "read_timeout": 5, "retries": {"max_attempts": 1}},
}


def broker_queue_depth(*, queues: list[str] | None = None) -> int | None:
    """Messages waiting in the Celery broker's queues (the default queue, which every task
    but alerts shares, unless `queues` are given): the lengths of the Redis lists of a Redis
    broker, ApproximateNumberOfMessages on SQS. Messages a worker has already taken are not
    counted. None when the broker does not answer."""
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
