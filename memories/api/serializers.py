from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import json
import uuid

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from core.fields import HttpUrlField, PatchBodyMixin, StrictCharField, WallClockDateTimeField
from core.problems import Problem
from memories.models import Memory
from memories.normalization import MAX_TAG_LENGTH, MAX_TAGS
from memories.selectors import ChangesCursor
from reminders.api.serializers import ReminderSerializer


class MemorySerializer(serializers.Serializer):
    """A memory as the API shows it. Fields are declared rather than introspected from the
    model: this serializer is on every hot path, and ModelSerializer rebuilds its fields from
    the model on each use."""

    id = serializers.UUIDField(read_only=True)
    kind = serializers.ChoiceField(choices=Memory.Kind.choices, read_only=True)
    title = serializers.CharField(read_only=True)
    content = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    category = serializers.CharField(read_only=True)
    summary = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    enrichment_status = serializers.ChoiceField(
        choices=Memory.EnrichmentStatus.choices, read_only=True
    )
    duplicate_of = serializers.UUIDField(source="duplicate_of_id", read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


# Built once: a serializer deep-copies its declared fields on every instantiation, which costs
# more than the rest of a save's Python work. Reading a memory changes no serializer state.
_MEMORY_REPRESENTATION = MemorySerializer()


def memory_representation(memory: Memory) -> dict:
    """A memory as MemorySerializer shows it."""
    return _MEMORY_REPRESENTATION.to_representation(memory)


class MemorySaveSerializer(MemorySerializer):
    duplicate = serializers.BooleanField(
        read_only=True,
        help_text="true when the same content was saved before and this is that memory",
    )


def _check_content_size(value: str) -> str:
    limit = settings.MEMORY_CONTENT_MAX_CHARS
    if len(value) > limit:
        raise Problem(
            status_code=413,
            code="content_too_large",
            detail=f"content is {len(value)} characters; the limit is {limit}.",
            limit=limit,
        )
    return value


def _field_copy(field: serializers.Field) -> serializers.Field:
    """A copy of a declared field for one serializer instance: shallow, with a list's child
    copied and bound to the copy too (so its root is this serializer). Serializers keep state
    (their data and errors), so one nested anywhere is deep-copied as DRF does."""
    child = getattr(field, "child", None)
    if isinstance(field, serializers.BaseSerializer) or isinstance(
        child, serializers.BaseSerializer
    ):
        return copy.deepcopy(field)
    copied = copy.copy(field)
    # The fields with a child besides serializers (deep-copied above): ListField, DictField.
    if isinstance(copied, serializers.ListField | serializers.DictField):
        copied.child = _field_copy(copied.child)
        # The rest of its binding (name, source) is the same. DRF binds a child to its list or
        # dict field (the stubs type a parent as a serializer only).
        copied.child.parent = copied  # type: ignore[assignment]
    return copied


class MemoryWriteSerializer(serializers.Serializer):
    """Fields a client may set."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # DRF deep-copies the declared fields for every instance, which rebuilds each one
        # from its arguments: ~70 us a save, more than validating the input. These fields
        # keep no state while validating (their validators and choices are only read), so a
        # shallow copy, bound to this serializer, is enough (see _field_copy).
        return {name: _field_copy(field) for name, field in self._declared_fields.items()}

    content = StrictCharField(allow_blank=False)
    title = StrictCharField(required=False, allow_blank=True, max_length=300)
    url = HttpUrlField(required=False)
    kind = serializers.ChoiceField(choices=Memory.Kind.choices, required=False)
    tags = serializers.ListField(
        child=StrictCharField(max_length=MAX_TAG_LENGTH, allow_blank=False),
        required=False,
        max_length=MAX_TAGS,
    )

    def validate_content(self, value: str) -> str:
        return _check_content_size(value)


# A memory saved offline is sent later with the time the user pressed Save (PWA.md). A time
# ahead of the server's clock is allowed this much, for a device's clock running fast; later
# than that it is a mistake, and would keep the memory at the top of the list for good.
CREATED_AT_CLOCK_SKEW = dt.timedelta(minutes=5)
CREATED_AT_EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class InstantField(serializers.DateTimeField):
    """An ISO 8601 date-time with an offset (RFC 3339, as the schema's date-time says): an
    instant. Without an offset it is refused rather than guessed."""

    default_error_messages = {"naive": "Include an offset, such as 2026-05-01T09:30:00+02:00."}

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class MemoryCreateSerializer(MemoryWriteSerializer):
    remind_at = WallClockDateTimeField(
        required=False,
        help_text="Remind me then: creates a reminder with the memory (an instant, or a "
        "wall-clock time in the user's time zone; must be in the future)",
    )
    created_at = InstantField(
        required=False,
        help_text="When the user saved it (a save queued offline is sent later), with an "
        "offset; default now. From 2000-01-01 to at most 5 minutes ahead of the server's clock",
    )

    def validate_created_at(self, value: dt.datetime) -> dt.datetime:
        if value < CREATED_AT_EARLIEST:
            raise serializers.ValidationError("Must be 2000-01-01 or later.")
        if value > timezone.now() + CREATED_AT_CLOCK_SKEW:
            raise serializers.ValidationError(
                "Must not be in the future (more than 5 minutes ahead of the server's clock)."
            )
        return value


class MemoryUpdateSerializer(PatchBodyMixin, MemoryWriteSerializer):
    content = StrictCharField(allow_blank=False, required=False)


class ConflictSerializer(serializers.Serializer):
    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField()
    current = MemorySerializer()


class ExportSerializer(serializers.Serializer):
    exported_at = serializers.DateTimeField()
    user = serializers.DictField()
    memories = MemorySerializer(many=True)
    reminders = ReminderSerializer(many=True)
    tags = serializers.ListField(child=serializers.CharField())


class MemoryListParamsSerializer(serializers.Serializer):
    """The list's filters. A CharField refuses NUL, which Postgres cannot compare (500)."""

    kind = serializers.ChoiceField(choices=Memory.Kind.choices, required=False)
    tag = StrictCharField(max_length=MAX_TAG_LENGTH, required=False)


class SearchParamsSerializer(serializers.Serializer):
    q = StrictCharField(max_length=500)
    mode = serializers.ChoiceField(
        choices=["auto", "semantic", "keyword", "hybrid"], default="auto"
    )
    limit = serializers.IntegerField(min_value=1, max_value=50, default=20)
    kind = serializers.ChoiceField(choices=Memory.Kind.choices, required=False)
    tag = StrictCharField(max_length=64, required=False)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class SearchHitSerializer(serializers.Serializer):
    memory = MemorySerializer()
    score = serializers.FloatField()
    snippet = serializers.CharField(help_text="HTML-escaped text with <mark> around matches")


class SearchResultSerializer(serializers.Serializer):
    mode_used = serializers.ChoiceField(choices=["hybrid", "semantic", "keyword"])
    degraded = serializers.BooleanField(
        help_text="true when the requested kind of search could not run and full-text answered"
    )
    results = SearchHitSerializer(many=True)


# The changes feed's cursor: urlsafe base64 (unpadded) of compact JSON. Opaque to clients;
# the version lets its format change without misreading an older one.
CHANGES_CURSOR_VERSION = 1
_CHANGES_CURSOR_KEYS = frozenset({"v", "t", "i", "r", "m", "f"})


def changes_cursor_expired() -> Problem:
    return Problem(
        status_code=410,
        code="cursor_expired",
        title="Cursor expired",
        detail="This changes cursor is unknown or too old; start over with a full sync "
        "(GET /api/v1/memories/changes without `since`) and replace the copy on the device.",
    )


def changes_cursor_encode(cursor: ChangesCursor) -> str:
    document = {
        "v": CHANGES_CURSOR_VERSION,
        "t": cursor.updated_at.isoformat(),
        "i": str(cursor.id),
        "r": cursor.run_started_at.isoformat(),
        "m": int(cursor.more),
        "f": int(cursor.full_sync),
    }
    raw = json.dumps(document, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _aware(value: object) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError(value)
    parsed = dt.datetime.fromisoformat(value)
    if timezone.is_naive(parsed):
        raise ValueError(value)
    return parsed


def changes_cursor_decode(encoded: str) -> ChangesCursor:
    """The cursor a changes page handed out; 410 cursor_expired for anything else, and for
    one issued more than CHANGES_CURSOR_MAX_AGE_DAYS ago (deletions are kept that long)."""
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_", validate=True)
        document = json.loads(raw)
        if not isinstance(document, dict) or set(document) != _CHANGES_CURSOR_KEYS:
            raise ValueError(document)
        flags = (document["m"], document["f"])
        if document["v"] != CHANGES_CURSOR_VERSION or not set(flags) <= {0, 1}:
            raise ValueError(document)
        cursor = ChangesCursor(
            updated_at=_aware(document["t"]),
            id=uuid.UUID(str(document["i"])),
            run_started_at=_aware(document["r"]),
            more=bool(document["m"]),
            full_sync=bool(document["f"]),
        )
    except (UnicodeError, binascii.Error, ValueError, TypeError, OverflowError) as exc:
        raise changes_cursor_expired() from exc
    now = timezone.now()
    max_age = dt.timedelta(days=settings.CHANGES_CURSOR_MAX_AGE_DAYS)
    # One from the future was not made here (an hour allows for the hosts' clocks).
    if not now - max_age <= cursor.run_started_at <= now + dt.timedelta(hours=1):
        raise changes_cursor_expired()
    return cursor


class ChangesParamsSerializer(serializers.Serializer):
    since = serializers.CharField(
        required=False,
        help_text="The `cursor` of the previous answer; leave out for a full sync. An unknown "
        "cursor, or one older than 30 days, is 410 cursor_expired: start over without it.",
    )
    limit = serializers.IntegerField(
        min_value=1,
        max_value=1000,
        default=500,
        help_text="Rows per page, changes and deleted together",
    )

    def validate(self, attrs: dict) -> dict:
        # Decoded once every field is valid: a bad `limit` is a 400 whatever the cursor,
        # never hidden behind the cursor's 410.
        if "since" in attrs:
            attrs["since"] = changes_cursor_decode(attrs["since"])
        return attrs


class ChangesSerializer(serializers.Serializer):
    changes = MemorySerializer(many=True, help_text="Live memories written since the cursor")
    deleted = serializers.ListField(
        child=serializers.UUIDField(),
        help_text="Ids of memories deleted (or merged into another) since the cursor",
    )
    cursor = serializers.CharField(help_text="Send as `since` next time")
    more = serializers.BooleanField(help_text="More rows follow: ask again at once with `cursor`")
