"""`make run`'s launcher, for real: every process starts, serves, stops, and keeps its data.

Runs `python -m embedded run` on free loopback ports with its own data directory, as a user
would (minus `make`'s install step, which the suite's own install already did).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
import requests

from embedded import servers

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 180


class Stack:
    def __init__(self, tmp_path: Path) -> None:
        self.local_dir = tmp_path / "local"
        self.log_path = tmp_path / "stack.log"
        self.port = servers.free_port()
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key
            not in {
                "DATABASE_URL",
                "REDIS_URL",
                "STATE_REDIS_URL",
                "CELERY_BROKER_URL",
                "SECRET_KEY",
            }
            and not key.startswith(("MEMCON_TEST", "TEST_", "PYTEST", "DJANGO_SETTINGS"))
        }
        self.env.update(
            PORT=str(self.port),
            LOCAL_DIR=str(self.local_dir),
            EMBEDDED_PG_PORT=str(servers.free_port()),
            EMBEDDED_REDIS_PORT=str(servers.free_port()),
            STATIC_MANIFEST="false",
            WEB_CONCURRENCY="2",
            CELERY_WORKER_CONCURRENCY="1",
        )
        self.process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.process = subprocess.Popen(
            [sys.executable, "-m", "embedded", "run"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_healthy(self) -> dict:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"launcher exited:\n{self.log()[-4000:]}"
            try:
                response = requests.get(f"{self.base}/api/v1/health", timeout=5)
                if response.status_code == 200:
                    return response.json()
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.5)
        raise AssertionError(f"not healthy after {STARTUP_TIMEOUT}s:\n{self.log()[-4000:]}")

    def wait_for_processes(self, *needles: str) -> list[psutil.Process]:
        """Every needle in some process's command line. Celery's renames itself when
        setproctitle is installed (`[celeryd: …] -active- (-A config worker …)`), so the
        needles name the arguments, not the program."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            tree = psutil.Process(self.process.pid).children(recursive=True)
            found = {n: [p for p in tree if n in " ".join(_cmdline(p))] for n in needles}
            if all(found.values()):
                return tree
            time.sleep(0.5)
        raise AssertionError(f"missing processes {needles}:\n{self.log()[-4000:]}")

    def stop(self, sig: int) -> None:
        os.killpg(self.process.pid, sig)
        self.process.wait(60)


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _alive(processes: list[psutil.Process]) -> list[str]:
    alive = []
    for process in processes:
        try:
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(" ".join(process.cmdline()))
        except psutil.NoSuchProcess:
            pass
    return alive


@pytest.fixture
def stack_dir():
    """A directory outside pytest's own: Postgres runs as another system user, and every
    pytest session that starts meanwhile (a second suite on the machine) sets
    /tmp/pytest-of-<user> back to 0700, locking that user out of its data mid-test."""
    path = Path(tempfile.mkdtemp(prefix="mc-stack-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_make_run_serves_stops_cleanly_and_keeps_data_across_restarts(stack_dir):
    stack = Stack(stack_dir)

    stack.start()
    try:
        health = stack.wait_healthy()
        assert all(check["ok"] for check in health["checks"].values())
        tree = stack.wait_for_processes(
            "postgres -D",
            "redis-server",
            "gunicorn",
            "-A config worker",
            "-A config beat",
        )
        assert "Demo account:" in stack.log()
        token = requests.post(
            f"{stack.base}/api/v1/auth/token",
            json={"email": "demo@example.com", "password": "memory-connector-demo"},
            timeout=10,
        ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        created = requests.post(
            f"{stack.base}/api/v1/memories",
            json={"content": "kept across restarts"},
            headers=auth,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        assert requests.get(f"{stack.base}/admin/login/", timeout=10).status_code == 200
        # Beat installed the settings' schedule into django-celery-beat's tables.
        import psycopg

        with psycopg.connect(
            servers.postgres_url(int(stack.env["EMBEDDED_PG_PORT"]), "memory_connector")
        ) as conn:
            deadline = time.monotonic() + 60
            while not conn.execute(
                "SELECT 1 FROM django_celery_beat_periodictask WHERE name = %s",
                ["purge-expired-idempotency-keys"],
            ).fetchone():
                assert time.monotonic() < deadline, stack.log()[-4000:]
                time.sleep(0.5)
    finally:
        stack.stop(signal.SIGTERM)

    leftovers = _alive(tree)
    assert not leftovers, f"still running after SIGTERM: {leftovers}"
    assert not servers.port_is_open(stack.port)
    assert not servers.port_is_open(int(stack.env["EMBEDDED_PG_PORT"]))
    assert not servers.port_is_open(int(stack.env["EMBEDDED_REDIS_PORT"]))

    stack.start()
    try:
        stack.wait_healthy()
        tree = stack.wait_for_processes("postgres -D", "-A config worker")
        token = requests.post(
            f"{stack.base}/api/v1/auth/token",
            json={"email": "demo@example.com", "password": "memory-connector-demo"},
            timeout=10,
        ).json()["token"]
        listing = requests.get(
            f"{stack.base}/api/v1/memories",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        contents = [m["content"] for m in listing.json()["results"]]
        assert contents == ["kept across restarts"]
    finally:
        stack.stop(signal.SIGINT)  # what Ctrl-C sends
    leftovers = _alive(tree)
    assert not leftovers, f"still running after Ctrl-C: {leftovers}"
