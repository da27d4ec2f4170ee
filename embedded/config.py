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


def load_dotenv() -> None:
    """Load `.env` into the process environment (values already set win)."""
    import environ

    env_file = BASE_DIR / ".env"
    if env_file.exists():
        environ.Env.read_env(str(env_file), overwrite=False)


def pg_port() -> int:
    return int(os.environ.get("EMBEDDED_PG_PORT", "54329"))


def redis_port() -> int:
    return int(os.environ.get("EMBEDDED_REDIS_PORT", "63790"))


def default_database_url() -> str:
    return f"postgres://postgres@127.0.0.1:{pg_port()}/{DATABASE_NAME}"


def default_redis_url() -> str:
    return f"redis://127.0.0.1:{redis_port()}/0"
