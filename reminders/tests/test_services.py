"""Detection wired to saves and edits, and delivery exactly once under concurrency."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from memories.tests.factories import MemoryFactory
from reminders.models import Reminder
from reminders.services import (
    detect_reminder_later,
    reminder_create,
    reminder_detect,
    reminders_deliver_due,
)
from reminders.tests.factories import ReminderFactory
from tests.planner import prefer_subquery_rescans

NOW = dt.datetime(2026, 3, 5, 13, 20, tzinfo=dt.UTC)  # Thursday, 14:20 in Berlin


@pytest.mark.django_db
def test_a_saved_memory_asking_for_a_reminder_gets_a_detected_one(berliner):
    memory = MemoryFactory(
        user=berliner,
        content="Remind me tomorrow at 9am to call Bob about the boat",
        created_at=NOW,
    )
    with time_machine.travel(NOW, tick=False):
        reminder = reminder_detect(memory=memory)
    assert reminder is not None
    assert reminder.source == "detected"
    assert reminder.remind_at == dt.datetime(2026, 3, 6, 8, 0, tzinfo=dt.UTC)  # 09:00 Berlin
    assert (reminder.local_date, reminder.local_time) == (dt.date(2026, 3, 6), dt.time(9, 0))
    assert reminder.phrase.lower().startswith("remind me tomorrow at 9am")
    # Detecting again changes nothing.
    with time_machine.travel(NOW, tick=False):
        assert reminder_detect(memory=memory) == reminder
    assert Reminder.objects.count() == 1


@pytest.mark.django_db
def test_an_edit_that_removes_the_phrase_removes_the_detected_reminder_only(berliner):
    memory = MemoryFactory(
        user=berliner, content="Dentist. Remind me on Friday at 5pm", created_at=NOW
    )
    with time_machine.travel(NOW, tick=False):
        detected = reminder_detect(memory=memory)
        own = reminder_create(
            user=berliner, memory_id=memory.pk, remind_at=dt.datetime(2026, 3, 9, 9, 0)
        )
        memory.content = "Dentist, booked."
        memory.save()
        assert reminder_detect(memory=memory, relative_to=NOW) is None
    assert list(Reminder.objects.all()) == [own]
    assert not Reminder.objects.filter(pk=detected.pk).exists()


@pytest.mark.django_db
def test_an_edit_that_moves_the_time_moves_the_detected_reminder(berliner):
    memory = MemoryFactory(user=berliner, content="Remind me on Friday at 5pm", created_at=NOW)
    with time_machine.travel(NOW, tick=False):
        first = reminder_detect(memory=memory)
        memory.content = "Remind me on Saturday at 10am"
        memory.save()
        moved = reminder_detect(memory=memory, relative_to=NOW)
    assert moved.pk != first.pk
    assert moved.remind_at == dt.datetime(2026, 3, 7, 9, 0, tzinfo=dt.UTC)
    assert list(Reminder.objects.all()) == [moved]


@pytest.mark.django_db
def test_ordinary_prose_and_a_time_less_request_make_no_reminder(berliner):
    for text in [
        "I reminded him yesterday",
        "Remind me to call Mom",
        "Notes from Friday's meeting",
    ]:
        memory = MemoryFactory(user=berliner, content=text, created_at=NOW)
        with time_machine.travel(NOW, tick=False):
            assert reminder_detect(memory=memory) is None
    assert not Reminder.objects.exists()


@pytest.mark.django_db
def test_detection_is_queued_only_for_a_trigger_or_an_edit_of_a_detected_reminder(
    berliner, django_capture_on_commit_callbacks
):
    plain = MemoryFactory(user=berliner, content="Milk, eggs, flour")
    asking = MemoryFactory(user=berliner, content="Reminder: pay rent on the 1st of every month")
    with django_capture_on_commit_callbacks() as callbacks:
        detect_reminder_later(plain)
        detect_reminder_later(plain, edited=True)
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        detect_reminder_later(asking)
    assert len(callbacks) == 1
    ReminderFactory(user=berliner, memory=plain, remind_at=NOW, source="detected")
    with django_capture_on_commit_callbacks() as callbacks:
        detect_reminder_later(plain, edited=True)  # its phrase may be gone: look again
    assert len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_two_delivery_runs_at_once_deliver_each_due_reminder_once(berliner):
    memory = MemoryFactory(user=berliner)
    due = NOW - dt.timedelta(minutes=1)
    Reminder.objects.bulk_create(
        ReminderFactory.build(user=berliner, memory=memory, remind_at=due - dt.timedelta(seconds=i))
        for i in range(10_000)
    )
    counts: list[int] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            counts.append(reminders_deliver_due(now=NOW, batch=50))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(counts) == 10_000, counts
    assert all(count > 0 for count in counts), counts  # both runs really ran side by side
    assert Reminder.objects.filter(state="due", delivered_at=NOW).count() == 10_000
    assert reminders_deliver_due(now=NOW) == 0  # nothing is delivered twice


@pytest.mark.django_db
def test_delivery_moves_one_batch_per_statement_even_on_a_rescanning_plan(berliner):
    memory = MemoryFactory(user=berliner)
    for minutes in (3, 2, 1):
        ReminderFactory(user=berliner, memory=memory, remind_at=NOW - dt.timedelta(minutes=minutes))
    prefer_subquery_rescans()

    with CaptureQueriesContext(connection) as queries:
        delivered = reminders_deliver_due(now=NOW, batch=1)

    assert delivered == 3
    # One reminder per statement, then one that finds none: a statement that moved all three
    # at once would have ended the loop after two.
    updates = [q for q in queries.captured_queries if "UPDATE reminders_reminder" in q["sql"]]
    assert len(updates) == 4
