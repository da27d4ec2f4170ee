"""Idempotency-Key: the exact shape of replays and markers, the edges of what is stored, and
the store's single round trip with the COMMIT."""

import json

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from psycopg import pq

from core.idempotency import Pending, idempotency_begin, idempotency_finish
from core.models import IdempotencyKey
from memories.tests.factories import MemoryFactory

pytestmark = pytest.mark.django_db


def save(client, body, key, **extra):
    return client.post("/api/v1/memories", body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def begin(user, key):
    """idempotency_begin as IdempotencyMixin calls it for a POST of the same body."""
    return idempotency_begin(
        user_id=user.pk, key=key, method="POST", path="/api/v1/memories", body=b'{"a": 1}'
    )


def sent_headers(response) -> list[tuple[str, str]]:
    """The headers as they go out to the WSGI server: (name as spelled, value)."""
    return list(response.items())


def content_type_headers(response) -> list[tuple[str, str]]:
    return [
        (name, value) for name, value in sent_headers(response) if name.lower() == "content-type"
    ]


def test_a_replay_sends_the_replay_header_under_its_documented_name(api):
    save(api, {"content": "hello"}, key="named")
    again = save(api, {"content": "hello"}, key="named")
    assert ("Idempotent-Replayed", "true") in sent_headers(again)


def test_the_marker_of_an_oversized_answer_says_it_was_not_kept_and_gives_the_id(api, settings):
    settings.IDEMPOTENCY_MAX_ANSWER_BYTES = 2048
    first = save(api, {"content": "long " * 1000}, key="big")
    again = save(api, {"content": "long " * 1000}, key="big")
    assert again.json() == {
        "code": "answer_not_kept",
        "status": 201,
        "detail": "The first request with this key succeeded; its answer was larger than "
        "2048 bytes and was not kept.",
        "id": first.json()["id"],
    }


def test_an_oversized_answer_of_another_type_is_replayed_as_json_without_an_id(api, settings):
    settings.IDEMPOTENCY_MAX_ANSWER_BYTES = 64
    first = save(api, {"content": ""}, key="bad")
    assert first.status_code == 400 and len(first.content) > 64
    assert content_type_headers(first) == [("Content-Type", "application/problem+json")]

    again = save(api, {"content": ""}, key="bad")
    assert again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert content_type_headers(again) == [("Content-Type", "application/json")]
    body = again.json()
    assert body["code"] == "answer_not_kept" and body["status"] == 400
    assert "id" not in body  # the problem has no `id` of a created object


def test_an_answer_of_exactly_the_size_limit_is_kept_whole(user, settings):
    settings.IDEMPOTENCY_MAX_ANSWER_BYTES = 100
    answer = b'{"id": 7, "pad": "' + b"x" * 80 + b'"}'
    assert len(answer) == 100
    pending = begin(user, "at-limit")
    response = HttpResponse(answer, status=201, content_type="application/json")
    idempotency_finish(pending=pending, response=response, commit=False)
    replay = begin(user, "at-limit")
    assert replay.status_code == 201
    assert replay.content == answer


def test_a_500_answer_does_not_pin_the_key(user):
    pending = begin(user, "failed")
    idempotency_finish(pending=pending, response=HttpResponse(b"{}", status=500), commit=False)
    assert isinstance(begin(user, "failed"), Pending)
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_finishing_without_commit_leaves_the_commit_to_the_callers_transaction(user):
    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack), transaction.atomic():
        pending = begin(user, "caller-owned")
        idempotency_finish(pending=pending, response=HttpResponse(b"{}", status=201))
        raise RolledBack
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_stored_answer_and_the_commit_take_one_network_round_trip(api, tmp_path):
    """The wire protocol as libpq traces it: after the store's Bind (the last message with the
    key), the server answers once (one ReadyForQuery), and that answer ends the transaction."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    trace = tmp_path / "libpq.trace"
    with trace.open("w") as out:
        pgconn.trace(out.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            response = save(api, {"content": "one trip"}, key="one-trip-key")
        finally:
            pgconn.untrace()
    assert response.status_code == 201
    lines = trace.read_text().splitlines()
    store = max(
        n for n, line in enumerate(lines) if line.startswith("F") and "one-trip-key" in line
    )
    answers = [line.split("\t", 2)[2] for line in lines[store:] if line.startswith("B")]
    completed = [answer for answer in answers if answer.startswith("CommandComplete")]
    assert completed == ['CommandComplete\t "INSERT 0 1"', 'CommandComplete\t "COMMIT"'], answers
    ready = [answer for answer in answers if answer.startswith("ReadyForQuery")]
    assert ready == ["ReadyForQuery\t I"], answers  # one answer, and the transaction is over


def test_a_replayed_oversized_refusal_does_not_say_the_first_request_succeeded(api, user):
    # A 412 carries the server's copy of the memory (`current`): with a long memory it is
    # over the default 64 KiB, and its retry must not be told that the refused edit succeeded.
    memory = MemoryFactory(user=user, content="l" * 70_000)

    def stale_edit():
        return api.patch(
            f"/api/v1/memories/{memory.id}",
            {"title": "late"},
            format="json",
            HTTP_IF_MATCH="7",
            HTTP_IDEMPOTENCY_KEY="stale",
        )

    first = stale_edit()
    assert first.status_code == 412 and len(first.content) > 64 * 1024
    again = stale_edit()
    assert again.status_code == 412 and again["Idempotent-Replayed"] == "true"
    body = again.json()
    assert body["code"] == "answer_not_kept" and body["status"] == 412
    assert body["detail"] == (
        "The first request with this key was answered with status 412; its answer was larger "
        "than 65536 bytes and was not kept."
    )


@pytest.mark.parametrize(
    "status,outcome",
    [
        (200, "succeeded"),
        (299, "succeeded"),
        (300, "was answered with status 300"),
        (301, "was answered with status 301"),
    ],
)
def test_only_a_2xx_marker_says_the_first_request_succeeded(user, settings, status, outcome):
    settings.IDEMPOTENCY_MAX_ANSWER_BYTES = 16
    pending = begin(user, f"edge-{status}")
    response = HttpResponse(b'{"id": 7, "pad": "long"}', status=status)
    idempotency_finish(pending=pending, response=response, commit=False)
    replay = begin(user, f"edge-{status}")
    assert replay.status_code == status
    assert json.loads(replay.content)["detail"] == (
        f"The first request with this key {outcome}; its answer was larger than 16 bytes and "
        "was not kept."
    )


def test_a_key_on_a_read_is_ignored_and_a_write_without_a_key_runs_unkeyed(api, user):
    listed = api.get("/api/v1/memories", HTTP_IDEMPOTENCY_KEY="read")
    assert listed.status_code == 200 and "Idempotent-Replayed" not in listed
    assert save(api, {"content": "first"}, key="write").status_code == 201
    unkeyed = api.post("/api/v1/memories", {"content": "second"}, format="json")
    assert unkeyed.status_code == 201
    listed_again = api.get("/api/v1/memories", HTTP_IDEMPOTENCY_KEY="read")
    assert len(listed_again.json()["results"]) == 2  # not the first answer replayed
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["write"]
