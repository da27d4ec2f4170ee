"""GET /api/v1/health against real dependencies, including a Redis the test stops."""

import tempfile
from pathlib import Path

import pytest

from embedded import servers

pytestmark = pytest.mark.django_db


def test_health_is_ok_with_every_check_and_needs_no_auth(anon_client):
    response = anon_client.get("/api/v1/health")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "broker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["database"]["pgvector"].startswith("0.8")
    assert response["Cache-Control"] == "no-store"


def test_health_reports_a_pgvector_older_than_0_8_4(anon_client):
    # The embedded stack ships pgvector 0.8.2, which has the HNSW vacuum bug fixed in 0.8.4.
    database = anon_client.get("/api/v1/health").json()["checks"]["database"]
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


def test_health_answers_503_naming_redis_when_redis_is_stopped(anon_client, own_redis):
    assert anon_client.get("/api/v1/health").status_code == 200

    servers.stop(own_redis)

    response = anon_client.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "redis" in body["failing"]
    assert body["checks"]["redis"]["ok"] is False
    assert "Connection" in body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["ok"] is True
    # The broker is that same Redis here, so it fails too.
    assert body["checks"]["broker"]["ok"] is False


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
