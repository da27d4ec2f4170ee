"""Writes on reminders. Views and tasks call these; nothing else writes a Reminder."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from memories.models import Memory
from memories.selectors import memory_get
from reminders.detection import detect_reminder, mentions_reminder
from reminders.models import Reminder
from reminders.recurrence import next_occurrence, to_utc, validate_recurrence
from reminders.selectors import reminder_get


class ReminderInPast(ValueError):
    """A reminder or a snooze for a time that has passed."""


class ReminderEnded(Exception):
    """The reminder is done or dismissed: it cannot be snoozed back."""


ENDED_STATES = (Reminder.State.DONE, Reminder.State.DISMISSED)


class TooManyReminders(Exception):
    """The memory has REMINDERS_PER_MEMORY pending reminders already."""


def _wall_clock(when: dt.datetime, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """(the instant in UTC, the wall-clock time in `zone`) of `when`: a naive `when` is a time
    on the user's wall clock (API.md), an aware one an instant."""
    if timezone.is_naive(when):
        return to_utc(when, zone), when
    instant = when.astimezone(dt.UTC)
    return instant, instant.astimezone(zone).replace(tzinfo=None)


def _future(instant: dt.datetime, now: dt.datetime, what: str) -> None:
    if instant <= now:
        raise ReminderInPast(f"{what} must be in the future.")


def reminder_create(
    *,
    user: User,
    memory_id: uuid.UUID,
    remind_at: dt.datetime,
    recurrence: str | None = None,
    source: str = Reminder.Source.USER,
    phrase: str = "",
    now: dt.datetime | None = None,
) -> Reminder:
    """Schedule a reminder of one of the user's live memories (Memory.DoesNotExist otherwise).

    Raises ReminderInPast, ValueError for a bad RRULE, TooManyReminders."""
    now = now or timezone.now()
    memory = memory_get(user=user, memory_id=memory_id)
    zone = ZoneInfo(user.time_zone)
    instant, local = _wall_clock(remind_at, zone)
    _future(instant, now, "remind_at")
    rule = validate_recurrence(recurrence) if recurrence else ""
    with transaction.atomic():
        # Counted under the memory's row lock, so concurrent creates cannot pass the cap.
        Memory.objects.select_for_update().filter(pk=memory.pk).exists()
        pending = Reminder.objects.filter(memory=memory, state__in=Reminder.PENDING_STATES)
        if pending.count() >= settings.REMINDERS_PER_MEMORY:
            raise TooManyReminders(memory.pk)
        return Reminder.objects.create(
            user=user,
            memory=memory,
            remind_at=instant,
            occurrence_at=instant,
            time_zone=user.time_zone,
            local_date=local.date(),
            local_time=local.time(),
            recurrence=rule,
            source=source,
            phrase=phrase[:300],
        )


def reminder_update(
    *,
    user: User,
    reminder_id: uuid.UUID,
    changes: dict,
    now: dt.datetime | None = None,
) -> Reminder:
    """Move a reminder (`remind_at`) and/or change its `recurrence` ("" or None: once). A moved
    reminder is scheduled again, whatever its state was."""
    now = now or timezone.now()
    reminder = reminder_get(user=user, reminder_id=reminder_id)
    if "recurrence" in changes:
        reminder.recurrence = (
            validate_recurrence(changes["recurrence"]) if changes["recurrence"] else ""
        )
    if "remind_at" in changes:
        zone = ZoneInfo(user.time_zone)
        instant, local = _wall_clock(changes["remind_at"], zone)
        _future(instant, now, "remind_at")
        reminder.remind_at = reminder.occurrence_at = instant
        reminder.time_zone = user.time_zone
        reminder.local_date, reminder.local_time = local.date(), local.time()
        reminder.state = Reminder.State.SCHEDULED
        reminder.delivered_at = None
    reminder.updated_at = now
    reminder.save()
    return reminder


def reminder_delete(*, user: User, reminder_id: uuid.UUID) -> None:
    deleted, _ = Reminder.objects.filter(user=user, pk=reminder_id).delete()
    if not deleted:
        raise Reminder.DoesNotExist(reminder_id)


def _local_start(reminder: Reminder) -> dt.datetime:
    return dt.datetime.combine(reminder.local_date, reminder.local_time)


def reminder_done(
    *, user: User, reminder_id: uuid.UUID, now: dt.datetime | None = None
) -> Reminder:
    """Done: a recurring reminder is scheduled for its next occurrence after now (missed ones
    are skipped), a single one (or a finished series) is done."""
    now = now or timezone.now()
    reminder = reminder_get(user=user, reminder_id=reminder_id)
    if reminder.state in ENDED_STATES:  # a repeat, or a dismissed series: nothing comes back
        return reminder
    upcoming = None
    if reminder.recurrence:
        upcoming = next_occurrence(
            reminder.recurrence,
            local_start=_local_start(reminder),
            time_zone=ZoneInfo(reminder.time_zone),
            after=max(reminder.occurrence_at, now),
        )
    if upcoming is None:
        reminder.state = Reminder.State.DONE
    else:
        reminder.state = Reminder.State.SCHEDULED
        reminder.remind_at = reminder.occurrence_at = upcoming
        reminder.delivered_at = None
    reminder.updated_at = now
    reminder.save()
    return reminder


def reminder_dismiss(*, user: User, reminder_id: uuid.UUID) -> Reminder:
    """Dismissed: this reminder (and its series) will not come back."""
    reminder = reminder_get(user=user, reminder_id=reminder_id)
    if reminder.state in ENDED_STATES:
        return reminder
    reminder.state = Reminder.State.DISMISSED
    reminder.updated_at = timezone.now()
    reminder.save(update_fields=["state", "updated_at"])
    return reminder


def reminder_snooze(
    *, user: User, reminder_id: uuid.UUID, until: dt.datetime, now: dt.datetime | None = None
) -> Reminder:
    """Out of the inbox until `until` (naive: the user's wall clock); then due again. A
    recurring reminder's series goes on from its occurrence, not from the snooze."""
    now = now or timezone.now()
    reminder = reminder_get(user=user, reminder_id=reminder_id)
    if reminder.state in ENDED_STATES:
        raise ReminderEnded(reminder.pk)
    instant, _local = _wall_clock(until, ZoneInfo(user.time_zone))
    _future(instant, now, "until")
    reminder.state = Reminder.State.SNOOZED
    reminder.remind_at = instant
    reminder.delivered_at = None
    reminder.updated_at = now
    reminder.save()
    return reminder


# The beat's delivery: one statement moves a batch of due reminders into their inboxes. A row
# is moved by whichever run locks it first; a concurrent run skips locked rows and finds the
# state changed on the others, so each reminder is delivered once, and a run killed midway
# rolls back its statement whole (the next run delivers those). The batch is picked in a
# MATERIALIZED CTE: as an `IN (subquery)`, a nested-loop plan re-runs the subquery per row and
# SKIP LOCKED then skips the rows this statement already updated, so LIMIT stops limiting.
_DELIVER_SQL = """
WITH picked AS MATERIALIZED (
    SELECT id FROM reminders_reminder
    WHERE state IN ('scheduled', 'snoozed') AND remind_at <= %(now)s
    ORDER BY remind_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE reminders_reminder AS r
SET state = 'due', delivered_at = %(now)s, updated_at = %(now)s
FROM picked
WHERE r.id = picked.id
"""


def reminders_deliver_due(*, now: dt.datetime | None = None, batch: int = 5000) -> int:
    """Move every reminder due by `now` into its user's inbox, a batch per transaction;
    returns how many were delivered. Reminders missed while nothing ran are delivered on the
    next run (their answer says `overdue`)."""
    now = now or timezone.now()
    delivered = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_DELIVER_SQL, {"now": now, "limit": batch})
            moved = cursor.rowcount
        delivered += moved
        if moved < batch:
            return delivered


def detect_reminder_later(memory: Memory, *, edited: bool = False) -> None:
    """Queue detection for a saved memory (reminders.tasks.detect_reminder, after commit) when
    its text has a trigger, or, after an edit, when it had a detected reminder the edit may
    have removed. The common save, with no trigger, costs one regex."""
    if not mentions_reminder(memory.content) and not (
        edited
        and Reminder.objects.filter(
            memory=memory, source=Reminder.Source.DETECTED, state=Reminder.State.SCHEDULED
        ).exists()
    ):
        return
    relative_to = timezone.now().isoformat() if edited else None
    transaction.on_commit(
        lambda: current_app.send_task(
            "reminders.tasks.detect_reminder", args=[str(memory.pk), relative_to]
        )
    )


def reminder_detect(*, memory: Memory, relative_to: dt.datetime | None = None) -> Reminder | None:
    """Detect the reminder the memory's text asks for ("remind me Friday at 9") and keep its
    detected reminder in step: created, moved, or deleted when the phrase is gone. Never
    touches a reminder its owner set, nor one that has already fired. Times are read relative
    to `relative_to` (the memory's creation by default; an edit's time after an edit)."""
    user = memory.user
    zone = ZoneInfo(user.time_zone)
    found = detect_reminder(
        memory.content,
        created_at=relative_to or memory.created_at,
        time_zone=zone,
        default_hour=settings.REMINDER_DEFAULT_HOUR,
    )
    with transaction.atomic():
        scheduled = Reminder.objects.select_for_update().filter(
            memory=memory, source=Reminder.Source.DETECTED, state=Reminder.State.SCHEDULED
        )
        current = list(scheduled)
        if found is None or found.remind_at <= timezone.now():
            scheduled.delete()
            return None
        same = [
            r
            for r in current
            if r.occurrence_at == found.remind_at
            and r.recurrence == (found.recurrence or "")
            and r.phrase == found.phrase[:300]
        ]
        if same:
            scheduled.exclude(pk=same[0].pk).delete()
            return same[0]
        scheduled.delete()
        fired = Reminder.objects.filter(
            memory=memory,
            source=Reminder.Source.DETECTED,
            occurrence_at=found.remind_at,
            phrase=found.phrase[:300],
        )
        if fired.exists():  # already delivered, done or dismissed: not again
            return None
        return Reminder.objects.create(
            user=user,
            memory=memory,
            remind_at=found.remind_at,
            occurrence_at=found.remind_at,
            time_zone=user.time_zone,
            local_date=found.local_time.date(),
            local_time=found.local_time.time(),
            recurrence=found.recurrence or "",
            source=Reminder.Source.DETECTED,
            phrase=found.phrase[:300],
        )


def reminders_move(
    *,
    user: User,
    from_memory_id: uuid.UUID,
    to_memory_id: uuid.UUID,
    reminder_ids: list[uuid.UUID] | None = None,
) -> list[uuid.UUID]:
    """Move a memory's reminders (all of them, or those of `reminder_ids` still on it) to
    another memory of the user, in whatever state they are; returns the ids moved. A merge of
    near-duplicates moves them, and its undo moves them back. The caller holds both memories'
    locks."""
    moved = Reminder.objects.filter(user=user, memory_id=from_memory_id)
    if reminder_ids is not None:
        moved = moved.filter(pk__in=reminder_ids)
    ids = list(moved.values_list("pk", flat=True))
    if ids:
        Reminder.objects.filter(pk__in=ids).update(
            memory_id=to_memory_id, updated_at=timezone.now()
        )
    return ids
