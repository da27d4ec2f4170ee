"""A benchmark stack: embedded Postgres and Redis in a temp dir, migrated, and gunicorn."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from embedded import servers

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def bench_stack(*, web_workers: int = 4):
    """Yields (base_url, env). Everything started here is stopped on exit."""
    workdir = Path(tempfile.mkdtemp(prefix="memcon-bench-"))
    processes: list[subprocess.Popen] = []
    try:
        pg_port, redis_port, web_port = (servers.free_port() for _ in range(3))
        postgres = servers.spawn_postgres(
            servers.PostgresOptions(pgdata=workdir / "pgdata", port=pg_port),
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
        env = {
            **os.environ,
            "DATABASE_URL": servers.postgres_url(pg_port, "memory_connector"),
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "SECRET_KEY": "bench-only",
            "STATIC_MANIFEST": "false",
            "LOG_LEVEL": "WARNING",
        }
        os.environ.update(
            {
                k: env[k]
                for k in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "STATIC_MANIFEST", "LOG_LEVEL")
            }
        )
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{web_port}",
                "--workers",
                str(web_workers),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=open(workdir / "web.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
        processes.append(web)
        base = f"http://127.0.0.1:{web_port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or web.poll() is not None:
                raise RuntimeError((workdir / "web.log").read_text())
            time.sleep(0.2)
        yield base, env
    finally:
        for process in reversed(processes):
            servers.stop(process, sig=15)
        shutil.rmtree(workdir, ignore_errors=True)
