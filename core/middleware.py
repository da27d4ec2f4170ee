from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core.problems import problem_response


class RequestBodyLimitMiddleware:
    """Refuse API request bodies over API_MAX_BODY_BYTES with 413 before anything reads them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return problem_response(
                    status_code=400,
                    code="malformed_request",
                    detail="Content-Length is not a number.",
                )
            limit = settings.API_MAX_BODY_BYTES
            if length > limit:
                return problem_response(
                    status_code=413,
                    code="request_too_large",
                    detail=f"The request body is {length} bytes; the limit is {limit} bytes.",
                    limit=limit,
                )
        return self.get_response(request)
