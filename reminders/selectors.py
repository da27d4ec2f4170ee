"""Reads of reminders: always one user's, and only of their live memories."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import TypedDict

from django.db.models import QuerySet
from django.db.models.functions import Left

from accounts.models import User
from reminders.models import Reminder


def reminder_queryset(*, user: User) -> QuerySet[Reminder]:
    """The user's reminders of memories that are not deleted (a deleted memory's reminders
    come back with an undo)."""
    return Reminder.objects.filter(user=user, memory__deleted_at__isnull=True)


def reminder_get(*, user: User, reminder_id: uuid.UUID) -> Reminder:
    """Raises Reminder.DoesNotExist for another user's, or a deleted memory's, reminder."""
    return reminder_queryset(user=user).get(pk=reminder_id)


def reminder_list(*, user: User, states: Iterable[str]) -> QuerySet[Reminder]:
    """The user's reminders in `states`, soonest first."""
    return reminder_queryset(user=user).filter(state__in=list(states)).order_by("remind_at", "id")


# How much of a memory's text the inbox shows; one more is read to know it was cut.
EXCERPT_CHARS = 280


class InboxRow(TypedDict):
    """A row of reminders_inbox."""

    id: uuid.UUID
    memory_id: uuid.UUID
    remind_at: dt.datetime
    time_zone: str
    recurrence: str
    state: str
    source: str
    phrase: str
    delivered_at: dt.datetime | None
    created_at: dt.datetime
    memory__title: str
    memory__url: str
    excerpt: str


def reminders_inbox(*, user: User) -> QuerySet[Reminder, InboxRow]:
    """Due reminders, oldest first, as rows (dicts) of what the inbox answer shows, each with
    its memory's title, url and the start of its text (`excerpt`, cut in SQL: a memory may
    hold 100,000 characters). One query and no model instances: the inbox is read often
    (bench/reminders.py)."""
    return (
        reminder_queryset(user=user)
        .filter(state=Reminder.State.DUE)
        .order_by("remind_at", "id")
        .annotate(excerpt=Left("memory__content", EXCERPT_CHARS + 1))
        .values(
            "id",
            "memory_id",
            "remind_at",
            "time_zone",
            "recurrence",
            "state",
            "source",
            "phrase",
            "delivered_at",
            "created_at",
            "memory__title",
            "memory__url",
            "excerpt",
        )
    )


def reminders_of_memory(*, user: User, memory_id: uuid.UUID) -> QuerySet[Reminder]:
    """A memory's pending and due reminders, soonest first."""
    return (
        reminder_queryset(user=user)
        .filter(
            memory_id=memory_id,
            state__in=[*Reminder.PENDING_STATES, Reminder.State.DUE],
        )
        .order_by("remind_at", "id")
    )


def reminders_for_export(*, user: User) -> QuerySet[Reminder]:
    """Every reminder of the user's live memories, in any state, oldest first."""
    return reminder_queryset(user=user).order_by("created_at", "id")
