"""RFC 9457 problem details: the one error format of the API.

Every error answers `application/problem+json` with `type`, `title`, `status`, `detail` and a
machine-readable `code`, plus fields particular to the problem (`errors`, `current`, `limit`…).
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from django.db import DatabaseError
from django.http import Http404, JsonResponse
from psycopg.errors import QueryCanceled
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://memory-connector.dev/problems/"

_CODES_BY_EXCEPTION: dict[type[Exception], str] = {
    exceptions.ParseError: "malformed_request",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ValidationError: "invalid",
    exceptions.Throttled: "rate_limited",
}


class Problem(exceptions.APIException):
    """An API error with its own status, code, extra fields and response headers."""

    def __init__(
        self,
        *,
        status_code: int,
        code: str,
        detail: str,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.problem_code = code
        self.title = title
        self.headers = headers or {}
        self.extra = extra


def problem_body(
    *, status_code: int, code: str, detail: str, title: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.replace("_", "-"),
        "title": title or _default_title(status_code),
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    body.update(extra)
    return body


def problem_response(
    *,
    status_code: int,
    code: str,
    detail: str,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JsonResponse:
    """A problem answer outside DRF (middleware, Django's 404/500 handlers)."""
    body = problem_body(status_code=status_code, code=code, detail=detail, title=title, **extra)
    response = JsonResponse(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _default_title(status_code: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return "Error"


def _flatten_detail(detail: Any) -> str:
    if isinstance(detail, list):
        return " ".join(_flatten_detail(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_flatten_detail(value)}" for key, value in detail.items())
    return str(detail)


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: DRF's own handling, re-shaped as problem+json."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DatabaseError) and isinstance(exc.__cause__, QueryCanceled):
        # DB_STATEMENT_TIMEOUT_MS stopped a runaway query (config/wsgi.py): the server is
        # overloaded or the request too broad, not broken. DRF marks the transaction for
        # rollback, as for any exception it handles.
        exc = Problem(
            status_code=503,
            code="query_timeout",
            detail="The request took too long in the database and was stopped; retry later.",
            headers={"Retry-After": "5"},
        )
    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 handler answers (also problem+json)

    if isinstance(exc, Problem):
        body = problem_body(
            status_code=exc.status_code,
            code=exc.problem_code,
            detail=str(exc.detail),
            title=exc.title,
            **exc.extra,
        )
    elif isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        body = problem_body(
            status_code=status.HTTP_400_BAD_REQUEST,
            code="invalid",
            detail=_flatten_detail(errors),
            title="Invalid request",
            errors=errors,
        )
    elif isinstance(exc, exceptions.Throttled):
        # A DRF throttle (core.throttles): the same answer as billing's rate_problem, with
        # Retry-After rounded up (DRF's handler truncates exc.wait).
        retry_after = math.ceil(getattr(exc, "wait", None) or 1)
        body = problem_body(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            code="rate_limited",
            title="Too many requests",
            detail=f"Too many requests; retry in {retry_after} s.",
            retry_after=retry_after,
        )
        response["Retry-After"] = str(retry_after)
    else:
        code = next(
            (c for klass, c in _CODES_BY_EXCEPTION.items() if isinstance(exc, klass)),
            getattr(exc, "default_code", "error"),
        )
        body = problem_body(
            status_code=response.status_code,
            code=code,
            detail=_flatten_detail(
                response.data.get("detail", response.data)
                if isinstance(response.data, dict)
                else response.data
            ),
        )
    if isinstance(exc, Problem):
        for name, value in exc.headers.items():
            response[name] = value
    response.data = body
    response.content_type = PROBLEM_CONTENT_TYPE
    return response


class ProblemSerializer(serializers.Serializer):
    """Schema of a problem+json body, for the OpenAPI document."""

    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    # DRF's metaclass takes declared fields out of the class, so this does not hide
    # Serializer.errors at run time; the stubs cannot know that.
    errors = serializers.DictField(required=False, help_text="Field errors, on 400 invalid.")  # type: ignore[assignment]


def id_or_404(value: str) -> uuid.UUID:
    """A path's id as a UUID; anything else names nothing there is: a 404, not a 400."""
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise Http404 from exc
