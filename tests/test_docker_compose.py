"""docker-compose.yml parses and uses only settings that exist and are documented."""

import ast
import re
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
