"""Tasks waiting in the broker, for in-process tests: read from a queue and run by the real
task code, as a worker would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery import current_app
from kombu.simple import SimpleQueue


@contextmanager
def broker_queue(name: str) -> Iterator[SimpleQueue]:
    connection = current_app.connection_for_write()
    queue = connection.SimpleQueue(name)
    try:
        yield queue
    finally:
        queue.close()
        connection.release()


def run_queued(name: str) -> list[str]:
    """Run every task waiting in queue `name` (each must succeed); their names, in order."""
    current_app.loader.import_default_modules()  # the apps' tasks modules, as a worker does
    ran = []
    with broker_queue(name) as queue:
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                return ran
            args, kwargs, _embed = message.decode()
            task = message.headers["task"]
            current_app.tasks[task].apply(args=args, kwargs=kwargs, throw=True).get()
            message.ack()
            ran.append(task)


def queued(name: str) -> int:
    """How many tasks wait in queue `name`."""
    with broker_queue(name) as queue:
        _name, size, _consumers = queue.queue.queue_declare()
        return size


def purge(name: str) -> None:
    with broker_queue(name) as queue:
        queue.clear()
