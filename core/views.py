from __future__ import annotations

from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from core.health import checks_without_detail, run_checks
from core.problems import problem_response

_health_schema = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "checks": serializers.DictField(child=serializers.DictField()),
    },
)


class HealthSessionAuthentication(SessionAuthentication):
    """The admin's session, read only to show staff the checks' detail. When the database is
    down the session cannot be read: the caller is anonymous then, and the answer a 503 rather
    than a 500."""

    def authenticate(self, request: Request):  # type: ignore[override]
        try:
            return super().authenticate(request)
        except DatabaseError:
            return None


@extend_schema(
    operation_id="health",
    responses={200: _health_schema, 503: OpenApiResponse(_health_schema, "A dependency failed")},
    auth=[],
)
@api_view(["GET"])
@authentication_classes([HealthSessionAuthentication])
@permission_classes([AllowAny])
def health(request: Request) -> Response:
    """Database, Redis and broker reachability. No authentication; staff signed in to the
    admin also see versions, timings and error texts."""
    ok, checks = run_checks()
    if not (request.user and request.user.is_staff):
        checks = checks_without_detail(checks)
    body: dict[str, Any] = {"status": "ok" if ok else "unavailable", "checks": checks}
    if not ok:
        body["failing"] = [name for name, result in checks.items() if not result["ok"]]
    response = Response(body, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI at /api/docs/ under the site's strict Content-Security-Policy: the split view
    serves its initialiser as a script of its own (`?script`) instead of an inline one, and
    the page's inline style carries the request's nonce."""

    template_name = "api_docs/swagger_ui.html"


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return problem_response(
        status_code=404, code="not_found", detail=f"No API endpoint at {request.path}."
    )


def api_server_error(request: HttpRequest) -> JsonResponse:
    return problem_response(
        status_code=500,
        code="server_error",
        detail="An unexpected error happened; it has been logged.",
    )
