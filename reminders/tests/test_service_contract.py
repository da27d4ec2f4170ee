"""What callers of reminders.services rely on beyond the API's happy paths: what each write
keeps, what its errors name, which rows it touches, and how it holds up against a concurrent
write."""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from memories.tests.factories import MemoryFactory
from reminders.models import Reminder
from reminders.services import (
    ReminderEnded,
    TooManyReminders,
    detect_reminder_later,
    reminder_create,
    reminder_delete,
    reminder_detect,
    reminder_dismiss,
    reminder_snooze,
    reminders_deliver_due,
    reminders_move,
)
from reminders.tests.factories import ReminderFactory
from tests.queues import take_queued
from tests.workers import wait_until

NOW = dt.datetime(2026, 3, 5, 13, 20, tzinfo=dt.UTC)  # Thursday, 14:20 in Berlin
FRIDAY_5PM = dt.datetime(2026, 3, 6, 16, 0, tzinfo=dt.UTC)  # 17:00 in Berlin
LATER = NOW + dt.timedelta(days=2)


@pytest.fixture
def queued_tasks(broker_empty):
    """take() -> the (task name, args) of the messages waiting in the broker's default queue,
    taken off it (so no later worker runs them)."""

    def take() -> list[tuple[str, list]]:
        return take_queued(django_settings.CELERY_TASK_DEFAULT_QUEUE)

    yield take
    take()


def _someone_waits_for_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(  # this test database only: parallel workers share the server
            "SELECT count(*) FROM pg_locks JOIN pg_stat_activity USING (pid)"
            " WHERE NOT granted AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def _outcome_racing(work, *, while_holding):
    """Run `while_holding` in the test's transaction, then `work` in a connection of its own,
    and commit once `work` is done or seen waiting for a lock: what `work` returned or raised."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            while_holding()
            racing = pool.submit(_in_its_own_connection(work))
            wait_until(
                lambda: racing.done() or _someone_waits_for_a_lock(), timeout=10, interval=0.01
            )
        return racing.result(timeout=10)


def _in_its_own_connection(work):
    def run():
        try:
            return work()
        except Exception as exc:  # handed back, to be asserted on in the test's thread
            return exc
        finally:
            connections.close_all()  # this thread's connection, not the test's

    return run


def _detect(memory, *, at=NOW, relative_to=None):
    with time_machine.travel(at, tick=False):
        return reminder_detect(memory=memory, relative_to=relative_to)


# reminder_create


@pytest.mark.django_db
def test_a_reminders_times_are_utc_even_on_a_server_clock_in_another_zone(berliner, settings):
    settings.TIME_ZONE = "America/New_York"  # also the process's local zone (TZ)
    memory = MemoryFactory(user=berliner)
    tokyo_9am = dt.datetime(2026, 3, 6, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))

    reminder = reminder_create(user=berliner, memory_id=memory.pk, remind_at=tokyo_9am, now=NOW)

    assert reminder.remind_at == dt.datetime(2026, 3, 6, 0, 0, tzinfo=dt.UTC)
    assert reminder.remind_at.utcoffset() == dt.timedelta(0)
    assert reminder.occurrence_at.utcoffset() == dt.timedelta(0)
    assert (reminder.local_date, reminder.local_time) == (dt.date(2026, 3, 6), dt.time(1, 0))


@pytest.mark.django_db
def test_only_the_memorys_own_pending_reminders_count_toward_its_cap(berliner, settings):
    settings.REMINDERS_PER_MEMORY = 2
    memory = MemoryFactory(user=berliner)
    other = MemoryFactory(user=berliner)
    for _ in range(2):
        ReminderFactory(user=berliner, memory=other, remind_at=LATER)  # another memory's
    for state in ("due", "done", "dismissed"):  # not pending
        ReminderFactory(user=berliner, memory=memory, remind_at=LATER, state=state)
    ReminderFactory(user=berliner, memory=memory, remind_at=LATER, state="snoozed")

    reminder_create(user=berliner, memory_id=memory.pk, remind_at=LATER, now=NOW)

    with pytest.raises(TooManyReminders):
        reminder_create(user=berliner, memory_id=memory.pk, remind_at=LATER, now=NOW)
    assert memory.reminders.filter(state__in=Reminder.PENDING_STATES).count() == 2


@pytest.mark.django_db
def test_too_many_reminders_names_the_memory(berliner, settings):
    settings.REMINDERS_PER_MEMORY = 1
    memory = MemoryFactory(user=berliner)
    reminder_create(user=berliner, memory_id=memory.pk, remind_at=LATER, now=NOW)

    with pytest.raises(TooManyReminders) as caught:
        reminder_create(user=berliner, memory_id=memory.pk, remind_at=LATER, now=NOW)

    assert caught.value.args == (memory.pk,)


@pytest.mark.django_db
def test_a_reminder_keeps_the_source_and_the_phrase_it_is_created_with_cut_to_300(berliner):
    memory = MemoryFactory(user=berliner)
    phrase = "Remind me on Friday " + "x" * 400

    reminder_create(
        user=berliner,
        memory_id=memory.pk,
        remind_at=LATER,
        source=Reminder.Source.DETECTED,
        phrase=phrase,
        now=NOW,
    )

    stored = Reminder.objects.get()
    assert stored.source == "detected"
    assert stored.phrase == phrase[:300]


@pytest.mark.django_db(transaction=True)
def test_two_creates_at_once_cannot_pass_the_memorys_cap(berliner, settings):
    settings.REMINDERS_PER_MEMORY = 2
    memory = MemoryFactory(user=berliner)
    reminder_create(user=berliner, memory_id=memory.pk, remind_at=LATER, now=NOW)

    def create():
        return reminder_create(user=berliner, memory_id=memory.pk, remind_at=LATER, now=NOW)

    # The second create, not committed yet when the racing one counts.
    outcome = _outcome_racing(create, while_holding=create)

    assert isinstance(outcome, TooManyReminders), outcome
    assert memory.reminders.count() == 2


# reminder_delete, reminder_dismiss, reminder_snooze


@pytest.mark.django_db
def test_deleting_one_reminder_leaves_the_users_others(berliner):
    memory = MemoryFactory(user=berliner)
    gone, kept = (ReminderFactory(user=berliner, memory=memory) for _ in range(2))

    reminder_delete(user=berliner, reminder_id=gone.pk)

    assert list(Reminder.objects.all()) == [kept]


@pytest.mark.django_db
def test_deleting_a_missing_reminder_names_the_id_asked_for(berliner):
    missing = uuid.uuid4()
    with pytest.raises(Reminder.DoesNotExist) as caught:
        reminder_delete(user=berliner, reminder_id=missing)
    assert caught.value.args == (missing,)


@pytest.mark.django_db(transaction=True)
def test_a_dismiss_during_a_merge_keeps_the_reminder_on_the_kept_memory(berliner):
    merged, kept = MemoryFactory(user=berliner), MemoryFactory(user=berliner)
    reminder = ReminderFactory(user=berliner, memory=merged, remind_at=LATER)

    def dismiss():
        return reminder_dismiss(user=berliner, reminder_id=reminder.pk)

    def merge():  # holds the row; the dismiss has read it on the merged memory
        reminders_move(user=berliner, from_memory_id=merged.pk, to_memory_id=kept.pk)

    outcome = _outcome_racing(dismiss, while_holding=merge)

    assert isinstance(outcome, Reminder), outcome
    reminder.refresh_from_db()
    assert (reminder.state, reminder.memory_id) == ("dismissed", kept.pk)


@pytest.mark.django_db
def test_snoozing_an_ended_reminder_names_it(berliner):
    reminder = ReminderFactory(user=berliner, state="done")
    with pytest.raises(ReminderEnded) as caught:
        reminder_snooze(user=berliner, reminder_id=reminder.pk, until=LATER, now=NOW)
    assert caught.value.args == (reminder.pk,)


# reminders_deliver_due


@pytest.mark.django_db
def test_delivery_without_a_batch_size_moves_5000_reminders_a_statement(berliner):
    memory = MemoryFactory(user=berliner)
    due = NOW - dt.timedelta(minutes=1)
    Reminder.objects.bulk_create(
        ReminderFactory.build(user=berliner, memory=memory, remind_at=due) for _ in range(5000)
    )

    with CaptureQueriesContext(connection) as queries:
        assert reminders_deliver_due(now=NOW) == 5000

    # A full batch of 5000, then one that finds none: a larger batch would have stopped
    # after the first statement.
    updates = [q for q in queries.captured_queries if "UPDATE reminders_reminder" in q["sql"]]
    assert len(updates) == 2


# detect_reminder_later


@pytest.mark.django_db
def test_detection_is_queued_with_the_memory_and_after_an_edit_the_edits_time(
    berliner, django_capture_on_commit_callbacks, queued_tasks
):
    memory = MemoryFactory(user=berliner, content="Remind me on Friday at 5pm")

    with django_capture_on_commit_callbacks(execute=True), time_machine.travel(NOW, tick=False):
        detect_reminder_later(memory)
    with django_capture_on_commit_callbacks(execute=True), time_machine.travel(NOW, tick=False):
        detect_reminder_later(memory, edited=True)

    assert queued_tasks() == [
        ("reminders.tasks.detect_reminder", [str(memory.pk), None]),
        ("reminders.tasks.detect_reminder", [str(memory.pk), "2026-03-05T13:20:00+00:00"]),
    ]


@pytest.mark.django_db
def test_an_edit_queues_no_detection_for_another_memorys_or_an_already_fired_reminder(
    berliner, django_capture_on_commit_callbacks
):
    plain = MemoryFactory(user=berliner, content="Milk, eggs, flour")
    ReminderFactory(user=berliner, memory=plain, source="detected", state="due")
    ReminderFactory(user=berliner, source="detected", remind_at=LATER)  # another memory's

    with django_capture_on_commit_callbacks() as callbacks:
        detect_reminder_later(plain, edited=True)

    assert callbacks == []


# reminder_detect


@pytest.mark.django_db
def test_a_date_without_a_time_is_detected_at_the_configured_default_hour(berliner, settings):
    settings.REMINDER_DEFAULT_HOUR = 7
    memory = MemoryFactory(user=berliner, content="Remind me on Friday", created_at=NOW)

    reminder = _detect(memory)

    assert reminder.remind_at == dt.datetime(2026, 3, 6, 6, 0, tzinfo=dt.UTC)  # 07:00 Berlin


@pytest.mark.django_db
def test_a_detected_reminder_keeps_the_users_zone_and_its_recurrence(berliner):
    memory = MemoryFactory(user=berliner, content="Remind me every Monday at 9am", created_at=NOW)

    _detect(memory)

    stored = Reminder.objects.get()
    assert stored.time_zone == "Europe/Berlin"
    assert stored.recurrence == "FREQ=WEEKLY;BYDAY=MO"
    assert stored.remind_at == dt.datetime(2026, 3, 9, 8, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_detecting_on_one_memory_leaves_another_memorys_detected_reminder(berliner):
    first = MemoryFactory(user=berliner, content="Remind me on Friday at 5pm", created_at=NOW)
    second = MemoryFactory(user=berliner, content="Remind me tomorrow at 9am", created_at=NOW)
    kept = _detect(first)
    _detect(second)  # a new reminder for the second memory
    second.content = "No reminder here any more"
    second.save()

    assert _detect(second, relative_to=NOW) is None

    assert list(Reminder.objects.all()) == [kept]


@pytest.mark.django_db
def test_a_detected_reminder_that_fired_is_neither_removed_nor_made_again(berliner):
    memory = MemoryFactory(user=berliner, content="Remind me on Friday at 5pm", created_at=NOW)
    fired = _detect(memory)
    reminders_deliver_due(now=FRIDAY_5PM)

    assert _detect(memory) is None  # the same text, read again
    memory.content = "Dentist done."
    memory.save()
    assert _detect(memory, relative_to=NOW) is None  # its phrase removed by an edit

    assert list(Reminder.objects.values_list("pk", "state")) == [(fired.pk, "due")]


@pytest.mark.django_db
def test_a_detected_time_of_exactly_now_makes_no_reminder(berliner):
    an_hour_ago = NOW - dt.timedelta(hours=1)
    memory = MemoryFactory(user=berliner, content="Remind me in 1 hour", created_at=an_hour_ago)

    assert _detect(memory) is None  # 13:20 UTC: due the instant it would be made

    assert not Reminder.objects.exists()


@pytest.mark.django_db
def test_the_same_phrase_read_a_day_later_moves_the_detected_reminder(berliner):
    memory = MemoryFactory(user=berliner, content="Remind me tomorrow at 9am", created_at=NOW)
    first = _detect(memory)
    next_day = NOW + dt.timedelta(days=1)

    moved = _detect(memory, at=next_day, relative_to=next_day)  # an edit elsewhere in the text

    assert moved.pk != first.pk
    assert moved.remind_at == dt.datetime(2026, 3, 7, 8, 0, tzinfo=dt.UTC)
    assert list(Reminder.objects.all()) == [moved]


@pytest.mark.django_db
def test_making_a_detected_reminder_recurring_at_the_same_time_replaces_it(berliner):
    memory = MemoryFactory(user=berliner, content="Remind me on Friday at 5pm", created_at=NOW)
    once = _detect(memory)
    memory.content = "Remind me every Friday at 5pm"
    memory.save()

    weekly = _detect(memory, relative_to=NOW)

    assert weekly.pk != once.pk
    assert (weekly.remind_at, weekly.recurrence) == (FRIDAY_5PM, "FREQ=WEEKLY;BYDAY=FR")
    assert weekly.phrase == "Remind me every Friday at 5pm"
    assert list(Reminder.objects.all()) == [weekly]


@pytest.mark.django_db
def test_a_phrase_longer_than_300_is_kept_cut_and_detected_once(berliner):
    # "remind  me" may be spaced out: trigger and clause (at most 240) can pass 300.
    text = "Remind" + " " * 80 + "me tomorrow at 9am to call Bob about the boat" + " and sails" * 30
    memory = MemoryFactory(user=berliner, content=text, created_at=NOW)

    first = _detect(memory)
    assert len(first.phrase) == 300
    assert _detect(memory) == first
    reminders_deliver_due(now=NOW + dt.timedelta(days=1))
    assert _detect(memory) is None  # fired: not again

    assert list(Reminder.objects.values_list("pk", "state")) == [(first.pk, "due")]


@pytest.mark.django_db
def test_another_memorys_fired_reminder_does_not_stop_detection(berliner):
    text = "Remind me on Friday at 5pm"
    first = MemoryFactory(user=berliner, content=text, url="https://a.example", created_at=NOW)
    second = MemoryFactory(user=berliner, content=text, url="https://b.example", created_at=NOW)
    reminder_dismiss(user=berliner, reminder_id=_detect(first).pk)

    detected = _detect(second)

    assert detected is not None and detected.memory_id == second.pk


@pytest.mark.django_db
def test_a_reminder_the_user_set_does_not_stop_detection(berliner):
    memory = MemoryFactory(user=berliner, content="Remind me on Friday at 5pm", created_at=NOW)
    own = reminder_create(
        user=berliner,
        memory_id=memory.pk,
        remind_at=FRIDAY_5PM,
        phrase="Remind me on Friday at 5pm",
        now=NOW,
    )

    detected = _detect(memory)

    assert detected is not None and detected.source == "detected"
    assert set(Reminder.objects.all()) == {own, detected}


@pytest.mark.django_db
def test_a_fired_reminder_comes_back_for_a_new_time_or_a_new_phrase(berliner):
    memory = MemoryFactory(user=berliner, content="Remind me tomorrow at 9am", created_at=NOW)
    tomorrow = _detect(memory)
    reminder_dismiss(user=berliner, reminder_id=tomorrow.pk)
    next_day = NOW + dt.timedelta(days=1)

    # The same words, read a day later: the next morning, a new reminder.
    again = _detect(memory, at=next_day, relative_to=next_day)
    assert again is not None and again.remind_at == dt.datetime(2026, 3, 7, 8, 0, tzinfo=dt.UTC)

    reminder_dismiss(user=berliner, reminder_id=again.pk)
    memory.content = "Remind me on Saturday at 9am to bring the cake"
    memory.save()
    # The same time, asked for in other words: a new reminder.
    cake = _detect(memory, at=next_day, relative_to=next_day)
    assert cake is not None and cake.remind_at == again.remind_at
    assert Reminder.objects.count() == 3


# reminders_move


@pytest.mark.django_db
def test_moving_reminders_off_another_users_memory_moves_none(berliner):
    theirs = ReminderFactory(user=UserFactory())
    mine = MemoryFactory(user=berliner)

    moved = reminders_move(user=berliner, from_memory_id=theirs.memory_id, to_memory_id=mine.pk)

    assert moved == []
    theirs.refresh_from_db()
    assert theirs.memory_id != mine.pk


@pytest.mark.django_db
def test_moved_reminders_are_marked_updated_at_the_move(berliner):
    merged, kept = MemoryFactory(user=berliner), MemoryFactory(user=berliner)
    with time_machine.travel(NOW, tick=False):
        reminder = ReminderFactory(user=berliner, memory=merged, remind_at=LATER)
    moved_at = NOW + dt.timedelta(minutes=5)

    with time_machine.travel(moved_at, tick=False):
        moved = reminders_move(user=berliner, from_memory_id=merged.pk, to_memory_id=kept.pk)

    assert moved == [reminder.pk]
    reminder.refresh_from_db()
    assert (reminder.memory_id, reminder.updated_at) == (kept.pk, moved_at)
