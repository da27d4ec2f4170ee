"""POST /memories/{id}/restore: undo a delete made in the last 30 days (API.md)."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from billing.models import Plan
from memories.models import Memory
from memories.tests.factories import MemoryFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def save(client, content: str) -> dict:
    response = client.post("/api/v1/memories", {"content": content}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def restore(client, memory_id):
    return client.post(f"/api/v1/memories/{memory_id}/restore")


def test_restore_brings_a_deleted_memory_back_one_version_on(api):
    saved = save(api, "A note to bring back")
    assert api.delete(f"/api/v1/memories/{saved['id']}").status_code == 204

    response = restore(api, saved["id"])

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == saved["id"] and body["content"] == "A note to bring back"
    assert body["version"] == saved["version"] + 2  # one for the delete, one for the restore
    assert response["ETag"] == f'"{body["version"]}"'
    assert [m["id"] for m in api.get("/api/v1/memories").json()["results"]] == [saved["id"]]
    # Its embeddings went with the delete: it is enriched again.
    assert body["enrichment_status"] == "pending"


def test_restore_of_a_live_memory_is_404(api, user):
    memory = MemoryFactory(user=user)
    assert_problem(restore(api, memory.id), 404, "not_found")


def test_restore_of_another_users_memory_is_404(api, other_user):
    memory = MemoryFactory(user=other_user, deleted_at=timezone.now())
    assert_problem(restore(api, memory.id), 404, "not_found")
    memory.refresh_from_db()
    assert memory.deleted_at is not None


def test_restore_after_30_days_is_404(api):
    saved = save(api, "Old news")
    api.delete(f"/api/v1/memories/{saved['id']}")
    with time_machine.travel(timezone.now() + dt.timedelta(days=30, minutes=1)):
        assert_problem(restore(api, saved["id"]), 404, "not_found")
    with time_machine.travel(timezone.now() + dt.timedelta(days=29, hours=23)):
        assert restore(api, saved["id"]).status_code == 200


def test_restore_of_a_bad_id_is_404(api):
    assert_problem(restore(api, "not-a-uuid"), 404, "not_found")


def test_restore_when_the_same_content_was_saved_again_is_409(api):
    first = save(api, "Saved twice")
    api.delete(f"/api/v1/memories/{first['id']}")
    second = save(api, "Saved twice")

    body = assert_problem(restore(api, first["id"]), 409, "duplicate_content")

    assert body["duplicate_of"] == second["id"]
    assert Memory.objects.get(pk=first["id"]).deleted_at is not None


def test_restore_takes_a_memory_slot_and_is_402_when_none_is_left(api, user):
    user.plan = Plan.objects.create(name="two-slots", max_memories=2)
    user.save()
    first = save(api, "one")
    api.delete(f"/api/v1/memories/{first['id']}")
    two = save(api, "two")
    save(api, "three")

    body = assert_problem(restore(api, first["id"]), 402, "quota_exceeded")
    assert body["limit_name"] == "max_memories"
    assert Memory.objects.get(pk=first["id"]).deleted_at is not None

    api.delete(f"/api/v1/memories/{two['id']}")
    assert restore(api, first["id"]).status_code == 200
    # The restored memory holds the freed slot again.
    response = api.post("/api/v1/memories", {"content": "four"}, format="json")
    assert_problem(response, 402, "quota_exceeded")
