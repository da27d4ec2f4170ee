"""GET /api/v1/export streams its JSON document in chunks, in bounded queries."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import memories.api.views as views
from memories.models import Memory
from memories.tests.factories import MemoryFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def export(api) -> tuple[object, dict, int]:
    """The response, its parsed body, and the queries run while it was read."""
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v1/export")
        content = b"".join(response.streaming_content) if response.streaming else response.content
    return response, json.loads(content), len(queries)


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(views, "EXPORT_CHUNK_SIZE", 3)


def test_the_export_is_streamed_complete_and_valid_json_past_one_chunk(api, user, small_chunks):
    memories = [
        MemoryFactory(user=user, tags=[f"t{n % 4}"], content=f"é {n} \u2028") for n in range(10)
    ]
    response, body, _ = export(api)
    assert response.streaming
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    assert list(body) == ["exported_at", "user", "memories", "reminders", "tags"]
    assert [m["id"] for m in body["memories"]] == [str(m.id) for m in memories]
    assert body["memories"][0]["content"] == "é 0 \u2028"
    assert body["tags"] == ["t0", "t1", "t2", "t3"]
    assert body["user"] == {"id": user.pk, "email": user.email, "time_zone": "UTC"}
    assert body["exported_at"].endswith("Z")


def test_the_reminders_are_streamed_past_one_chunk(api, user, small_chunks):
    from reminders.tests.factories import ReminderFactory

    memory = MemoryFactory(user=user)
    reminders = [ReminderFactory(user=user, memory=memory) for _ in range(7)]
    _, body, _ = export(api)
    assert [r["id"] for r in body["reminders"]] == [str(r.id) for r in reminders]


def test_the_memories_are_shown_as_the_api_shows_them_elsewhere(api, user, small_chunks):
    memory = MemoryFactory(user=user, tags=["a"])
    _, body, _ = export(api)
    assert body["memories"] == [api.get(f"/api/v1/memories/{memory.id}").json()]


def test_the_export_of_no_memories_is_valid_json(api):
    _, body, _ = export(api)
    assert body["memories"] == [] and body["tags"] == []


def test_the_query_count_does_not_grow_with_the_memories(api, user, small_chunks):
    export(api)  # once first: what a first request of a token does (e.g. last use) is done
    for n in range(4):
        MemoryFactory(user=user, content=f"first {n}")
    _, _, few = export(api)
    for n in range(20):
        MemoryFactory(user=user, content=f"more {n}")
    _, body, many = export(api)
    assert len(body["memories"]) == 24
    assert many == few


def test_a_statement_timeout_in_the_first_query_answers_503_not_a_truncated_200(
    api, user, monkeypatch
):
    MemoryFactory(user=user)

    def runaway(*, user):  # the first fetch of the memories outlasts the statement timeout
        return Memory.objects.filter(user=user).extra(where=["pg_sleep(5) IS NOT NULL"])

    monkeypatch.setattr(views, "memory_queryset", runaway)
    with connection.cursor() as cursor:  # as the web process's connections have it
        cursor.execute("SET LOCAL statement_timeout = 100")
    response = api.get("/api/v1/export")
    assert not response.streaming
    assert_problem(response, 503, "query_timeout")


@pytest.mark.django_db(transaction=True)
def test_the_export_reads_through_a_cursor_postgres_does_not_materialize_first(
    api, user, small_chunks
):
    memories = [MemoryFactory(user=user, content=f"m {n}") for n in range(10)]
    chunks = api.get("/api/v1/export").streaming_content
    read = b""
    while str(memories[4].id).encode() not in read:  # past the first chunk (3)
        read += next(chunks)
    with connection.cursor() as cursor:  # the export's cursor is open, more chunks to come
        cursor.execute("SELECT is_holdable FROM pg_cursors")
        cursors = cursor.fetchall()
    read += b"".join(chunks)
    # A WITH HOLD cursor (outside a transaction) runs the whole query before the first fetch.
    assert cursors == [(False,)]
    assert len(json.loads(read)["memories"]) == 10
