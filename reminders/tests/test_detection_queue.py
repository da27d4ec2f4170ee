"""A saved memory's reminder is detected by a task the save queues: the queued task, run as a
worker would, finds the memory it was queued for."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings

from memories.tests.factories import MemoryFactory
from reminders.models import Reminder
from reminders.services import detect_reminder_later
from tests.queues import run_queued

NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


@pytest.mark.django_db
@pytest.mark.parametrize("edited", [False, True], ids=["saved", "edited"])
def test_the_queued_detection_runs_for_the_memory_it_was_queued_for(
    berliner, broker_empty, django_capture_on_commit_callbacks, edited
):
    memory = MemoryFactory(
        user=berliner, content="Remind me tomorrow at 10 to call Anna", created_at=NOW
    )
    with time_machine.travel(NOW, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            detect_reminder_later(memory, edited=edited)
        assert run_queued(settings.CELERY_TASK_DEFAULT_QUEUE) == ["reminders.tasks.detect_reminder"]
    reminder = Reminder.objects.get(memory=memory)
    assert reminder.remind_at == dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)  # 10:00 in Berlin
