"""Starts a throwaway Postgres (pgvector) and Redis once per test run, before Django loads.

Loaded with `-p embedded.pytest_plugin` (see pyproject.toml). The servers are the same
binaries `make run` uses, on free loopback ports, with their data in a temporary directory
that is removed at the end. pytest-xdist workers inherit the servers from the controller and
take databases of their own: pytest-django gives each its test database, and this plugin
gives each its Redis databases (cache, broker and state).
Set TEST_DATABASE_URL / TEST_REDIS_URL to use servers of your own instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from embedded import servers

_STARTED_MARKER = "MEMCON_TEST_STACK"
_processes: list[subprocess.Popen] = []
_workdir: Path | None = None


def _start_stack() -> dict[str, str]:
    global _workdir
    _workdir = Path(tempfile.mkdtemp(prefix="memcon-test-"))
    env: dict[str, str] = {}

    if os.environ.get("TEST_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
    else:
        pg_port = servers.free_port()
        postgres = servers.spawn_postgres(
            servers.PostgresOptions(pgdata=_workdir / "pgdata", port=pg_port, ephemeral=True),
            log_path=_workdir / "postgres.log",
        )
        _processes.append(postgres)
        servers.wait_for_postgres(pg_port, process=postgres)
        env["DATABASE_URL"] = servers.postgres_url(pg_port, "memory_connector")
        env["TEST_PG_PORT"] = str(pg_port)

    if os.environ.get("TEST_REDIS_URL"):
        env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    else:
        redis_port = servers.free_port()
        redis = servers.spawn_redis(
            redis_port, _workdir / "redis", persistent=False, log_path=_workdir / "redis.log"
        )
        _processes.append(redis)
        servers.wait_for_port(redis_port, process=redis)
        env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        env["TEST_REDIS_PORT"] = str(redis_port)

    env["CELERY_BROKER_URL"] = env["REDIS_URL"].rsplit("/", 1)[0] + "/1"
    env["SECRET_KEY"] = "test-only-secret-key-not-for-production"  # noqa: S105
    env["STATIC_MANIFEST"] = "false"
    # Playwright's sync API runs an event loop in the test thread; the ORM calls stay sync.
    env["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    env["TEST_STACK_DIR"] = str(_workdir)
    env[_STARTED_MARKER] = "1"
    return env


def _redis_databases_of_this_worker() -> dict[str, str]:
    """An xdist worker's own Redis databases on the run's server: three per worker from 3 up
    (the controller, and a run without xdist, use 0 to 2), so one worker's breaker, budgets,
    throttles and queued tasks are never another's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return {}
    first = 3 * (int(worker.removeprefix("gw")) + 1)
    server = os.environ["REDIS_URL"].rsplit("/", 1)[0]
    return {
        "REDIS_URL": f"{server}/{first}",
        "CELERY_BROKER_URL": f"{server}/{first + 1}",
        "STATE_REDIS_URL": f"{server}/{first + 2}",
    }


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # A hookwrapper runs before pytest-django's own hook, which loads the settings.
    if not os.environ.get(_STARTED_MARKER):
        os.environ.update(_start_stack())
    os.environ.update(_redis_databases_of_this_worker())
    yield


def pytest_unconfigure(config):
    for process in reversed(_processes):
        servers.stop(process)
    _processes.clear()
    if _workdir is not None:
        shutil.rmtree(_workdir, ignore_errors=True)
