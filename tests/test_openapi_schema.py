"""/api/schema/ is valid OpenAPI 3 and describes every endpoint of API.md built so far."""

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

API_MD_OPERATIONS = [
    ("post", "/api/v1/auth/signup"),
    ("post", "/api/v1/auth/token"),
    ("get", "/api/v1/me"),
    ("post", "/api/v1/memories"),
    ("get", "/api/v1/memories"),
    ("get", "/api/v1/memories/{id}"),
    ("patch", "/api/v1/memories/{id}"),
    ("delete", "/api/v1/memories/{id}"),
    ("get", "/api/v1/export"),
    ("get", "/api/v1/health"),
]


@pytest.fixture
def schema(anon_client):
    response = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_valid_openapi_3(schema):
    assert schema["openapi"].startswith("3.")
    validate(schema)


@pytest.mark.parametrize("method,path", API_MD_OPERATIONS)
def test_schema_lists_every_endpoint(schema, method, path):
    assert method in schema["paths"].get(path, {}), f"{method.upper()} {path} missing"


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
