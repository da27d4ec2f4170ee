"""The reminder endpoints of API.md, on the real database."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine

from memories.models import Memory
from memories.tests.factories import MemoryFactory
from reminders.models import Reminder
from reminders.services import reminders_deliver_due
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2026, 3, 5, 13, 20, tzinfo=dt.UTC)  # 14:20 in Berlin


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def memory(berliner):
    return MemoryFactory(user=berliner, title="Call the bank", content="About the mortgage offer")


def create(api, memory_id, **body):
    return api.post(f"/api/v1/memories/{memory_id}/reminders", body, format="json")


def test_a_wall_clock_time_is_read_in_the_users_zone(api, memory, frozen):
    response = create(api, memory.id, remind_at="2026-03-06T09:00:00")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["remind_at"] == "2026-03-06T08:00:00Z"  # 09:00 in Berlin is 08:00 UTC
    assert body["time_zone"] == "Europe/Berlin"
    assert body | {"id": None} == {
        "id": None,
        "memory": str(memory.id),
        "remind_at": "2026-03-06T08:00:00Z",
        "time_zone": "Europe/Berlin",
        "recurrence": None,
        "state": "scheduled",
        "source": "user",
        "phrase": None,
        "overdue": False,
        "created_at": "2026-03-05T13:20:00Z",
    }


def test_an_instant_with_an_offset_is_kept(api, memory, frozen):
    response = create(api, memory.id, remind_at="2026-03-06T09:00:00-05:00")
    assert response.status_code == 201, response.content
    assert response.json()["remind_at"] == "2026-03-06T14:00:00Z"
    reminder = Reminder.objects.get()
    assert (reminder.local_date, reminder.local_time) == (dt.date(2026, 3, 6), dt.time(15, 0))


@pytest.mark.parametrize(
    "body,field",
    [
        ({"remind_at": "2026-03-05T14:00:00"}, "remind_at"),  # 14:00 Berlin: 20 minutes ago
        ({"remind_at": "2026-03-05T13:19:59Z"}, "remind_at"),
        ({"remind_at": "tomorrow"}, "remind_at"),
        ({}, "remind_at"),
        ({"remind_at": "2026-03-06T09:00:00", "recurrence": "FREQ=SOMETIMES"}, "recurrence"),
        ({"remind_at": "2026-03-06T09:00:00", "recurrence": "FREQ=MINUTELY"}, "recurrence"),
        (
            {"remind_at": "2026-03-06T09:00:00", "recurrence": "DTSTART:20260101T000000"},
            "recurrence",
        ),
    ],
)
def test_bad_input_is_400_saying_which_field(api, memory, frozen, body, field):
    problem = assert_problem(create(api, memory.id, **body), 400, "invalid")
    assert field in problem["errors"], problem
    assert not Reminder.objects.exists()


def test_a_recurring_reminder_done_comes_back_at_the_same_local_time_across_dst(
    api, memory, frozen
):
    # Every day at 09:00 Berlin; DST starts on 29 March 2026 (UTC+1 -> UTC+2).
    created = create(
        api, memory.id, remind_at="2026-03-28T09:00:00", recurrence="FREQ=DAILY"
    ).json()
    assert created["remind_at"] == "2026-03-28T08:00:00Z"
    assert created["recurrence"] == "FREQ=DAILY"
    frozen.move_to(dt.datetime(2026, 3, 28, 8, 1, tzinfo=dt.UTC))
    assert reminders_deliver_due() == 1

    done = api.post(f"/api/v1/reminders/{created['id']}/done")

    assert done.status_code == 200, done.content
    assert done.json()["state"] == "scheduled"
    assert done.json()["remind_at"] == "2026-03-29T07:00:00Z"  # still 09:00 in Berlin


def test_the_inbox_has_due_reminders_oldest_first_with_their_memory(api, memory, berliner, frozen):
    other = MemoryFactory(user=berliner, content="x" * 400, url="https://example.com/a")
    first = create(api, other.id, remind_at="2026-03-05T14:30:00").json()
    second = create(api, memory.id, remind_at="2026-03-05T14:31:00").json()
    create(api, memory.id, remind_at="2026-03-05T18:00:00")  # later: not due yet

    frozen.move_to(dt.datetime(2026, 3, 5, 13, 31, 30, tzinfo=dt.UTC))
    assert reminders_deliver_due() == 2
    inbox = api.get("/api/v1/reminders/inbox").json()

    assert inbox["count"] == 2
    assert [r["id"] for r in inbox["results"]] == [first["id"], second["id"]]
    item = inbox["results"][0]
    assert item["state"] == "due" and item["overdue"] is False
    assert item["memory"]["id"] == str(other.id)
    assert item["memory"]["url"] == "https://example.com/a"
    assert len(item["memory"]["excerpt"]) == 280 and item["memory"]["excerpt"].endswith("…")
    assert inbox["results"][1]["memory"]["title"] == "Call the bank"


def test_done_dismiss_and_snooze_take_a_reminder_out_of_the_inbox(api, memory, frozen):
    ids = [
        create(api, memory.id, remind_at=f"2026-03-05T14:3{n}:00").json()["id"] for n in range(3)
    ]
    frozen.move_to(dt.datetime(2026, 3, 5, 13, 40, tzinfo=dt.UTC))
    reminders_deliver_due()
    assert api.get("/api/v1/reminders/inbox").json()["count"] == 3

    assert api.post(f"/api/v1/reminders/{ids[0]}/done").json()["state"] == "done"
    assert api.post(f"/api/v1/reminders/{ids[1]}/dismiss").json()["state"] == "dismissed"
    snoozed = api.post(
        f"/api/v1/reminders/{ids[2]}/snooze", {"until": "2026-03-05T18:00:00"}, format="json"
    )
    assert snoozed.status_code == 200, snoozed.content
    assert snoozed.json()["state"] == "snoozed"
    assert snoozed.json()["remind_at"] == "2026-03-05T17:00:00Z"
    assert api.get("/api/v1/reminders/inbox").json() == {"count": 0, "results": []}

    # The snooze ends: due again.
    frozen.move_to(dt.datetime(2026, 3, 5, 17, 0, tzinfo=dt.UTC))
    assert reminders_deliver_due() == 1
    assert [r["id"] for r in api.get("/api/v1/reminders/inbox").json()["results"]] == [ids[2]]


def test_a_snooze_into_the_past_is_400(api, memory, frozen):
    reminder = create(api, memory.id, remind_at="2026-03-05T18:00:00").json()
    for until in ["2026-03-05T14:00:00", "2026-03-05T13:20:00Z", "soon"]:
        response = api.post(
            f"/api/v1/reminders/{reminder['id']}/snooze", {"until": until}, format="json"
        )
        assert "until" in assert_problem(response, 400, "invalid")["errors"]
    assert Reminder.objects.get().state == "scheduled"


def test_a_reminder_delivered_late_says_overdue(api, memory, frozen):
    create(api, memory.id, remind_at="2026-03-05T15:00:00")
    frozen.move_to(dt.datetime(2026, 3, 6, 7, 0, tzinfo=dt.UTC))  # the stack was down
    assert reminders_deliver_due() == 1
    assert api.get("/api/v1/reminders/inbox").json()["results"][0]["overdue"] is True


def test_list_is_soonest_first_and_filters_by_state(api, memory, frozen):
    late = create(api, memory.id, remind_at="2026-03-07T09:00:00").json()
    soon = create(api, memory.id, remind_at="2026-03-06T09:00:00").json()
    api.post(f"/api/v1/reminders/{late['id']}/dismiss")

    pending = api.get("/api/v1/reminders").json()["results"]
    assert [r["id"] for r in pending] == [soon["id"]]
    dismissed = api.get("/api/v1/reminders?state=dismissed").json()["results"]
    assert [r["id"] for r in dismissed] == [late["id"]]
    assert_problem(api.get("/api/v1/reminders?state=lost"), 400, "invalid")
    # The memory's own list (the PWA's detail screen).
    mine = api.get(f"/api/v1/memories/{memory.id}/reminders").json()
    assert [r["id"] for r in mine] == [soon["id"]]


def test_patch_moves_and_reschedules_and_delete_removes(api, memory, frozen):
    reminder = create(api, memory.id, remind_at="2026-03-06T09:00:00").json()
    url = f"/api/v1/reminders/{reminder['id']}"

    moved = api.patch(url, {"remind_at": "2026-03-09T10:00:00"}, format="json")
    assert moved.status_code == 200, moved.content
    assert moved.json()["remind_at"] == "2026-03-09T09:00:00Z"
    weekly = api.patch(url, {"recurrence": "FREQ=WEEKLY;BYDAY=MO"}, format="json")
    assert weekly.json()["recurrence"] == "FREQ=WEEKLY;BYDAY=MO"
    assert_problem(api.patch(url, {}, format="json"), 400, "invalid")
    assert_problem(api.patch(url, {"remind_on": "x"}, format="json"), 400, "invalid")
    past = api.patch(url, {"remind_at": "2026-03-01T10:00:00"}, format="json")
    assert "remind_at" in assert_problem(past, 400, "invalid")["errors"]

    assert api.delete(url).status_code == 204
    assert_problem(api.delete(url), 404, "not_found")


def test_another_users_memory_and_reminders_are_404_everywhere(api, client_for, other_user, frozen):
    theirs = MemoryFactory(user=other_user)
    other = client_for(other_user)
    reminder = other.post(
        f"/api/v1/memories/{theirs.id}/reminders",
        {"remind_at": "2026-03-06T09:00:00Z"},
        format="json",
    ).json()
    url = f"/api/v1/reminders/{reminder['id']}"

    assert_problem(create(api, theirs.id, remind_at="2026-03-06T09:00:00Z"), 404, "not_found")
    assert_problem(api.get(f"/api/v1/memories/{theirs.id}/reminders"), 404, "not_found")
    assert_problem(api.patch(url, {"recurrence": ""}, format="json"), 404, "not_found")
    assert_problem(api.delete(url), 404, "not_found")
    for action in ("done", "dismiss"):
        assert_problem(api.post(f"{url}/{action}"), 404, "not_found")
    snooze = api.post(f"{url}/snooze", {"until": "2026-03-06T10:00:00Z"}, format="json")
    assert_problem(snooze, 404, "not_found")
    assert api.get("/api/v1/reminders").json()["results"] == []
    frozen.move_to(dt.datetime(2026, 3, 6, 9, 1, tzinfo=dt.UTC))
    reminders_deliver_due()
    assert api.get("/api/v1/reminders/inbox").json()["count"] == 0
    assert Reminder.objects.get().state == "due"  # untouched by the other user's calls
    for bad in ("not-a-uuid", uuid.uuid4()):
        assert_problem(api.post(f"/api/v1/reminders/{bad}/done"), 404, "not_found")


def test_a_deleted_memorys_reminders_leave_the_inbox_and_come_back_with_undo(api, memory, frozen):
    create(api, memory.id, remind_at="2026-03-05T15:00:00")
    frozen.move_to(dt.datetime(2026, 3, 5, 14, 1, tzinfo=dt.UTC))
    reminders_deliver_due()
    api.delete(f"/api/v1/memories/{memory.id}")
    assert api.get("/api/v1/reminders/inbox").json()["count"] == 0
    api.post(f"/api/v1/memories/{memory.id}/restore")
    assert api.get("/api/v1/reminders/inbox").json()["count"] == 1


def test_saving_a_memory_with_remind_at_creates_a_user_reminder(api, berliner, frozen):
    response = api.post(
        "/api/v1/memories",
        {"content": "Renew the passport", "remind_at": "2026-03-10T09:00:00"},
        format="json",
    )
    assert response.status_code == 201, response.content
    reminder = Reminder.objects.get()
    assert str(reminder.memory_id) == response.json()["id"]
    assert reminder.source == "user"
    assert reminder.remind_at == dt.datetime(2026, 3, 10, 8, 0, tzinfo=dt.UTC)


def test_saving_a_memory_with_a_past_remind_at_saves_nothing(api, berliner, frozen):
    response = api.post(
        "/api/v1/memories",
        {"content": "Renew the passport", "remind_at": "2026-03-01T09:00:00"},
        format="json",
    )
    assert "remind_at" in assert_problem(response, 400, "invalid")["errors"]
    assert not Memory.objects.exists()
    assert not Reminder.objects.exists()
    # The slot it would have taken is not counted either.
    assert api.get("/api/v1/usage").json()["used"]["max_memories"] == 0


def test_a_memory_may_have_a_bounded_number_of_pending_reminders(api, memory, frozen, settings):
    settings.REMINDERS_PER_MEMORY = 2
    for hour in (9, 10):
        assert create(api, memory.id, remind_at=f"2026-03-06T{hour}:00:00").status_code == 201
    assert_problem(
        create(api, memory.id, remind_at="2026-03-06T11:00:00"), 409, "too_many_reminders"
    )


def test_an_ended_reminder_stays_ended(api, memory, frozen):
    weekly = create(
        api, memory.id, remind_at="2026-03-06T09:00:00", recurrence="FREQ=WEEKLY"
    ).json()
    url = f"/api/v1/reminders/{weekly['id']}"
    assert api.post(f"{url}/dismiss").json()["state"] == "dismissed"

    # Done on a dismissed series does not schedule its next occurrence, and it cannot be
    # snoozed back.
    assert api.post(f"{url}/done").json()["state"] == "dismissed"
    snooze = api.post(f"{url}/snooze", {"until": "2026-03-07T09:00:00"}, format="json")
    assert_problem(snooze, 409, "reminder_ended")
    assert Reminder.objects.get().state == "dismissed"


def test_a_time_in_the_past_is_400_saying_the_field_must_be_in_the_future(api, memory, frozen):
    past = create(api, memory.id, remind_at="2026-03-05T14:00:00")
    assert assert_problem(past, 400, "invalid")["errors"] == {
        "remind_at": ["remind_at must be in the future."]
    }
    reminder = create(api, memory.id, remind_at="2026-03-06T09:00:00").json()
    url = f"/api/v1/reminders/{reminder['id']}"
    moved = api.patch(url, {"remind_at": "2026-03-05T14:00:00"}, format="json")
    assert assert_problem(moved, 400, "invalid")["errors"] == {
        "remind_at": ["remind_at must be in the future."]
    }
    snoozed = api.post(f"{url}/snooze", {"until": "2026-03-05T14:00:00"}, format="json")
    assert assert_problem(snoozed, 400, "invalid")["errors"] == {
        "until": ["until must be in the future."]
    }


@pytest.mark.parametrize("once", ["", None])
def test_patch_with_an_empty_recurrence_makes_a_recurring_reminder_a_single_one(
    api, memory, frozen, once
):
    weekly = create(api, memory.id, remind_at="2026-03-06T09:00:00", recurrence="FREQ=WEEKLY")
    url = f"/api/v1/reminders/{weekly.json()['id']}"

    response = api.patch(url, {"recurrence": once}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["recurrence"] is None
    assert Reminder.objects.get().recurrence == ""
    frozen.move_to(dt.datetime(2026, 3, 6, 8, 1, tzinfo=dt.UTC))
    reminders_deliver_due()
    assert api.post(f"{url}/done").json()["state"] == "done"  # no next occurrence
