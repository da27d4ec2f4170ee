"""Real Celery worker processes for tests: started on the test database, killed for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent


def worker_database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class CeleryProcess:
    """A `celery -A config <command>` process in its own session (so SIGKILL takes the parent
    and its pool), on the test database, logging to `log_path`."""

    READY = ""  # what the log says once the process is up

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "DB_CONN_MAX_AGE": "0",
            **env,
        }
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def arguments(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 60) -> Self:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", *self.arguments()],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while self.READY not in self.log()[offset:]:
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.2)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the process and its children: no shutdown, no ack, no cleanup."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


class Worker(CeleryProcess):
    """`celery -A config worker`."""

    READY = " ready."

    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 1) -> None:
        super().__init__(env, log_path)
        self.concurrency = concurrency

    def arguments(self) -> list[str]:
        return [
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(self.concurrency),
            "--without-mingle",
            "--without-gossip",
        ]


class Beat(CeleryProcess):
    """`celery -A config beat` with the DatabaseScheduler: the real schedule
    (CELERY_BEAT_SCHEDULE, installed into django-celery-beat's tables as it starts) sends the
    real periodic tasks to the broker."""

    READY = "beat: Starting..."

    def __init__(self, env: dict[str, str], tmp_path: Path) -> None:
        super().__init__(env, tmp_path / "beat.log")
        self.tmp_path = tmp_path
        self.pidfile = tmp_path / "beat.pid"

    def arguments(self) -> list[str]:
        return [
            "beat",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--loglevel",
            "INFO",
            "--pidfile",
            str(self.pidfile),
            "--schedule",
            str(self.tmp_path / "celerybeat-schedule"),
        ]

    def start(self, timeout: float = 60) -> Self:
        self.pidfile.unlink(missing_ok=True)  # a stale one (a killed beat) stops a new start
        return super().start(timeout)


def wait_until(predicate, *, timeout: float, interval: float = 0.2, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, message or "condition not reached in time"
        time.sleep(interval)
