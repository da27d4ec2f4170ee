"""Migration 0003 hashes the DRF tokens that exist: their holders keep working."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

BEFORE = [("accounts", "0001_initial"), ("authtoken", "0004_alter_tokenproxy_options")]


@pytest.mark.django_db(transaction=True)
def test_an_existing_drf_token_keeps_working_and_is_no_longer_stored_in_plaintext():
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    plan = old.get_model("billing", "Plan").objects.get(name="free")
    user = old.get_model("accounts", "User").objects.create(email="old@example.com", plan=plan)
    key = "0123456789abcdef0123456789abcdef01234567"
    old.get_model("authtoken", "Token").objects.create(key=key, user_id=user.pk)

    executor = MigrationExecutor(connection)  # reload the graph's applied state
    executor.migrate(latest)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.get("/api/v1/me")
    assert response.status_code == 200, response.content
    assert response.json()["email"] == "old@example.com"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
