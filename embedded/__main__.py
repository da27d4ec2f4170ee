"""`python -m embedded run` starts the whole local stack under honcho.

Each Procfile entry calls back into this module (`python -m embedded web`, …): the servers
run in the foreground so honcho owns every process, and Ctrl-C or SIGTERM stops them all.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from embedded import config as stack
from embedded import servers

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def _manage(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, str(BASE_DIR / "manage.py"), *args], check=check, cwd=BASE_DIR)


def _supervise(child: subprocess.Popen, *, on_term: int) -> int:
    def forward(signum: int, _frame: object) -> None:
        if child.poll() is None:
            child.send_signal(on_term)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return child.wait()


def cmd_postgres(_: argparse.Namespace) -> int:
    options = servers.PostgresOptions(pgdata=stack.PGDATA, port=stack.pg_port())
    child = servers.spawn_postgres(options)
    servers.wait_for_postgres(options.port, process=child)
    servers.ensure_database(options.port, stack.DATABASE_NAME)
    print(f"postgres ready on 127.0.0.1:{options.port} (data in {stack.PGDATA})", flush=True)
    # SIGINT is Postgres' "fast" shutdown: it does not wait for clients to hang up.
    return _supervise(child, on_term=signal.SIGINT)


def cmd_redis(_: argparse.Namespace) -> int:
    port = stack.redis_port()
    child = servers.spawn_redis(port, stack.REDIS_DIR, persistent=True)
    return _supervise(child, on_term=signal.SIGTERM)


def cmd_web(_: argparse.Namespace) -> int:
    _manage("wait_for_services", "--timeout", "120")
    _manage("migrate", "--noinput")
    _manage(
        "createuser",
        "--email",
        stack.DEMO_EMAIL,
        "--password",
        stack.DEMO_PASSWORD,
        "--staff",
        "--exists-ok",
        # The demo shows every feature, the soft-launched ones too.
        "--flag",
        "near_duplicates",
    )
    port = os.environ.get("PORT", "8000")
    print(
        "\n"
        f"  Memory Connector is up:  http://127.0.0.1:{port}/\n"
        f"  API docs:                http://127.0.0.1:{port}/api/docs/\n"
        f"  Admin:                   http://127.0.0.1:{port}/admin/\n"
        f"  Demo account:            {stack.DEMO_EMAIL} / {stack.DEMO_PASSWORD}\n",
        flush=True,
    )
    workers = os.environ.get("WEB_CONCURRENCY", "3")
    os.execv(
        PYTHON,
        [
            PYTHON,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            workers,
            "--graceful-timeout",
            "4",
            "--access-logfile",
            "-",
        ],
    )
    return 0  # pragma: no cover - execv does not return


def cmd_worker(_: argparse.Namespace) -> int:
    _manage("wait_for_services", "--timeout", "300", "--migrated")
    concurrency = os.environ.get("CELERY_WORKER_CONCURRENCY", "2")
    os.execv(
        PYTHON,
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            concurrency,
        ],
    )
    return 0  # pragma: no cover


def cmd_beat(_: argparse.Namespace) -> int:
    _manage("wait_for_services", "--timeout", "300", "--migrated")
    schedule = str(stack.LOCAL_DIR / "celerybeat.pid")
    os.execv(
        PYTHON,
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "--loglevel",
            "INFO",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            "--pidfile",
            schedule,
        ],
    )
    return 0  # pragma: no cover


def cmd_run(_: argparse.Namespace) -> int:
    from honcho.environ import parse_procfile
    from honcho.manager import Manager

    stack.LOCAL_DIR.mkdir(exist_ok=True)
    wanted = ["web", "worker", "beat"]
    if not os.environ.get("REDIS_URL"):
        wanted.insert(0, "redis")
    if not os.environ.get("DATABASE_URL"):
        wanted.insert(0, "postgres")
    procfile = parse_procfile((BASE_DIR / "Procfile").read_text())
    manager = Manager()
    for name in wanted:
        manager.add_process(name, procfile.processes[name], env=dict(os.environ), cwd=str(BASE_DIR))
    manager.loop()
    return manager.returncode or 0


COMMANDS = {
    "run": cmd_run,
    "postgres": cmd_postgres,
    "redis": cmd_redis,
    "web": cmd_web,
    "worker": cmd_worker,
    "beat": cmd_beat,
}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m embedded")
    parser.add_argument("command", choices=sorted(COMMANDS))
    args = parser.parse_args()
    stack.load_dotenv()
    return COMMANDS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
