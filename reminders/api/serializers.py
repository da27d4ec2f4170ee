from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from core.fields import PatchBodyMixin, WallClockDateTimeField
from reminders.models import Reminder
from reminders.selectors import EXCERPT_CHARS, InboxRow


def is_overdue(*, delivered_at, remind_at) -> bool:
    """Delivered well after its time: the service was down, or beat was."""
    if delivered_at is None:
        return False
    late = delivered_at - remind_at
    return late.total_seconds() > settings.REMINDER_OVERDUE_AFTER_SECONDS


def excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


class ReminderSerializer(serializers.ModelSerializer):
    # Any field: the inbox's item shows the memory itself (InboxItemSerializer).
    memory: serializers.Field = serializers.UUIDField(source="memory_id", read_only=True)
    recurrence = serializers.SerializerMethodField(help_text="An RRULE, or null: once")
    phrase = serializers.SerializerMethodField(
        help_text="The text it was detected from, or null (set by the user)"
    )
    overdue = serializers.SerializerMethodField(
        help_text="Delivered well after its time (the service was down)"
    )

    class Meta:
        model = Reminder
        fields = [
            "id",
            "memory",
            "remind_at",
            "time_zone",
            "recurrence",
            "state",
            "source",
            "phrase",
            "overdue",
            "created_at",
        ]
        read_only_fields = fields

    def get_recurrence(self, reminder: Reminder) -> str | None:
        return reminder.recurrence or None

    def get_phrase(self, reminder: Reminder) -> str | None:
        return reminder.phrase or None

    def get_overdue(self, reminder: Reminder) -> bool:
        return is_overdue(delivered_at=reminder.delivered_at, remind_at=reminder.remind_at)


class InboxMemorySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    excerpt = serializers.SerializerMethodField()
    url = serializers.CharField()

    def get_excerpt(self, memory) -> str:
        return excerpt(memory.content)


class InboxItemSerializer(ReminderSerializer):
    memory = InboxMemorySerializer(read_only=True)

    class Meta(ReminderSerializer.Meta):
        pass


def inbox_item(row: InboxRow) -> dict[str, Any]:
    """An inbox row (reminders.selectors.reminders_inbox) as InboxItemSerializer shows it,
    without building models or fields for each: the renderer writes the datetimes and UUIDs
    as DRF's fields do (ISO 8601, UTC as Z; the UUID as text)."""
    return {
        "id": row["id"],
        "memory": {
            "id": row["memory_id"],
            "title": row["memory__title"],
            "excerpt": excerpt(row["excerpt"]),
            "url": row["memory__url"],
        },
        "remind_at": row["remind_at"],
        "time_zone": row["time_zone"],
        "recurrence": row["recurrence"] or None,
        "state": row["state"],
        "source": row["source"],
        "phrase": row["phrase"] or None,
        "overdue": is_overdue(delivered_at=row["delivered_at"], remind_at=row["remind_at"]),
        "created_at": row["created_at"],
    }


class InboxSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Every due reminder (the badge)")
    results = InboxItemSerializer(many=True, help_text="Oldest first, up to `limit`")


class ReminderCreateSerializer(serializers.Serializer):
    remind_at = WallClockDateTimeField(
        help_text="An instant with an offset, or a wall-clock time (no offset) in the user's "
        "time zone; must be in the future"
    )
    recurrence = serializers.CharField(
        max_length=500,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="An RFC 5545 RRULE, such as FREQ=WEEKLY;BYDAY=MO (no DTSTART: it starts at "
        "remind_at); daily or rarer",
    )


class ReminderUpdateSerializer(PatchBodyMixin, ReminderCreateSerializer):
    remind_at = WallClockDateTimeField(required=False)


class SnoozeSerializer(serializers.Serializer):
    until = WallClockDateTimeField(
        help_text="When it is due again: an instant, or a wall-clock time in the user's zone"
    )


class ReminderListParamsSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=Reminder.State.choices,
        required=False,
        help_text="Only this state (default: scheduled and snoozed)",
    )


class InboxParamsSerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=500, default=100)
