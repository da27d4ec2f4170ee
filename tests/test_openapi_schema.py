"""/api/schema/ is valid OpenAPI 3 and describes every endpoint of the URLconf's /api/v1/."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

API_PREFIX = "/api/v1/"
UNSAFE_OR_READ = ("get", "post", "put", "patch", "delete")


def _routes(patterns, prefix=""):
    """(route as the client sees it, callback) for every view of the URLconf."""
    for pattern in patterns:
        route = prefix + _as_path(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def _as_path(pattern) -> str:
    """`<str:memory_id>` (path) and `(?P<pk>[^/.]+)` (a router's regex) as `{memory_id}`."""
    if isinstance(pattern, RoutePattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern))
    regex = str(pattern).removeprefix("^").removesuffix("$").removesuffix("\\Z")
    return re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", regex)


def _methods(callback) -> set[str]:
    """The HTTP methods a view answers: a viewset's actions, else the handlers it defines."""
    actions = getattr(callback, "actions", None)
    if actions:
        return set(actions) & set(UNSAFE_OR_READ)
    view = callback.cls
    return {m for m in UNSAFE_OR_READ if m in view.http_method_names and hasattr(view, m)}


def urlconf_operations() -> set[tuple[str, str]]:
    """(method, OpenAPI path) of every view under /api/v1/ in the URLconf: what the schema
    must describe. A pk becomes {id}, as drf-spectacular names it (SCHEMA_COERCE_PATH_PK)."""
    operations = set()
    for route, callback in _routes(get_resolver().url_patterns, "/"):
        if not route.startswith(API_PREFIX):
            continue
        assert hasattr(callback, "cls"), f"{route} is not a DRF view: the schema cannot see it"
        path = route.replace("{pk}", "{id}")
        operations |= {(method, path) for method in _methods(callback)}
    return operations


@pytest.fixture
def schema(anon_client):
    response = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


def test_schema_describes_every_endpoint_of_the_urlconf_and_no_other(schema):
    expected = urlconf_operations()
    # The walk itself finds what API.md lists, router and path() views alike.
    assert {
        ("post", "/api/v1/memories"),
        ("patch", "/api/v1/memories/{id}"),
        ("post", "/api/v1/memories/{id}/restore"),
        ("get", "/api/v1/search"),
        ("get", "/api/v1/usage"),
        ("get", "/api/v1/health"),
        ("post", "/api/v1/reminders/{reminder_id}/snooze"),
    } <= expected
    described = {
        (method, path)
        for path, operations in schema["paths"].items()
        if path.startswith(API_PREFIX)
        for method in operations
        if method in UNSAFE_OR_READ
    }
    assert sorted(expected - described) == [], "missing from the schema"
    assert sorted(described - expected) == [], "in the schema, not in the URLconf"


def test_schema_describes_problem_answers_and_the_if_match_header(schema):
    patch = schema["paths"]["/api/v1/memories/{id}"]["patch"]
    assert {"200", "404", "412", "428"} <= set(patch["responses"])
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])
    assert "Problem" in schema["components"]["schemas"]


def test_schema_declares_bearer_and_session_auth(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert "cookieAuth" in schemes


def test_api_docs_page_is_served_with_local_assets(anon_client):
    response = anon_client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr" not in html  # no internet needed to read the docs
