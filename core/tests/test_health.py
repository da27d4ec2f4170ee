"""GET /api/v1/health against real dependencies, including a Redis the test stops."""

import tempfile
from pathlib import Path

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory
from embedded import servers

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    """A staff member's browser session (the admin's), which sees the checks' detail."""
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    return client


def test_health_is_ok_with_every_check_and_needs_no_auth(anon_client):
    response = anon_client.get("/api/v1/health")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "broker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert response["Cache-Control"] == "no-store"


def test_anonymous_callers_see_which_checks_pass_but_no_versions(anon_client):
    checks = anon_client.get("/api/v1/health").json()["checks"]
    # Versions and transports tell an attacker which known bugs to try: staff only.
    assert checks == {name: {"ok": True} for name in ("database", "redis", "broker")}


def test_a_signed_in_user_who_is_not_staff_sees_no_detail(user):
    client = Client()
    client.force_login(user)
    checks = client.get("/api/v1/health").json()["checks"]
    assert "pgvector" not in checks["database"]


def test_staff_see_the_pgvector_version_and_timings(staff_client):
    response = staff_client.get("/api/v1/health")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"]["pgvector"].startswith("0.8")
    assert checks["broker"]["transport"] == "redis"
    assert all("ms" in check for check in checks.values())


def test_health_reports_a_pgvector_older_than_0_8_4(staff_client):
    # The embedded stack ships pgvector 0.8.2, which has the HNSW vacuum bug fixed in 0.8.4.
    database = staff_client.get("/api/v1/health").json()["checks"]["database"]
    if tuple(int(p) for p in database["pgvector"].split(".")) < (0, 8, 4):
        assert "0.8.4" in database["warning"]
    else:
        assert "warning" not in database


@pytest.fixture
def own_redis(settings):
    """A Redis of this test's own, so stopping it leaves the suite's Redis alone."""
    port = servers.free_port()
    with tempfile.TemporaryDirectory() as directory:
        process = servers.spawn_redis(port, Path(directory), persistent=False)
        servers.wait_for_port(port, process=process)
        url = f"redis://127.0.0.1:{port}/0"
        settings.CACHES = {
            "default": {**settings.CACHES["default"], "LOCATION": url},
            "state": {**settings.CACHES["state"], "LOCATION": url.replace("/0", "/2")},
        }
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/1"
        yield process
        servers.stop(process)


def test_health_answers_503_naming_redis_when_redis_is_stopped(
    anon_client, staff_client, own_redis
):
    assert anon_client.get("/api/v1/health").status_code == 200

    servers.stop(own_redis)

    response = anon_client.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "redis" in body["failing"]
    assert body["checks"]["redis"] == {"ok": False}  # no exception text for anonymous callers
    assert body["checks"]["database"]["ok"] is True
    # The broker is that same Redis here, so it fails too.
    assert body["checks"]["broker"]["ok"] is False

    staff = staff_client.get("/api/v1/health")
    assert staff.status_code == 503
    assert "Connection" in staff.json()["checks"]["redis"]["error"]


def test_health_answers_503_naming_the_database_when_it_is_unreachable(anon_client, settings):
    from django.db import connection

    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = servers.free_port()  # nothing listens there
    try:
        response = anon_client.get("/api/v1/health")
    finally:
        connection.close()
        connection.settings_dict.update(original)
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert response.json()["checks"]["database"] == {"ok": False}


def test_a_staff_session_while_the_database_is_down_still_gets_503_not_500(staff_client):
    from django.db import connection

    original = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict["PORT"] = servers.free_port()  # the session cannot be read either
    try:
        response = staff_client.get("/api/v1/health")
    finally:
        connection.close()
        connection.settings_dict.update(original)
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
