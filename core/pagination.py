from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response


class NewestFirstCursorPagination(CursorPagination):
    """`{"results": [...], "next": url|null, "previous": url|null}`, newest first.

    Cursor pagination stays stable while new memories arrive, unlike page numbers.
    """

    ordering = ("-created_at", "-id")
    page_size_query_param = "limit"
    max_page_size = 200

    def decode_cursor(self, request: Any) -> Any:
        try:
            return super().decode_cursor(request)
        except Exception as exc:  # DRF answers 404 for a bad cursor; it is bad input.
            raise ValidationError({"cursor": ["Invalid cursor."]}) from exc

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {"results": data, "next": self.get_next_link(), "previous": self.get_previous_link()}
        )

    def get_paginated_response_schema(self, schema: dict) -> dict:
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
            },
        }
