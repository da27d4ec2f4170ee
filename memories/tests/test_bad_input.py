"""Bad input is a 400 (or 413/415) problem+json, never a 500, and stores nothing."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memories.models import Memory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def post_raw(api, body: bytes | str, content_type="application/json"):
    return api.generic("POST", "/api/v1/memories", body, content_type=content_type)


@pytest.mark.parametrize(
    "body",
    [
        '{"content": "unterminated',
        "{'content': 'x'}",
        "[",
        "\x00",
        '{"content": NaN}',
        '{"content": Infinity}',
    ],
)
def test_malformed_json_is_400(api, body):
    body = assert_problem(post_raw(api, body), 400, "malformed_request")
    assert "JSON" in body["detail"]
    assert Memory.objects.count() == 0


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"content": 42}, "content"),
        ({"content": ["a"]}, "content"),
        ({"content": {"a": 1}}, "content"),
        ({"content": True}, "content"),
        ({"content": None}, "content"),
        ({"content": "x", "tags": "not-a-list"}, "tags"),
        ({"content": "x", "tags": [1, 2]}, "tags"),
        ({"content": "x", "kind": "poem"}, "kind"),
        ({"content": "x", "kind": 3}, "kind"),
        ({"content": "x", "url": "not a url"}, "url"),
        ({"content": "x", "title": 7}, "title"),
        ({"content": "x", "title": "t" * 301}, "title"),
        ({"content": "x", "tags": ["t" * 65]}, "tags"),
        ({"content": "x", "tags": [f"t{i}" for i in range(33)]}, "tags"),
    ],
)
def test_wrong_types_are_400_naming_the_field(api, payload, field):
    body = assert_problem(api.post("/api/v1/memories", payload, format="json"), 400, "invalid")
    assert field in body["errors"]
    assert Memory.objects.count() == 0


@pytest.mark.parametrize("payload", ["[]", '"content"', "42", "null", "{}"])
def test_a_body_that_is_not_an_object_with_content_is_400(api, payload):
    assert_problem(post_raw(api, payload), 400, "invalid")


@pytest.mark.parametrize("content", ["", "   ", "\n\t "])
def test_empty_content_is_400(api, content):
    body = assert_problem(
        api.post("/api/v1/memories", {"content": content}, format="json"), 400, "invalid"
    )
    assert "content" in body["errors"]


@pytest.mark.parametrize(
    "payload,field",
    [
        ({"content": "nul \x00 inside"}, "content"),
        ({"content": "ok", "title": "nul\x00"}, "title"),
        ({"content": "ok", "tags": ["a\x00b"]}, "tags"),
    ],
)
def test_nul_characters_are_400(api, payload, field):
    body = assert_problem(api.post("/api/v1/memories", payload, format="json"), 400, "invalid")
    assert field in body["errors"]
    assert Memory.objects.count() == 0


def test_nul_in_a_patch_is_400(api, user):
    from memories.tests.factories import MemoryFactory

    memory = MemoryFactory(user=user)
    response = api.patch(
        f"/api/v1/memories/{memory.id}", {"content": "a\x00"}, format="json", HTTP_IF_MATCH="1"
    )
    assert_problem(response, 400, "invalid")


def test_a_1_mb_content_is_refused_with_413_naming_the_limit(api, settings):
    response = api.post("/api/v1/memories", {"content": "a" * 1_000_000}, format="json")
    body = assert_problem(response, 413, "content_too_large")
    assert body["limit"] == settings.MEMORY_CONTENT_MAX_CHARS == 100_000
    assert Memory.objects.count() == 0


def test_content_at_the_limit_is_accepted(api, settings):
    content = "word " * (settings.MEMORY_CONTENT_MAX_CHARS // 5)
    response = api.post("/api/v1/memories", {"content": content.strip()}, format="json")
    assert response.status_code == 201


def test_a_body_over_the_request_limit_is_413_before_parsing(api, settings):
    body = json.dumps({"content": "b" * (settings.API_MAX_BODY_BYTES + 10)})
    problem = assert_problem(post_raw(api, body), 413, "request_too_large")
    assert problem["limit"] == settings.API_MAX_BODY_BYTES


def test_a_non_json_content_type_is_415(api):
    response = post_raw(api, "content=x", content_type="application/x-www-form-urlencoded")
    assert_problem(response, 415, "unsupported_media_type")


def test_an_unknown_api_path_is_a_problem_404(api):
    assert_problem(api.get("/api/v1/nothing-here"), 404, "not_found")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
payloads = st.fixed_dictionaries(
    {},
    optional={
        "content": json_values,
        "title": json_values,
        "url": json_values,
        "kind": json_values,
        "tags": json_values,
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(payload=payloads | json_values)
def test_no_json_body_makes_the_server_answer_500(api, payload):
    response = api.post("/api/v1/memories", payload, format="json")
    assert response.status_code in (200, 201, 400, 413), (payload, response.content[:300])
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
