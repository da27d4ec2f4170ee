import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Reminder(models.Model):
    """A time to bring a memory back (DESIGN §6): set by its owner, or detected in its text.

    `remind_at` is when it is due next: the occurrence (`occurrence_at`), or a snooze. The
    wall-clock date and time it was set for in `time_zone` are kept apart from the instant,
    so a recurring 09:00 stays 09:00 local across DST changes.
    """

    class State(models.TextChoices):
        SCHEDULED = "scheduled"
        DUE = "due"  # in the inbox
        SNOOZED = "snoozed"
        DONE = "done"
        DISMISSED = "dismissed"

    class Source(models.TextChoices):
        USER = "user"
        DETECTED = "detected"

    PENDING_STATES = (State.SCHEDULED, State.SNOOZED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reminders",
        db_index=False,  # reminder_user_state leads with it
    )
    memory = models.ForeignKey(
        "memories.Memory", on_delete=models.CASCADE, related_name="reminders"
    )
    remind_at = models.DateTimeField()
    occurrence_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64)
    # The first occurrence on the wall clock of time_zone: the start of a recurrence.
    local_date = models.DateField()
    local_time = models.TimeField()
    recurrence = models.CharField(max_length=500, blank=True, default="")
    state = models.CharField(max_length=10, choices=State.choices, default=State.SCHEDULED)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.USER)
    phrase = models.CharField(max_length=300, blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The beat's scan: pending reminders by due time, nothing else.
            models.Index(
                fields=["remind_at"],
                name="reminder_pending_by_time",
                condition=Q(state__in=["scheduled", "snoozed"]),
            ),
            # A user's inbox (due, oldest first) and lists by state.
            models.Index(fields=["user", "state", "remind_at"], name="reminder_user_state"),
        ]

    def __str__(self) -> str:
        return f"{self.state} reminder at {self.remind_at:%Y-%m-%d %H:%M} UTC"
