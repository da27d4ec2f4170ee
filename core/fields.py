"""Serializer fields whose checks match what the OpenAPI schema says of them, exactly: the
schema is a contract (tests/test_api_fuzz.py holds the API to it both ways)."""

from __future__ import annotations

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A string field that refuses numbers and booleans instead of converting them (the
    schema says string). DRF's CharField already refuses NUL (Postgres cannot store it)."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# An absolute http(s) URL: an ASCII host (a browser's `new URL()` gives IDNs in punycode),
# optional port, then anything but spaces and control characters (C0, DEL, C1). Looser than
# Django's URLValidator on purpose: `http://intranet/wiki` and `http://localhost:3000/` are
# links worth remembering, and a long host harms nothing. No userinfo (`user:pw@`).
HTTP_URL_PATTERN = (
    r"^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~%!$&'()*+,;=:-]+([/?#][^\x00-\x20\x7f-\x9f]*)?$"
)
HTTP_URL_MAX_LENGTH = 2048


@extend_schema_field(
    {
        "type": "string",
        "maxLength": HTTP_URL_MAX_LENGTH,
        "pattern": HTTP_URL_PATTERN,  # drf-spectacular adds the empty string as oneOf
        "description": "An http or https URL, or empty.",
    }
)
class HttpUrlField(StrictCharField):
    """An http(s) URL or an empty string, checked by HTTP_URL_PATTERN."""

    default_error_messages = {"invalid_url": "Enter an http or https URL."}

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", HTTP_URL_MAX_LENGTH)
        kwargs.setdefault("allow_blank", True)
        # Not trimmed: the pattern refuses surrounding spaces, and the schema says so.
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators.append(
            RegexValidator(HTTP_URL_PATTERN, message=self.error_messages["invalid_url"])
        )
