"""Reminders in the PWA (issue 15, item 5), in Debian's chromium against the live stack:
gunicorn, a Celery worker and beat, on the test database. The browser is in Berlin, and a new
account takes the browser's zone."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from celery import current_app

from accounts.models import User
from memories.models import Memory
from reminders.models import Reminder
from tests.test_pwa import PENDING, capture, sign_up
from tests.workers import Beat, Worker, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def live_stack(broker_empty, tmp_path):
    worker = Worker({}, tmp_path / "worker.log", concurrency=2)
    beat = Beat({}, tmp_path)
    try:
        worker.start()
        beat.start()
        yield worker
    finally:
        beat.stop()
        worker.stop()


@pytest.fixture
def berlin_page(browser):
    context = browser.new_context(timezone_id="Europe/Berlin")
    page = context.new_page()
    yield page
    context.close()


def deliver_when_due(reminder: Reminder) -> None:
    """Wait for the reminder's time, then send the delivery run at once, as beat's next tick
    would (beat runs too; this saves waiting up to a minute for its tick)."""
    wait_until(
        lambda: time.time() >= reminder.remind_at.timestamp(),
        timeout=150,
        interval=0.5,
        message=f"{reminder.remind_at} not reached",
    )
    current_app.send_task("reminders.tasks.deliver_due")


def inbox_link(page, count: int | None):
    name = f"Inbox {count}" if count else "Inbox"
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def test_remind_me_then_inbox_snooze_done_and_a_detected_reminder(
    gunicorn_server, berlin_page, live_stack
):
    page = berlin_page
    email = sign_up(page, gunicorn_server)
    # A new account takes the browser's zone on its first sign-in.
    wait_until(lambda: User.objects.get(email=email).time_zone == "Europe/Berlin", timeout=10)

    # "Remind me" two minutes ahead, on the Berlin wall clock.
    ahead = (dt.datetime.now(BERLIN) + dt.timedelta(minutes=2)).replace(second=0, microsecond=0)
    page.get_by_role("textbox", name="Memory").fill("Pay the electricity bill")
    page.get_by_label("Remind me").fill(ahead.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save").click()
    # Save queues it on the device; the reminder exists once the replay has sent it.
    page.get_by_role("list", name="Memories").get_by_role("listitem").filter(
        has_text="electricity"
    ).filter(has_not_text=PENDING).wait_for()
    first = Reminder.objects.get(memory__content="Pay the electricity bill")
    assert first.remind_at == ahead.astimezone(dt.UTC)
    assert first.source == "user"
    assert inbox_link(page, None).count() == 1

    # While it is not due yet: a reminder asked for in the text is detected, shown on its
    # memory, and can be removed.
    see_a_detected_reminder_and_remove_it(page)

    deliver_when_due(first)
    inbox_link(page, 1).wait_for(timeout=30_000)  # the badge looks every 10 s around due times
    inbox_link(page, 1).click()
    due = page.get_by_role("list", name="Due reminders")
    item = due.get_by_role("listitem").filter(has_text="Pay the electricity bill")
    item.wait_for()

    item.get_by_role("button", name="Snooze").click()
    page.get_by_role("menuitem", name="In 1 hour").click()
    item.wait_for(state="detached")
    inbox_link(page, None).wait_for()
    first.refresh_from_db()
    assert first.state == "snoozed"
    assert abs(first.remind_at - (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))).seconds < 60

    # A second one, on its memory's screen: "Add reminder" in a minute's time.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Memories").click()
    capture(page, "Book the car service")
    page.get_by_role("list", name="Memories").get_by_role("listitem").filter(
        has_text="Book the car service"
    ).get_by_role("link").click()
    soon = (dt.datetime.now(BERLIN) + dt.timedelta(minutes=1)).replace(second=0, microsecond=0)
    page.get_by_label("Remind me").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Add reminder").click()
    page.get_by_role("list", name="Reminders").get_by_role("listitem").filter(
        has_text="Set by you"
    ).wait_for()
    second = Reminder.objects.get(memory__content="Book the car service")

    deliver_when_due(second)
    inbox_link(page, 1).wait_for(timeout=30_000)
    inbox_link(page, 1).click()
    item = (
        page.get_by_role("list", name="Due reminders")
        .get_by_role("listitem")
        .filter(has_text="Book the car service")
    )
    item.get_by_role("button", name="Done").click()
    item.wait_for(state="detached")
    page.get_by_text("Nothing is due").wait_for()
    inbox_link(page, None).wait_for()
    second.refresh_from_db()
    assert second.state == "done"


def see_a_detected_reminder_and_remove_it(page) -> None:
    text = "Remind me tomorrow at 9am to call the plumber about the boiler"
    capture(page, text)
    page.get_by_role("list", name="Memories").get_by_role("listitem").filter(
        has_text="plumber"
    ).get_by_role("link").click()

    reminders = page.get_by_role("list", name="Reminders")
    detected = reminders.get_by_role("listitem").filter(has_text="Detected from")
    detected.wait_for(timeout=20_000)  # the worker detects it just after the save
    assert "remind me tomorrow at 9am" in detected.inner_text().lower()
    memory = Memory.objects.get(content=text)
    reminder = Reminder.objects.get(memory=memory)
    tomorrow_nine = dt.datetime.combine(
        memory.created_at.astimezone(BERLIN).date() + dt.timedelta(days=1),
        dt.time(9, 0),
        tzinfo=BERLIN,
    )
    assert reminder.remind_at == tomorrow_nine.astimezone(dt.UTC)
    assert reminder.source == "detected"
    assert "9:00" in detected.inner_text()  # shown on the Berlin clock

    detected.get_by_role("button", name="Remove reminder").click()
    detected.wait_for(state="detached")
    page.get_by_text("No reminder.").wait_for()
    assert not Reminder.objects.filter(memory=memory).exists()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Memories").click()
