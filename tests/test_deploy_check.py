"""Production settings pass Django's deployment checklist; weak secrets are refused."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from embedded import config as embedded

ROOT = Path(__file__).resolve().parent.parent


def env_example_values() -> dict[str, str]:
    """The non-empty `KEY=value` lines of .env.example (an empty value means unset)."""
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=(.+)$", line)
        if match:
            values[match.group(1)] = match.group(2)
    return values


def production_env(**overrides: str) -> dict[str, str]:
    """A production environment: .env.example's values, an external database, a real key.

    Nothing of the test run's own stack leaks in (no MEMCON_TEST_STACK, no test URLs)."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp")}
    env.update(env_example_values())
    env.update(
        DATABASE_URL="postgres://memory:not-a-real-password@db.internal:5432/memory_connector",
        REDIS_URL="redis://redis.internal:6379/0",
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="false",
        ALLOWED_HOSTS="memory.example.com",
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_production_settings_of_env_example():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output
    assert "System check identified no issues" in output


@pytest.mark.parametrize(
    "weak_key",
    [
        "short-but-otherwise-random-Xy7",
        "ab" * 30,  # long enough, too few different characters
        "django-insecure-" + secrets.token_urlsafe(50),  # startproject's placeholder kind
    ],
    ids=["short", "low-variety", "django-insecure"],
)
def test_production_refuses_to_start_with_a_weak_secret_key(weak_key):
    result = manage("check", env=production_env(SECRET_KEY=weak_key))
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY is too weak" in result.stderr


def test_production_refuses_a_weak_secret_key_fallback():
    result = manage("check", env=production_env(SECRET_KEY_FALLBACKS="old-and-short"))
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY_FALLBACKS is too weak" in result.stderr


def test_production_redirects_to_https_and_sends_hsts_behind_the_proxy():
    script = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "client = Client(SERVER_NAME='memory.example.com')\n"
        "print(client.get('/admin/login/').status_code)\n"
        "secure = client.get('/admin/login/', headers={'X-Forwarded-Proto': 'https'})\n"
        "print(secure['Strict-Transport-Security'])\n"
        # The load balancer's and compose's probes speak plain HTTP to the container.
        "from django.middleware.security import SecurityMiddleware\n"
        "from django.test import RequestFactory\n"
        "probe = RequestFactory(SERVER_NAME='memory.example.com').get('/api/v1/health')\n"
        "print(SecurityMiddleware(lambda request: None).process_request(probe))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        # No manifest lookups: the checkout need not have run collectstatic.
        env=production_env(DJANGO_SETTINGS_MODULE="config.settings", STATIC_MANIFEST="false"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    redirect_status, hsts, health_redirect = result.stdout.split("\n")[:3]
    assert redirect_status == "301"
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    assert health_redirect == "None"


@pytest.mark.django_db
def test_the_test_stack_serves_plain_http_like_make_run(client, settings):
    # The tests pass a DATABASE_URL, yet are embedded mode: no redirect, no weak-key refusal.
    assert settings.PRODUCTION is False
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/admin/login/").status_code == 200


def test_the_dotenv_loader_is_skipped_when_database_url_is_set(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("MEMCON_DOTENV_PROBE=from-dotenv\n")
    monkeypatch.delenv("MEMCON_DOTENV_PROBE", raising=False)
    try:
        monkeypatch.setenv("DATABASE_URL", "postgres://memory@db.internal/memory_connector")
        embedded.load_dotenv(env_file)
        assert "MEMCON_DOTENV_PROBE" not in os.environ

        monkeypatch.delenv("DATABASE_URL")
        embedded.load_dotenv(env_file)
        assert os.environ["MEMCON_DOTENV_PROBE"] == "from-dotenv"
    finally:
        os.environ.pop("MEMCON_DOTENV_PROBE", None)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "1"),  # behind the TLS proxy: the client is who the proxy saw
        ({"SECURE_PROXY_SSL_HEADER": "false"}, "0"),  # no proxy: X-Forwarded-For is forged
        ({"TRUSTED_PROXY_COUNT": "2"}, "2"),
    ],
    ids=["behind-proxy", "no-proxy", "explicit"],
)
def test_production_behind_its_proxy_throttles_clients_not_the_proxy(overrides, expected):
    """With no proxy hop trusted, every client would share the proxy's address: one guesser
    would lock everyone out of login (AUTH_THROTTLE_*) and the admin (axes)."""
    show = "from django.conf import settings; print(settings.REST_FRAMEWORK['NUM_PROXIES'])"
    result = manage("shell", "-c", show, env=production_env(**overrides))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected
