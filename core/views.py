from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from core.health import run_checks
from core.problems import problem_response

_health_schema = inline_serializer(
    "Health",
    {
        "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
        "checks": serializers.DictField(child=serializers.DictField()),
    },
)


@extend_schema(
    operation_id="health",
    responses={200: _health_schema, 503: OpenApiResponse(_health_schema, "A dependency failed")},
    auth=[],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def health(request: Request) -> Response:
    """Database, Redis and broker reachability. No authentication."""
    ok, checks = run_checks()
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    if not ok:
        body["failing"] = [name for name, result in checks.items() if not result["ok"]]
    response = Response(body, status=200 if ok else 503)
    response["Cache-Control"] = "no-store"
    return response


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
