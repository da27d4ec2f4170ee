"""The Memories endpoints of API.md: create, list, get, patch, delete, export."""

import json

import pytest

from memories.models import Memory
from memories.tests.factories import MemoryFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

MEMORY_FIELDS = {
    "id",
    "kind",
    "title",
    "content",
    "url",
    "tags",
    "category",
    "summary",
    "version",
    "enrichment_status",
    "duplicate_of",
    "created_at",
    "updated_at",
}


def test_create_answers_201_with_every_field_of_the_contract(api, user):
    response = api.post(
        "/api/v1/memories",
        {
            "content": "Read the pgvector docs",
            "title": "pgvector",
            "url": "https://example.com/pg",
            "kind": "link",
            "tags": ["Databases", "search", "databases", "  "][:3],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == MEMORY_FIELDS | {"duplicate"}
    assert body["duplicate"] is False
    assert body["kind"] == "link"
    assert body["tags"] == ["databases", "search"]
    assert body["version"] == 1
    assert body["enrichment_status"] == "pending"
    assert body["duplicate_of"] is None
    assert response["ETag"] == '"1"'
    memory = Memory.objects.get(pk=body["id"])
    assert memory.user == user
    assert len(memory.content_hash) == 64


def test_create_defaults_to_a_note(api):
    body = api.post("/api/v1/memories", {"content": "just a thought"}, format="json").json()
    assert body["kind"] == "note"
    assert body["tags"] == [] and body["title"] == "" and body["url"] == ""


def test_list_is_newest_first_and_only_mine(api, user, other_user):
    older = MemoryFactory(user=user, content="older")
    newer = MemoryFactory(user=user, content="newer")
    MemoryFactory(user=other_user, content="someone else's")
    body = api.get("/api/v1/memories").json()
    assert [m["id"] for m in body["results"]] == [str(newer.id), str(older.id)]
    assert body["next"] is None


def test_list_pages_with_a_cursor_without_gaps_or_repeats(api, user):
    created = [MemoryFactory(user=user) for _ in range(7)]
    seen, url = [], "/api/v1/memories?limit=3"
    while url:
        body = api.get(url).json()
        seen += [m["id"] for m in body["results"]]
        url = body["next"]
    assert seen == [str(m.id) for m in reversed(created)]


def test_list_filters_by_kind_and_tag(api, user):
    link = MemoryFactory(user=user, kind="link", tags=["reading"])
    MemoryFactory(user=user, kind="note", tags=["reading"])
    MemoryFactory(user=user, kind="link", tags=["work"])
    body = api.get("/api/v1/memories?kind=link&tag=Reading").json()
    assert [m["id"] for m in body["results"]] == [str(link.id)]


@pytest.mark.parametrize(
    "query", ["kind=poem", "cursor=not-a-cursor", "limit=abc", "limit=0", "limit=-1", "limit=2.5"]
)
def test_list_answers_400_for_bad_parameters(api, user, query):
    MemoryFactory(user=user)  # a page to answer with, were the parameter ignored
    response = api.get(f"/api/v1/memories?{query}")
    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == [query.split("=")[0]]  # it names the parameter at fault


def test_get_answers_with_an_etag_of_the_version(api, user):
    memory = MemoryFactory(user=user, version=4)
    response = api.get(f"/api/v1/memories/{memory.id}")
    assert response.status_code == 200
    assert response["ETag"] == '"4"'
    assert response.json()["id"] == str(memory.id)


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_memory_is_404_for_get_patch_and_delete(api, other_user, method):
    theirs = MemoryFactory(user=other_user, content="private")
    kwargs = {"data": {"title": "mine now"}, "format": "json", "HTTP_IF_MATCH": '"1"'}
    response = getattr(api, method)(
        f"/api/v1/memories/{theirs.id}", **(kwargs if method == "patch" else {})
    )
    assert_problem(response, 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.title == "" and theirs.deleted_at is None and theirs.version == 1


@pytest.mark.parametrize("memory_id", ["5f0c9a1e-2b7d-4c3e-9a61-0d8e4b2f7c15", "not-a-uuid", "1"])
def test_unknown_or_malformed_ids_are_404(api, memory_id):
    assert_problem(api.get(f"/api/v1/memories/{memory_id}"), 404, "not_found")


def test_patch_with_the_current_version_applies_and_bumps_the_version(api, user):
    memory = MemoryFactory(user=user, content="first draft")
    response = api.patch(
        f"/api/v1/memories/{memory.id}",
        {"content": "second draft", "tags": ["Draft"]},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 2 and body["content"] == "second draft"
    assert body["tags"] == ["draft"]
    assert response["ETag"] == '"2"'
    memory.refresh_from_db()
    assert memory.content == "second draft"
    assert memory.enrichment_status == "pending"


def test_patch_accepts_a_bare_version_number(api, user):
    memory = MemoryFactory(user=user)
    response = api.patch(
        f"/api/v1/memories/{memory.id}", {"title": "t"}, format="json", HTTP_IF_MATCH="1"
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2


def test_patch_with_a_stale_version_is_412_with_the_server_copy(api, user):
    memory = MemoryFactory(user=user, content="server text")
    api.patch(
        f"/api/v1/memories/{memory.id}",
        {"content": "edit on phone"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    response = api.patch(
        f"/api/v1/memories/{memory.id}",
        {"content": "edit on laptop"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    body = assert_problem(response, 412, "version_conflict")
    assert body["current"]["content"] == "edit on phone"
    assert body["current"]["version"] == 2
    memory.refresh_from_db()
    assert memory.content == "edit on phone"


def test_patch_without_if_match_is_428_and_changes_nothing(api, user):
    memory = MemoryFactory(user=user, content="keep me")
    response = api.patch(f"/api/v1/memories/{memory.id}", {"content": "lost?"}, format="json")
    assert_problem(response, 428, "precondition_required")
    memory.refresh_from_db()
    assert memory.content == "keep me" and memory.version == 1


@pytest.mark.parametrize("header", ["*", 'W/"1"', "one", '"1", "2"', ""])
def test_patch_with_a_malformed_if_match_is_400(api, user, header):
    memory = MemoryFactory(user=user)
    response = api.patch(
        f"/api/v1/memories/{memory.id}", {"title": "x"}, format="json", HTTP_IF_MATCH=header
    )
    assert_problem(response, 400, "invalid_if_match")


def test_patch_with_no_fields_is_400(api, user):
    memory = MemoryFactory(user=user)
    response = api.patch(f"/api/v1/memories/{memory.id}", {}, format="json", HTTP_IF_MATCH="1")
    assert_problem(response, 400, "invalid")


def test_delete_is_soft_and_hides_the_memory_everywhere(api, user):
    memory = MemoryFactory(user=user)
    assert api.delete(f"/api/v1/memories/{memory.id}").status_code == 204
    memory.refresh_from_db()
    assert memory.deleted_at is not None  # the row is kept
    assert_problem(api.get(f"/api/v1/memories/{memory.id}"), 404, "not_found")
    assert api.get("/api/v1/memories").json()["results"] == []
    assert_problem(api.delete(f"/api/v1/memories/{memory.id}"), 404, "not_found")
    assert_problem(
        api.patch(
            f"/api/v1/memories/{memory.id}", {"title": "x"}, format="json", HTTP_IF_MATCH="2"
        ),
        404,
        "not_found",
    )


def test_put_is_not_allowed(api, user):
    memory = MemoryFactory(user=user)
    response = api.put(f"/api/v1/memories/{memory.id}", {"content": "x"}, format="json")
    assert_problem(response, 405, "method_not_allowed")


def test_export_has_all_my_live_memories_and_tags_only(api, user, other_user):
    first = MemoryFactory(user=user, tags=["b", "a"])
    second = MemoryFactory(user=user, tags=["a"])
    MemoryFactory(user=user, tags=["deleted-tag"], deleted_at="2026-01-01T00:00:00Z")
    MemoryFactory(user=other_user, tags=["secret"])
    response = api.get("/api/v1/export")
    assert response.status_code == 200
    body = json.loads(b"".join(response.streaming_content))  # streamed (docs/api.md)
    assert [m["id"] for m in body["memories"]] == [str(first.id), str(second.id)]
    assert body["tags"] == ["a", "b"]
    assert body["user"] == {"id": user.id, "email": user.email, "time_zone": "UTC"}
    assert body["reminders"] == []
    assert "attachment" in response["Content-Disposition"]


def test_export_has_my_reminders_of_every_state_and_no_one_elses(api, user, other_user):
    from reminders.tests.factories import ReminderFactory

    memory = MemoryFactory(user=user)
    scheduled = ReminderFactory(user=user, memory=memory, recurrence="FREQ=WEEKLY")
    done = ReminderFactory(user=user, memory=memory, state="done")
    ReminderFactory(user=other_user)
    ReminderFactory(user=user, memory=MemoryFactory(user=user, deleted_at="2026-01-01T00:00:00Z"))

    body = json.loads(b"".join(api.get("/api/v1/export").streaming_content))

    assert [r["id"] for r in body["reminders"]] == [str(scheduled.id), str(done.id)]
    assert body["reminders"][0]["memory"] == str(memory.id)
    assert body["reminders"][0]["recurrence"] == "FREQ=WEEKLY"
    assert body["reminders"][1]["state"] == "done"


@pytest.mark.parametrize(
    "path,method",
    [("/api/v1/memories", "get"), ("/api/v1/memories", "post"), ("/api/v1/export", "get")],
)
def test_memories_endpoints_answer_401_without_credentials(anon_client, path, method):
    response = getattr(anon_client, method)(path)
    assert_problem(response, 401, "not_authenticated")
