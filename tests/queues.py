"""Tasks waiting in the broker, for in-process tests: read from a queue and run by the real
task code, as a worker would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from celery import current_app
from kombu.message import Message
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


def _taken(name: str) -> Iterator[Message]:
    """Each message waiting in queue `name`, acknowledged once the caller is done with it."""
    with broker_queue(name) as queue:
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                return
            yield message
            message.ack()


def run_queued(name: str) -> list[str]:
    """Run every task waiting in queue `name` (each must succeed); their names, in order."""
    current_app.loader.import_default_modules()  # the apps' tasks modules, as a worker does
    ran = []
    for message in _taken(name):
        args, kwargs, _embed = message.decode()
        task = message.headers["task"]
        current_app.tasks[task].apply(args=args, kwargs=kwargs, throw=True).get()
        ran.append(task)
    return ran


def take_queued(name: str) -> list[tuple[str, list]]:
    """Take every task waiting in queue `name` off it, unrun: (task name, args) each."""
    return [(message.headers["task"], message.decode()[0]) for message in _taken(name)]


def queued(name: str) -> int:
    """How many tasks wait in queue `name`."""
    with broker_queue(name) as queue:
        _name, size, _consumers = queue.queue.queue_declare()
        return size


def purge(name: str) -> None:
    with broker_queue(name) as queue:
        queue.clear()
