"""Real Celery worker processes for tests: started on the test database, killed for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def worker_database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Worker:
    """`celery -A config worker` in its own session, so SIGKILL takes the parent and its pool."""

    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 1) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "DB_CONN_MAX_AGE": "0",
            **env,
        }
        self.log_path = log_path
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Worker:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    str(self.concurrency),
                    "--without-mingle",
                    "--without-gossip",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while " ready." not in self.log()[offset:]:
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.2)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes: no shutdown, no ack, no cleanup."""
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


class Beat:
    """`celery -A config beat` with the DatabaseScheduler, in its own session, on the test
    database: the real schedule (CELERY_BEAT_SCHEDULE, installed into django-celery-beat's
    tables as it starts) sends the real periodic tasks to the broker."""

    SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

    def __init__(self, env: dict[str, str], tmp_path: Path) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "DB_CONN_MAX_AGE": "0",
            **env,
        }
        self.tmp_path = tmp_path
        self.log_path = tmp_path / "beat.log"
        self.pidfile = tmp_path / "beat.pid"
        self.process: subprocess.Popen | None = None
        self.started_at: float | None = None  # time.time() when it logged its start

    def start(self, timeout: float = 60) -> Beat:
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.pidfile.unlink(missing_ok=True)  # a stale one (a killed beat) stops a new start
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "beat",
                    "--scheduler",
                    self.SCHEDULER,
                    "--loglevel",
                    "INFO",
                    "--pidfile",
                    str(self.pidfile),
                    "--schedule",
                    str(self.tmp_path / "celerybeat-schedule"),
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while "beat: Starting..." not in self.log()[offset:]:
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, self.log()
            time.sleep(0.2)
        self.started_at = time.time()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL beat: no shutdown, no final sync of the schedule."""
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


def wait_until(predicate, *, timeout: float, interval: float = 0.2, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, message or "condition not reached in time"
        time.sleep(interval)
