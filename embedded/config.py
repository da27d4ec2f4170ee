"""Where the embedded stack keeps its data and which loopback ports it uses.

Settings read these defaults too, so `manage.py` in the same checkout reaches the database and
Redis that `make run` started, with no environment to set.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_DIR = Path(os.environ.get("LOCAL_DIR", BASE_DIR / ".local"))
PGDATA = LOCAL_DIR / "pgdata"
REDIS_DIR = LOCAL_DIR / "redis"
DATABASE_NAME = "memory_connector"
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "memory-connector-demo"  # noqa: S105 - local demo account, printed at start


# Set by embedded.pytest_plugin once it started the tests' throwaway stack.
TEST_STACK_MARKER = "MEMCON_TEST_STACK"


def load_dotenv(env_file: Path = BASE_DIR / ".env") -> None:
    """Load `.env` into the process environment (values already set win), for `make run`.

    Skipped when DATABASE_URL is in the environment: a deployment takes its settings from its
    real environment only, so a stray `.env` (a developer's, copied into an image or left on a
    server) cannot fill in secrets or switch settings behind the operator's back.
    """
    import environ

    if os.environ.get("DATABASE_URL"):
        return
    if env_file.exists():
        environ.Env.read_env(str(env_file), overwrite=False)


def in_test_stack() -> bool:
    """True under the pytest plugin's stack: Postgres and Redis on loopback, plain HTTP."""
    return os.environ.get(TEST_STACK_MARKER) == "1"


def pg_port() -> int:
    return int(os.environ.get("EMBEDDED_PG_PORT", "54329"))


def redis_port() -> int:
    return int(os.environ.get("EMBEDDED_REDIS_PORT", "63790"))


def default_database_url() -> str:
    return f"postgres://postgres@127.0.0.1:{pg_port()}/{DATABASE_NAME}"


def default_redis_url() -> str:
    return f"redis://127.0.0.1:{redis_port()}/0"
