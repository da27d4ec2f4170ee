"""Forged cursors, NUL characters and deeply nested JSON are bad input: 400, never a 500."""

import base64
import json
from urllib.parse import urlencode

import pytest

from memories.models import Memory
from memories.tests.factories import MemoryFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

# Every list paginated by core.pagination.NewestFirstCursorPagination.
CURSOR_LISTS = ["/api/v1/memories"]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


FORGED_CURSORS = [
    "%%%not-base64%%%",
    b64("garbage, not a query string"),
    b64("p=yesterday"),
    b64("p=2026-13-45T99:99:99"),
    b64("o=1&p=not-a-time"),
    b64("r=1&p=\x00"),
    b64("p=2026-01-01T00:00:00Z&x=1"),
    b64("o=-3"),
]


@pytest.mark.parametrize("path", CURSOR_LISTS)
@pytest.mark.parametrize("cursor", FORGED_CURSORS)
def test_a_forged_cursor_is_400(api, user, path, cursor):
    MemoryFactory(user=user)
    response = api.get(f"{path}?{urlencode({'cursor': cursor})}")
    assert_problem(response, 400, "invalid")


@pytest.mark.parametrize("path", CURSOR_LISTS)
def test_a_cursor_the_api_made_still_works(api, user, path):
    for _ in range(3):
        MemoryFactory(user=user)
    first = api.get(f"{path}?limit=2").json()
    second = api.get(first["next"])
    assert second.status_code == 200
    assert len(second.json()["results"]) == 1


@pytest.mark.parametrize("param", ["tag", "kind"])
def test_a_nul_in_a_list_filter_is_400(api, param):
    response = api.get(f"/api/v1/memories?{param}=%00")
    assert_problem(response, 400, "invalid")


@pytest.mark.parametrize("param", ["q", "tag"])
def test_a_nul_in_a_search_parameter_is_400(api, param):
    query = {"q": "tomato", param: "to\x00mato"}
    response = api.get(f"/api/v1/search?{urlencode(query)}")
    assert_problem(response, 400, "invalid")


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"content": "a\x00b"}, "content"),
        ({"content": "x", "title": "a\x00b"}, "title"),
        ({"content": "x", "tags": ["a\x00b"]}, "tags"),
        ({"content": "x", "url": "https://example.com/\x00"}, "url"),
    ],
)
def test_a_nul_in_a_memory_field_is_400_on_create_and_update(api, user, payload, field):
    created = api.post("/api/v1/memories", payload, format="json")
    assert field in assert_problem(created, 400, "invalid")["errors"]
    memory = MemoryFactory(user=user)
    updated = api.patch(f"/api/v1/memories/{memory.id}", payload, format="json", HTTP_IF_MATCH="1")
    assert field in assert_problem(updated, 400, "invalid")["errors"]
    assert Memory.objects.count() == 1


def nested(depth: int) -> str:
    return '{"content": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_deeply_nested_json_is_400(api, depth):
    response = api.generic(
        "POST", "/api/v1/memories", nested(depth), content_type="application/json"
    )
    body = assert_problem(response, 400, "malformed_request")
    assert "nest" in body["detail"]
    assert Memory.objects.count() == 0


def test_json_nested_beyond_the_limit_is_400_even_when_python_could_parse_it(api, settings):
    response = api.generic("POST", "/api/v1/memories", nested(65), content_type="application/json")
    assert_problem(response, 400, "malformed_request")


def test_json_nested_within_the_limit_reaches_validation(api):
    body = json.loads(nested(3))
    response = api.post("/api/v1/memories", body, format="json")
    assert "content" in assert_problem(response, 400, "invalid")["errors"]


def test_deeply_nested_json_with_an_idempotency_key_is_400(api):
    response = api.generic(
        "POST",
        "/api/v1/memories",
        nested(100_000),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="deep",
    )
    assert_problem(response, 400, "malformed_request")
