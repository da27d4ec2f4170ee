"""The inbox answer is built from rows, not models (for speed: bench/reminders.py): one
query whatever its length, and each item exactly as the reminder serializers show it."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from memories.tests.factories import MemoryFactory
from reminders.api.serializers import InboxItemSerializer
from reminders.models import Reminder
from reminders.services import reminders_deliver_due
from reminders.tests.factories import ReminderFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("due", [2, 12])
def test_the_inbox_takes_the_same_queries_whatever_its_length(api, user, due):
    memories = [MemoryFactory(user=user, url=f"https://example.com/{n}") for n in range(3)]
    for n in range(due):
        ReminderFactory(user=user, memory=memories[n % 3], recurrence="FREQ=DAILY")
    assert reminders_deliver_due() == due

    with CaptureQueriesContext(connection) as queries:
        body = api.get("/api/v1/reminders/inbox?limit=10").json()

    assert len(body["results"]) == min(due, 10)
    assert all(item["memory"]["url"].startswith("https://") for item in body["results"])
    # the page, and the count when the page is full: never a query per item
    reading = [q["sql"] for q in queries if "reminders_reminder" in q["sql"]]
    assert len(reading) == (2 if due > 10 else 1), reading
    assert not [q["sql"] for q in queries if q["sql"].startswith('SELECT "memories_memory"')]


def test_an_inbox_item_is_what_the_serializers_show(api, user):
    memory = MemoryFactory(user=user, title="Long", content="word " * 200, url="https://x.org/")
    ReminderFactory(user=user, memory=memory, recurrence="FREQ=DAILY", phrase="remind me daily")
    ReminderFactory(user=user, memory=MemoryFactory(user=user, content="short"))
    reminders_deliver_due()

    items = api.get("/api/v1/reminders/inbox").json()["results"]

    expected = [
        json.loads(JSONRenderer().render(InboxItemSerializer(reminder).data))
        for reminder in Reminder.objects.order_by("remind_at", "id")
    ]
    assert items == expected
    assert len(items[0]["memory"]["excerpt"]) == 280 and items[0]["memory"]["excerpt"].endswith("…")
    assert items[1]["memory"]["excerpt"] == "short"
    assert items[1]["recurrence"] is None and items[1]["phrase"] is None
