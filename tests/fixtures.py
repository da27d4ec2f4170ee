"""Fixtures shared by every app's tests (loaded by the root conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from celery import current_app
from django.test import Client
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from accounts.tests.factories import TokenFactory, UserFactory
from core.redis import state_redis
from tests.alerts import purge_queued_alerts
from tests.fake_openai import FakeVendor


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def staff_client(db):
    """A superuser's admin session (Django's test client)."""
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


def bearer_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {TokenFactory(user=user).key}")
    return client


@pytest.fixture
def client_for():
    """client_for(user) -> an APIClient authenticated with the user's Bearer token."""
    return bearer_client


@pytest.fixture
def api(user) -> APIClient:
    return bearer_client(user)


@pytest.fixture(autouse=True)
def _default_plans_exist(request, django_db_blocker):
    """Transactional tests (live_server, gunicorn) flush every table, data migrations included.

    Before each database test, put the default plans and the near-duplicates seed (flag and
    calibration) back if a flush removed them, so every test starts from the migrated state.
    """
    uses_db = request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if uses_db:
        from billing.migrations import _default_plans
        from duplicates.migrations import _seed as near_duplicates_seed

        request.getfixturevalue("django_db_setup")
        with django_db_blocker.unblock():
            _default_plans.ensure()
            near_duplicates_seed.ensure()
    yield


@pytest.fixture(autouse=True)
def _no_throttle_counts_from_earlier_tests():
    """Per-IP and per-email throttle counters (core.throttles) outlive a test in Redis, and
    every test client calls from 127.0.0.1: each test starts with none."""
    redis = state_redis()
    for key in redis.scan_iter("throttle:*"):
        redis.delete(key)
    yield


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never `playwright install`: it cannot download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
    _wait_for_the_servers_requests_to_end()


def _wait_for_the_servers_requests_to_end(timeout: float = 10) -> None:
    """Closing the context stops its pages and service worker, not a request gunicorn is
    still serving for them; the transactional test's flush (TRUNCATE) would deadlock with
    it. So wait, a while at most, until no other connection to the test database is busy."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    try:
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND state <> 'idle'"
                )
                if not cursor.fetchone()[0]:
                    return
                time.sleep(0.05)
    except RuntimeError:  # a test without database access: nothing of it to wait for
        return


@pytest.fixture(scope="session")
def gunicorn_server(django_db_setup, tmp_path_factory):
    """The app under real gunicorn (4 workers x 8 threads), on the test database.

    Tests that use it must commit their data: mark them django_db(transaction=True).
    """
    from django.db import connection

    from embedded import servers

    db = connection.settings_dict
    port = servers.free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "0",
    }
    log_path = tmp_path_factory.mktemp("gunicorn") / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "4",
                "--threads",
                "8",
                "--graceful-timeout",
                "2",
            ],
            cwd=Path(__file__).resolve().parent.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:  # whatever happens, no gunicorn outlives the run
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                if requests.get(f"{url}/api/v1/health", timeout=5).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass  # not up yet, or slow to boot on a busy machine: ask until the deadline
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.2)
        yield url
    finally:
        servers.stop(process, sig=15)


# The AI side: a fake OpenAI (and Slack) server, and Redis state cleaned between tests.


@pytest.fixture
def clean_ai_state():
    """Breaker, budget counters and alert flags live in Redis, and queued alerts in the
    broker: a test that uses this starts without them."""
    for redis in (get_redis_connection("default"), state_redis()):
        for pattern in ("breaker:*", "aibudget:*", "alert:*", "enrichment:*", "search:*"):
            for key in redis.scan_iter(pattern):
                redis.delete(key)
    purge_queued_alerts()
    # As a worker starts: every app's tasks.py imported (Celery's autodiscovery is lazy), so
    # deliver_queued_alerts finds core.tasks.deliver_alert whichever test runs first.
    current_app.loader.import_default_modules()
    yield


@pytest.fixture
def vendor():
    fake = FakeVendor()
    yield fake
    fake.stop()


@pytest.fixture
def openai_fake(vendor, settings):
    """The app talks to the fake OpenAI server, and posts alerts to its fake Slack."""
    settings.AI_PROVIDER = "openai"
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_BASE_URL = vendor.url + "/v1"
    # Generous: under load (a full run on two cores, mutation testing) a 2 s timeout cut
    # answers the fake had sent, and the text was embedded twice. Stall tests set their own.
    settings.OPENAI_TIMEOUT_SECONDS = 10
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    settings.SLACK_API_URL = vendor.url + "/api/"
    settings.AI_BREAKER_FAILURES = 3
    settings.AI_BREAKER_WINDOW_SECONDS = 60
    settings.AI_BREAKER_COOLDOWN_SECONDS = 1
    return vendor


@pytest.fixture
def searches_unlimited(user, other_user):
    """For tests that search far more than a plan's searches_per_minute allows."""
    from billing.models import Plan

    plan, _ = Plan.objects.get_or_create(name="search-unlimited")
    for person in (user, other_user):
        person.plan = plan
        person.save(update_fields=["plan"])


@pytest.fixture
def redis_down(settings):
    """The cache's Redis (breaker, budgets, alert claims, kick flag) does not answer."""
    from django.core.cache import caches

    unreachable = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
    settings.CACHES = {"default": unreachable, "state": unreachable}
    caches.close_all()


@pytest.fixture
def broker_empty():
    """No task left in the broker by an earlier test reaches this test's worker."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    yield


def pytest_collection_finish(session):
    """Under `make mutate`, mutmut's fork server collects the tests once and forks a child per
    mutant from it; loading the local model here spares each child the ~4 s of loading it.
    One torch thread: children run side by side, and no thread pool is started before fork."""
    if not (session.config.option.collectonly and os.environ.get("MEMCON_MUTATION")):
        return
    import torch

    from ai.providers.local import LocalProvider
    from ai.providers.registry import get_provider

    torch.set_num_threads(1)
    get_provider(LocalProvider.configured_spec())._model  # noqa: B018 (loads it)


# Under `make mutate` (mutmut runs the tests from mutants/): the test that failed on each
# mutant, one JSON line each, so the next mutant of the same function tries it first.
_MUTANT_KILLERS = Path("mutmut-killers.jsonl")


def _mutated_function() -> str | None:
    """The function whose mutant this process tests (mutmut's name without `__mutmut_N`)."""
    mutant = os.environ.get("MUTANT_UNDER_TEST", "")
    return mutant.rsplit("__mutmut_", 1)[0] if "__mutmut_" in mutant else None


def pytest_collection_modifyitems(config, items):
    """Under `make mutate`, a mutant's tests run in the order likeliest to kill it soon (mutmut
    stops at the first failure): those that killed other mutants of the same function, then
    the tests of the function's own app, each quickest first (times from mutmut's record)."""
    function = _mutated_function()
    if function is None:
        return
    record = Path("mutmut-stats.json")
    durations = json.loads(record.read_text())["duration_by_test"] if record.exists() else {}
    killers = _MUTANT_KILLERS.read_text().splitlines() if _MUTANT_KILLERS.exists() else []
    kills = Counter(
        killer["test"] for killer in map(json.loads, killers) if killer["function"] == function
    )
    own_app = function.split(".", 1)[0] + "/"
    items.sort(
        key=lambda item: (
            -kills[item.nodeid],
            not item.nodeid.startswith(own_app),
            durations.get(item.nodeid, 0.0),
        )
    )


def pytest_runtest_logreport(report):
    if report.failed and (function := _mutated_function()):
        with _MUTANT_KILLERS.open("a") as killers:  # one short append: whole lines
            killers.write(json.dumps({"function": function, "test": report.nodeid}) + "\n")
