"""Races for tests: many callers released at the same instant."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.db import connections


def all_at_once(
    work: Callable[[int], Any],
    count: int,
    *,
    prepare: Callable[[int], Any] | None = None,
    meanwhile: Callable[[], Any] | None = None,
    catch: bool = False,
) -> list:
    """`work(n)` for n in range(count), each in its own thread and database connection,
    released together from a barrier once every `prepare(n)` has run; `meanwhile()` runs in
    the calling thread while they do. Returns each result in order; with `catch`, what a
    `work` raised stands in its place (otherwise it is raised here)."""
    start = threading.Barrier(count)

    def run(n: int) -> Any:
        try:
            if prepare is not None:
                prepare(n)
            start.wait(timeout=60)
            return work(n)
        except Exception as exc:
            if catch:
                return exc
            raise
        finally:
            connections.close_all()  # this thread's connections, not the test's

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(run, n) for n in range(count)]
        if meanwhile is not None:
            meanwhile()
        return [future.result(timeout=120) for future in futures]
