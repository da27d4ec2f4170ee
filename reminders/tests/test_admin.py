"""Operators see reminders in Django admin, filtered by state and source, and cannot edit them."""

import pytest

from reminders.tests.factories import ReminderFactory

pytestmark = pytest.mark.django_db


def test_the_admin_lists_reminders_filtered_by_state_and_source(staff_client):
    due = ReminderFactory(state="due", source="detected", phrase="remind me at 5pm")
    scheduled = ReminderFactory(state="scheduled", source="user")

    listed = staff_client.get("/admin/reminders/reminder/")
    assert listed.status_code == 200
    assert str(due.pk) in listed.text and str(scheduled.pk) in listed.text

    filtered = staff_client.get("/admin/reminders/reminder/?state=due&source=detected")
    assert filtered.status_code == 200
    assert str(due.pk) in filtered.text and str(scheduled.pk) not in filtered.text

    page = staff_client.get(f"/admin/reminders/reminder/{due.pk}/change/")
    assert page.status_code == 200
    assert "remind me at 5pm" in page.text
    assert 'name="remind_at"' not in page.text  # read-only: the schedule is the user's
    assert staff_client.get("/admin/reminders/reminder/add/").status_code == 403
