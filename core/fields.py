"""Serializer fields whose checks match what the OpenAPI schema says of them, exactly: the
schema is a contract (tests/test_api_fuzz.py holds the API to it both ways)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.validators import RegexValidator
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# The characters Python's str.strip() removes (str.isspace()), as a regex class body that
# Python and ECMA-262 (the schema's pattern dialect) read alike. DRF trims these from strings.
PY_WHITESPACE = r"\t\n\x0b\x0c\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers and booleans instead of converting them (the
    schema says string), and measures max_length before trimming, as the schema's maxLength
    does. DRF's CharField already refuses NUL (Postgres cannot store it)."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


# An absolute http(s) URL: an ASCII host (a browser's `new URL()` gives IDNs in punycode),
# optional port, then anything but spaces and control characters (C0, DEL, C1). Looser than
# Django's URLValidator on purpose: `http://intranet/wiki` and `http://localhost:3000/` are
# links worth remembering, and a long host harms nothing. No userinfo (`user:pw@`).
_HTTP_URL = r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~%!$&'()*+,;=:-]+([/?#][^\x00-\x20\x7f-\x9f]*)?"
HTTP_URL_PATTERN = f"^{_HTTP_URL}$"
HTTP_URL_MAX_LENGTH = 2048


@extend_schema_field(
    {
        "type": "string",
        "maxLength": HTTP_URL_MAX_LENGTH,
        # As sent: spaces around the URL are trimmed, and only spaces are no URL. (The empty
        # string is drf-spectacular's second branch of oneOf, so this one never matches it.)
        "pattern": f"^([{PY_WHITESPACE}]+|[{PY_WHITESPACE}]*{_HTTP_URL}[{PY_WHITESPACE}]*)$",
        "description": "An http or https URL, or empty.",
    }
)
class HttpUrlField(StrictCharField):
    """An http(s) URL or an empty string, checked by HTTP_URL_PATTERN once trimmed."""

    default_error_messages = {"invalid_url": "Enter an http or https URL."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", HTTP_URL_MAX_LENGTH)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)
        self.validators.append(
            RegexValidator(HTTP_URL_PATTERN, message=self.error_messages["invalid_url"])
        )


# A Serializer itself (so that its fields and validate are typed), listed first in the bases
# of the serializer it checks. Its docstring is the schema's description of those serializers.
class PatchBodyMixin(serializers.Serializer):
    """For a PATCH body's serializer: it must name at least one field and only known ones. A
    misspelt field would otherwise change nothing and answer 200 (core/schema.py says so in
    the schema too: additionalProperties false, minProperties 1)."""

    def validate(self, attrs: dict) -> dict:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(f"Unknown fields: {', '.join(unknown)}.")
        if not attrs:
            raise serializers.ValidationError("Send at least one field to change.")
        return super().validate(attrs)


class WallClockDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time. With an offset it is an instant; without one it stays naive: a
    time on the user's wall clock (API.md), which the caller reads in the user's zone."""

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        return value if timezone.is_naive(value) else super().enforce_timezone(value)
