"""Request body parsers: DRF's JSON parser, bounded in how deeply a body may nest."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No request of the API nests more than a few levels; 64 leaves room and keeps every later
# walk of the data (validation, canonical JSON of the idempotency fingerprint) shallow.
JSON_MAX_DEPTH = 64


def json_depth_exceeds(data: Any, limit: int = JSON_MAX_DEPTH) -> bool:
    """True if `data` (parsed JSON) nests containers more than `limit` deep. Iterative, so
    checking a deep document cannot itself overflow the stack."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children: Iterable[Any]
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class DepthLimitedJSONParser(JSONParser):
    """JSONParser that answers 400 for a body nested past JSON_MAX_DEPTH: the json module
    raises RecursionError (not a ValueError, so DRF would answer 500) at about 1,000 levels,
    and anything between is no request of ours."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the body is nested too deeply.") from exc
        if json_depth_exceeds(data):
            raise ParseError(
                f"JSON parse error - the body is nested more than {JSON_MAX_DEPTH} levels deep."
            )
        return data
