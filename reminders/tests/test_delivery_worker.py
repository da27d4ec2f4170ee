"""Delivery by a real Celery worker, SIGKILLed in the middle of a run, then restarted: every
due reminder ends in its inbox, none is lost and none delivered twice."""

from __future__ import annotations

import datetime as dt

import pytest
from celery import current_app
from django.utils import timezone

from memories.tests.factories import MemoryFactory
from reminders.models import Reminder
from reminders.tests.factories import ReminderFactory
from tests.workers import Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

REMINDERS = 60_000
BATCH = 100  # rows a transaction: a run is hundreds of commits, long enough to be killed in


def test_a_worker_killed_mid_run_delivers_each_due_reminder_once(user, broker_empty, tmp_path):
    memory = MemoryFactory(user=user)
    due = timezone.now() - dt.timedelta(minutes=5)
    Reminder.objects.bulk_create(
        (
            ReminderFactory.build(user=user, memory=memory, remind_at=due - dt.timedelta(seconds=i))
            for i in range(REMINDERS)
        ),
        batch_size=5000,
    )
    delivered = Reminder.objects.filter(state="due")
    worker = Worker(
        {"REMINDER_DELIVERY_BATCH": str(BATCH)},
        tmp_path / "worker.log",
    )
    try:
        worker.start()
        current_app.send_task("reminders.tasks.deliver_due")
        wait_until(lambda: delivered.count() >= 5 * BATCH, timeout=60, interval=0.02)
        worker.kill()
        before = dict(delivered.values_list("id", "delivered_at"))
        assert 0 < len(before) < REMINDERS, "the kill was not in the middle of the run"

        # Beat's next minute sends another run (the killed one's message comes back too once
        # the broker's visibility timeout passes, acks_late): each reminder still once.
        worker.start()
        current_app.send_task("reminders.tasks.deliver_due")
        wait_until(
            lambda: delivered.count() == REMINDERS, timeout=120, interval=0.5, message=worker.log()
        )
    finally:
        worker.stop()

    after = dict(delivered.values_list("id", "delivered_at"))
    assert len(after) == REMINDERS
    # What the killed run committed stayed delivered, at the time it was delivered: no reminder
    # went through the inbox twice.
    assert {pk: after[pk] for pk in before} == before
    assert not Reminder.objects.exclude(state="due").exists()
