from __future__ import annotations

import copy

from django.conf import settings
from rest_framework import serializers

from core.fields import HttpUrlField, PatchBodyMixin, StrictCharField, WallClockDateTimeField
from core.problems import Problem
from memories.models import Memory
from memories.normalization import MAX_TAG_LENGTH, MAX_TAGS
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
    if child is not None:
        copied.child = _field_copy(child)
        copied.child.parent = copied  # the rest of its binding (name, source) is the same
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


class MemoryCreateSerializer(MemoryWriteSerializer):
    remind_at = WallClockDateTimeField(
        required=False,
        help_text="Remind me then: creates a reminder with the memory (an instant, or a "
        "wall-clock time in the user's time zone; must be in the future)",
    )


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
