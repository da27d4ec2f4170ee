"""docker-compose.yml parses and uses only settings that exist and are documented."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def documented_variables() -> set[str]:
    names = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=", line)
        if match:
            names.add(match.group(1))
    return names


def variables_read_by_settings() -> set[str]:
    """Names passed to env(...) / env.str(...) / env.bool(...)… in config/settings.py."""
    tree = ast.parse((ROOT / "config" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        reads_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        )
        first = node.args[0]
        if reads_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def test_compose_file_has_the_production_like_services(compose):
    assert {"postgres", "redis", "sqs", "web", "worker", "beat"} <= set(compose["services"])
    assert compose["services"]["postgres"]["image"].startswith("pgvector/pgvector:0.8.4")


def test_every_variable_an_app_service_reads_is_documented_and_read_by_settings(compose):
    documented, read = documented_variables(), variables_read_by_settings()
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        keys = (
            environment.keys()
            if isinstance(environment, dict)
            else [item.split("=", 1)[0] for item in environment]
        )
        assert keys, name
        for key in keys:
            assert key in documented, f"{name}: {key} is not in .env.example"
            assert key in read, f"{name}: {key} is not read by config/settings.py"


def test_every_interpolated_variable_is_documented():
    text = (ROOT / "docker-compose.yml").read_text()
    interpolated = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    assert interpolated, "expected ${VAR} interpolations"
    missing = interpolated - documented_variables()
    assert not missing, f"not in .env.example: {sorted(missing)}"


def test_settings_reads_no_variable_that_is_undocumented():
    missing = variables_read_by_settings() - documented_variables()
    assert not missing, f"read by settings but not in .env.example: {sorted(missing)}"


def with_defaults(value: str) -> str:
    """`value` as compose interpolates it with nothing set: `${X:-d}` → d, `${X}` → ''."""
    return re.sub(r"\$\{[A-Z][A-Z0-9_]*(?::?-([^}]*))?\}", lambda m: m.group(1) or "", value)


def test_compose_refuses_to_start_without_the_postgres_password_and_secret_key():
    text = (ROOT / "docker-compose.yml").read_text()
    for name in ("POSTGRES_PASSWORD", "SECRET_KEY"):
        uses = re.findall(r"\$\{" + name + r"(\W[^}]*)?\}", text)
        assert uses, name
        # `${X:?message}`: compose stops with the message when X is unset or empty.
        assert all(use.startswith(":?") for use in uses), (name, uses)
    assert re.search(r"^POSTGRES_PASSWORD=$", (ROOT / ".env.example").read_text(), re.M)


def test_no_password_has_a_default_in_compose(compose):
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.findall(r"\$\{[A-Z0-9_]*(?:PASSWORD|SECRET_KEY)\b:?-", text)
    assert "POSTGRES_PASSWORD" in compose["services"]["postgres"]["environment"]


def test_the_web_port_is_published_on_loopback_by_default(compose):
    ports = compose["services"]["web"]["ports"]
    assert ports
    for port in ports:
        assert with_defaults(port) == "127.0.0.1:8000:8000", port
    assert "${WEB_BIND_ADDRESS" in ports[0]


def dockerignore_excludes(path: str) -> bool:
    """Whether Docker leaves `path` (relative to the context) out of the build context:
    the last matching pattern wins, `!` re-includes, and a matched directory takes
    everything under it."""
    excluded = False
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = ""
        for part in re.split(r"(\*\*/?|\*|\?)", pattern):
            if part in ("**", "**/"):
                regex += "(?:.*/)?" if part == "**/" else ".*"
            elif part == "*":
                regex += "[^/]*"
            elif part == "?":
                regex += "[^/]"
            else:
                regex += re.escape(part)
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            excluded = not negate
    return excluded


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.production",
        ".env.example",
        ".local/secret_key",
        ".local/pgdata/PG_VERSION",
        "tests/test_smoke.py",
        "tests/fake_openai.py",
        "memories/tests/test_memories_api.py",
        "enrichment/tests/conftest.py",
        "bench/save.py",
        ".venv/bin/python",
        ".git/HEAD",
        "core/__pycache__/health.cpython-311.pyc",
        ".pytest_cache/README.md",
        ".ruff_cache/CACHEDIR.TAG",
    ],
)
def test_dockerignore_keeps_secrets_local_data_tests_and_caches_out_of_the_image(path):
    assert dockerignore_excludes(path), path


@pytest.mark.parametrize(
    "path",
    [
        "manage.py",
        "pyproject.toml",
        "constraints.txt",
        "config/settings.py",
        "memories/services.py",
        "memories/migrations/0001_initial.py",
        "embedded/config.py",
        "templates/home.html",
        "static/favicon.svg",
        "docs/runbooks/breaker-open.md",
    ],
)
def test_dockerignore_keeps_what_the_app_needs(path):
    assert not dockerignore_excludes(path), path


def test_the_image_build_settings_pass_the_production_secret_key_check():
    """The Dockerfile's collectstatic step loads production settings: its SECRET_KEY must not
    be one they refuse."""
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    step = re.search(r"(SECRET_KEY=.*?)\s+python manage\.py collectstatic", dockerfile)
    assert step, "the collectstatic step sets SECRET_KEY and DATABASE_URL"
    environment = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(
        ["sh", "-c", f"{step.group(1)} python manage.py check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_app_services_get_the_env_file_at_run_time_not_in_the_image(compose):
    for name in APP_SERVICES:
        env_files = compose["services"][name]["env_file"]
        assert {"path": ".env", "required": False} in env_files, name


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${X}`, `${X:-default}` and `${X:?message}` (which refuses an unset or empty
    X) against `variables`."""

    def replace(match: re.Match) -> str:
        name, operator, argument = match.group(1), match.group(2), match.group(3) or ""
        current = variables.get(name, "")
        if operator == ":?" and not current:
            raise ValueError(f"compose refuses to start: {argument}")
        if operator == ":-" and not current:
            return argument
        return current

    return re.sub(r"\$\{([A-Z][A-Z0-9_]*)(?:(:[-?])([^}]*))?\}", replace, value)


def dotenv_from_example(**filled: str) -> dict[str, str]:
    """`cp .env.example .env`, then the required values filled in."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            values[match.group(1)] = match.group(2)
    return {**values, **filled}


def test_compose_refuses_the_example_env_until_its_secrets_are_set(compose):
    environment = compose["services"]["web"]["environment"]
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        for value in environment.values():
            interpolate(str(value), dotenv_from_example(SECRET_KEY="x" * 60))
    with pytest.raises(ValueError, match="SECRET_KEY"):
        interpolate(str(environment["SECRET_KEY"]), dotenv_from_example())


def test_the_web_container_passes_the_deployment_checklist(compose):
    """What compose gives the web container (.env from .env.example, secrets filled in, then
    its `environment`) passes `check --deploy --fail-level WARNING`."""
    import secrets

    dotenv = dotenv_from_example(
        SECRET_KEY=secrets.token_urlsafe(50), POSTGRES_PASSWORD=secrets.token_urlsafe(20)
    )
    container = dict(dotenv)  # env_file: every line of .env, empty ones too
    for name, value in compose["services"]["web"]["environment"].items():
        container[name] = interpolate(str(value), dotenv)
    container["PATH"] = os.environ["PATH"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=container,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr
