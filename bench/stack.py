"""A benchmark stack: embedded Postgres and Redis in a temp dir, migrated, and gunicorn;
and wrk to load it."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from embedded import servers

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def first_value(row: tuple[Any, ...] | None) -> Any:
    """The first column of a query's one row (psycopg's fetchone()); no row is a broken
    bench, not a number to report."""
    if row is None:
        raise RuntimeError("the query returned no row")
    return row[0]


@contextmanager
def bench_services(
    *, extra_env: dict[str, str] | None = None, postgres_settings: dict[str, str] | None = None
):
    """Yields (workdir, env): Postgres (started with `postgres_settings`) and Redis running
    and migrated, their URLs (and `extra_env`) in this process's environment. Both are
    stopped on exit."""
    workdir = Path(tempfile.mkdtemp(prefix="memcon-bench-"))
    processes: list[subprocess.Popen] = []
    try:
        pg_port, redis_port = servers.free_port(), servers.free_port()
        postgres = servers.spawn_postgres(
            servers.PostgresOptions(
                pgdata=workdir / "pgdata", port=pg_port, settings=postgres_settings or {}
            ),
            log_path=workdir / "postgres.log",
        )
        processes.append(postgres)
        redis = servers.spawn_redis(
            redis_port, workdir / "redis", persistent=False, log_path=workdir / "redis.log"
        )
        processes.append(redis)
        servers.wait_for_postgres(pg_port, process=postgres)
        servers.ensure_database(pg_port, "memory_connector")
        servers.wait_for_port(redis_port, process=redis)
        ours = {
            "DATABASE_URL": servers.postgres_url(pg_port, "memory_connector"),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            # Production settings (DATABASE_URL is set) over plain HTTP on loopback.
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SECURE_SSL_REDIRECT": "false",
            "STATIC_MANIFEST": "false",
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        env = {**os.environ, **ours}
        os.environ.update(ours)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        yield workdir, env
    finally:
        for process in reversed(processes):
            servers.stop(process, sig=15)
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def web_server(workdir: Path, env: dict[str, str], *, workers: int = 4, ready_within: float = 60):
    """gunicorn (sync workers) on a free loopback port; yields its base URL once /health
    answers 200. Stopped on exit."""
    port = servers.free_port()
    argv = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    argv += ["--workers", str(workers), "--worker-class", "sync", "--log-level", "warning"]
    with open(workdir / "web.log", "wb") as log:
        web = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + ready_within
        while True:
            try:
                if requests.get(f"{base}/api/v1/health", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or web.poll() is not None:
                raise RuntimeError((workdir / "web.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        servers.stop(web, sig=15)


@contextmanager
def bench_stack(*, web_workers: int = 4):
    """Yields (base_url, env). Everything started here is stopped on exit."""
    with bench_services() as (workdir, env), web_server(workdir, env, workers=web_workers) as base:
        yield base, env


def run_wrk(base: str, *, script: str, connections: int, seconds: int, env: dict[str, str]) -> dict:
    """One wrk run with a script of bench/ (which reads its settings from `env` and ends by
    calling report.lua's done); returns its JSON summary plus requests per second."""
    argv = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s"]
    argv += ["--timeout", "10s", "-s", str(HERE / script), base]
    out = subprocess.run(
        argv,
        env={**os.environ, **env, "BENCH_LUA_DIR": str(HERE)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def save_results(name: str, data: dict, *, indent: int | None = 2) -> Path:
    """Write a benchmark's raw figures as bench/results/`name` (JSON; not committed)."""
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    path = results / name
    path.write_text(json.dumps(data, indent=indent, default=str) + "\n")
    return path


def print_targets(targets: dict[str, bool]) -> None:
    """One line a target, as every benchmark ends: `met` or `MISSED`."""
    for target, met in targets.items():
        print(f"{'met   ' if met else 'MISSED'} {target}")
