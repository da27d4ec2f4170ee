from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.response import Response

Row = TypeVar("Row")

_CURSOR_KEYS = frozenset({"o", "r", "p"})  # offset, reverse, position (DRF's encode_cursor)


class NewestFirstCursorPagination(CursorPagination):
    """`{"results": [...], "next": url|null, "previous": url|null}`, newest first.

    Cursor pagination stays stable while new memories arrive, unlike page numbers. `?limit=`
    over max_page_size is clamped to it (as DRF does), not refused: a client asking for
    "as many as possible" gets the most a page holds, and follows `next`.
    """

    ordering = ("-created_at", "-id")
    page_size_query_param = "limit"
    max_page_size = 200  # docs/api.md; larger asks are clamped to it

    def get_page_size(self, request: Any) -> int | None:
        """`?limit=`: a whole number from 1 (over max_page_size is clamped); anything else is a
        400, where DRF would quietly use the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValidationError({"limit": ["A whole number from 1 is required."]})
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = (
                    f"Page size; over {self.max_page_size} is clamped to {self.max_page_size}."
                )
        return parameters

    def decode_cursor(self, request: Any) -> Cursor | None:
        """The cursor of `?cursor=`, refused with 400 unless it is one this API could have
        made: DRF would take a forged position (not a timestamp) to the database (500), and
        answers 404 for the rest, though a bad cursor is bad input."""
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        invalid = ValidationError({"cursor": ["Invalid cursor."]})
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse_qs(querystring, keep_blank_values=True, strict_parsing=True)
            cursor = super().decode_cursor(request)
        except (UnicodeError, binascii.Error, ValueError, NotFound) as exc:
            raise invalid from exc
        if not tokens or not set(tokens) <= _CURSOR_KEYS or cursor is None:
            raise invalid
        if cursor.position is not None:
            try:
                # The first ordering field's value: a str, as DRF decodes it from `p` (the
                # stubs' `int | None` for Cursor.position is wrong).
                timestamp = parse_datetime(cursor.position)  # type: ignore[arg-type]
            except ValueError as exc:
                raise invalid from exc
            if timestamp is None:
                raise invalid
        return cursor

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


def counted_first_page(
    rows: QuerySet[Any, Row], limit: int, show: Callable[[Row], dict[str, Any]]
) -> dict[str, Any]:
    """`{"count", "results"}`: the first `limit` rows as `show` renders them, and how many rows
    there are in all. A short page is all of them, so the rows are counted only when it is
    full (one query instead of two for the usual short inbox or list)."""
    results = [show(row) for row in rows[:limit]]
    count = len(results) if len(results) < limit else rows.count()
    return {"count": count, "results": results}
