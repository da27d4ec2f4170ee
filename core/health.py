"""Dependency checks shared by `/api/v1/health` and `manage.py wait_for_services`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection

MIN_SAFE_PGVECTOR = (0, 8, 4)  # 0.8.3 and 0.8.4 fixed HNSW vacuum corruption


def check_database() -> dict[str, Any]:
    """Postgres answers; reports the pgvector version (a warning below 0.8.4)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        row = cursor.fetchone()
    result: dict[str, Any] = {"pgvector": row[0] if row else None}
    if row:
        version = tuple(int(part) for part in row[0].split(".")[:3])
        if version < MIN_SAFE_PGVECTOR:
            result["warning"] = "pgvector below 0.8.4: upgrade before production use"
    return result


def check_redis() -> dict[str, Any]:
    """Both Redis roles (the cache and the state) answer a PING."""
    from django_redis import get_redis_connection

    from core.redis import state_redis

    get_redis_connection("default").ping()
    state_redis().ping()
    return {}


def check_broker() -> dict[str, Any]:
    """The Celery broker accepts a connection."""
    from kombu import Connection

    with Connection(
        settings.CELERY_BROKER_URL,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        connect_timeout=2,
    ) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    return {"transport": settings.CELERY_BROKER_URL.split("://", 1)[0]}


CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": check_database,
    "redis": check_redis,
    "broker": check_broker,
}


def checks_without_detail(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Only whether each check passed: what anonymous callers of /api/v1/health see. Versions
    and exception texts would tell an attacker which known bugs to try."""
    return {name: {"ok": result["ok"]} for name, result in results.items()}


def run_checks() -> tuple[bool, dict[str, dict[str, Any]]]:
    """Run every check; returns (all ok, per-check results with timings and errors)."""
    results: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail = check()
            results[name] = {"ok": True, **detail}
        except Exception as exc:  # any failure of a dependency is a failed check, not a 500
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
            if name == "database":
                connection.close()  # a broken connection must not be reused by the next request
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return all(r["ok"] for r in results.values()), results
