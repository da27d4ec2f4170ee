"""POST /api/v1/memories with `created_at`: a save queued offline keeps the time the user
pressed Save (PWA.md), within what a device's clock can honestly say."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from memories.models import Memory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/memories"


def test_created_at_is_kept_as_sent(api):
    response = api.post(
        URL,
        {"content": "saved on the train", "created_at": "2026-03-01T08:15:30.5+02:00"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    expected = dt.datetime(2026, 3, 1, 6, 15, 30, 500000, tzinfo=dt.UTC)
    assert parse_datetime(body["created_at"]) == expected
    assert Memory.objects.get(pk=body["id"]).created_at == expected
    # Sent now, so the changes feed sends it now.
    assert parse_datetime(body["updated_at"]) > timezone.now() - dt.timedelta(minutes=1)


def test_the_list_orders_by_the_time_sent(api):
    now = timezone.now()
    newer = api.post(URL, {"content": "typed second"}, format="json").json()
    older = api.post(
        URL,
        {
            "content": "typed first, sent later",
            "created_at": (now - dt.timedelta(hours=2)).isoformat(),
        },
        format="json",
    ).json()
    listed = [memory["id"] for memory in api.get(URL).json()["results"]]
    assert listed == [newer["id"], older["id"]]


def test_without_created_at_it_is_now(api):
    before = timezone.now()
    body = api.post(URL, {"content": "right now"}, format="json").json()
    assert before <= parse_datetime(body["created_at"]) <= timezone.now()


def test_a_time_a_few_minutes_ahead_is_a_fast_clock_and_kept(api):
    ahead = timezone.now() + dt.timedelta(minutes=4)
    response = api.post(
        URL, {"content": "fast clock", "created_at": ahead.isoformat()}, format="json"
    )
    assert response.status_code == 201, response.content
    assert parse_datetime(response.json()["created_at"]) == ahead


@pytest.mark.parametrize(
    "created_at",
    [
        "in 6 minutes",  # made in the test, from the clock then
        "2999-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",
        "1970-01-01T00:00:00+00:00",
        "2026-03-01T08:15:30",  # no offset: which instant is it?
        "yesterday",
        12345,
    ],
    ids=["future", "far-future", "before-2000", "epoch", "no-offset", "words", "number"],
)
def test_a_time_out_of_range_or_unreadable_is_400_naming_the_field(api, created_at):
    if created_at == "in 6 minutes":
        created_at = (timezone.now() + dt.timedelta(minutes=6)).isoformat()
    response = api.post(URL, {"content": "when?", "created_at": created_at}, format="json")
    body = assert_problem(response, 400, "invalid")
    assert list(body["errors"]) == ["created_at"]
    assert not Memory.objects.exists()


def test_an_idempotent_replay_answers_as_before(api):
    body = {"content": "queued offline", "created_at": "2026-03-01T08:15:30+00:00"}
    first = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="save-1")
    again = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="save-1")
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert Memory.objects.count() == 1
