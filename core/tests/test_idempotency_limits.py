"""Idempotency-Key storage is bounded: answer size, stored keys per user, batched purge."""

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import TokenFactory
from core.idempotency import idempotency_keys_purge
from core.models import IdempotencyKey, IdempotencyKeyCount
from core.tasks import purge_expired_idempotency_keys
from memories.models import Memory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def save(client, body, key, **extra):
    return client.post("/api/v1/memories", body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_an_answer_over_the_size_limit_is_not_stored_but_a_small_marker_is(api, settings):
    settings.IDEMPOTENCY_MAX_ANSWER_BYTES = 2048
    first = save(api, {"content": "long " * 1000}, key="big")
    assert first.status_code == 201 and len(first.content) > 2048
    stored = IdempotencyKey.objects.get(key="big")
    assert len(stored.response_body) < 512

    again = save(api, {"content": "long " * 1000}, key="big")
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"]
    assert again["Content-Type"] == "application/json"
    body = again.json()
    assert body["code"] == "answer_not_kept"
    assert body["id"] == first.json()["id"]
    assert Memory.objects.count() == 1


def test_an_oversized_answers_key_is_still_422_for_another_payload(api, settings):
    settings.IDEMPOTENCY_MAX_ANSWER_BYTES = 2048
    save(api, {"content": "long " * 1000}, key="big")
    assert_problem(save(api, {"content": "other"}, key="big"), 422, "idempotency_key_reused")


def test_an_answer_within_the_limit_is_replayed_whole(api, settings):
    settings.IDEMPOTENCY_MAX_ANSWER_BYTES = 64 * 1024
    first = save(api, {"content": "short"}, key="small")
    assert save(api, {"content": "short"}, key="small").content == first.content


def test_a_user_at_the_key_cap_gets_429_and_nothing_is_saved(api, user, settings):
    settings.IDEMPOTENCY_MAX_KEYS_PER_USER = 3
    for n in range(3):
        assert save(api, {"content": f"m{n}"}, key=f"k{n}").status_code == 201
    refused = save(api, {"content": "one too many"}, key="k3")
    body = assert_problem(refused, 429, "idempotency_keys_exhausted")
    assert body["limit"] == 3
    assert refused["Retry-After"] == "3600"  # docs/api.md: keys are purged hourly
    assert Memory.objects.count() == 3
    # A stored key still replays, and a request without a key still runs.
    assert save(api, {"content": "m0"}, key="k0")["Idempotent-Replayed"] == "true"
    assert api.post("/api/v1/memories", {"content": "no key"}, format="json").status_code == 201


# The defaults of the contract (docs/api.md, "Retries: Idempotency-Key"), written here rather
# than read from the settings they pin: 10,000 keys a user, answers of 64 KiB, purge batches
# of 5,000.


def test_by_default_a_user_stores_10_000_keys(api, user):
    IdempotencyKeyCount.objects.create(user=user, stored=9_999)
    assert save(api, {"content": "the last place"}, key="k9999").status_code == 201
    refused = save(api, {"content": "one too many"}, key="k10000")
    assert assert_problem(refused, 429, "idempotency_keys_exhausted")["limit"] == 10_000
    assert refused["Retry-After"] == "3600"


def test_by_default_an_answer_up_to_64_kib_is_kept_whole_and_a_larger_one_is_not(api):
    small = save(api, {"content": "s" * 60_000}, key="small")
    large = save(api, {"content": "l" * 70_000}, key="large")
    assert len(small.content) < 64 * 1024 < len(large.content)
    assert save(api, {"content": "s" * 60_000}, key="small").content == small.content
    assert save(api, {"content": "l" * 70_000}, key="large").json()["code"] == "answer_not_kept"


def test_by_default_the_purge_deletes_5_000_keys_a_statement(api):
    save(api, {"content": "old"}, key="old")
    IdempotencyKey.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    with CaptureQueriesContext(connection) as queries:
        assert idempotency_keys_purge() == 1
    deletes = [q["sql"] for q in queries if "DELETE" in q["sql"]]
    assert len(deletes) == 1 and "LIMIT 5000" in deletes[0], deletes


def test_the_key_cap_is_per_user(api, other_user, client_for, settings):
    settings.IDEMPOTENCY_MAX_KEYS_PER_USER = 1
    assert save(api, {"content": "mine"}, key="a").status_code == 201
    assert save(client_for(other_user), {"content": "theirs"}, key="b").status_code == 201


def test_purged_keys_free_their_place_under_the_cap(api, settings):
    settings.IDEMPOTENCY_MAX_KEYS_PER_USER = 1
    save(api, {"content": "old"}, key="old")
    IdempotencyKey.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    idempotency_keys_purge()
    assert save(api, {"content": "new"}, key="new").status_code == 201


def test_a_reused_expired_key_does_not_count_twice(api, settings):
    settings.IDEMPOTENCY_MAX_KEYS_PER_USER = 1
    save(api, {"content": "first"}, key="same")
    IdempotencyKey.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert save(api, {"content": "second"}, key="same").status_code == 201
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_requests_cannot_race_past_the_cap(live_server, user, settings):
    settings.IDEMPOTENCY_MAX_KEYS_PER_USER = 10
    token = TokenFactory(user=user).key

    def post(n):
        return requests.post(
            f"{live_server.url}/api/v1/memories",
            json={"content": f"parallel {n}"},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"p{n}"},
            timeout=30,
        )

    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(post, range(50)))
    statuses = sorted({response.status_code for response in responses})
    assert set(statuses) <= {201, 429}, statuses
    assert IdempotencyKey.objects.filter(user=user).count() <= 10
    assert sum(response.status_code == 201 for response in responses) >= 10


def test_a_purge_of_more_than_one_batch_deletes_every_expired_key_and_no_live_one(api):
    for n in range(7):
        save(api, {"content": f"m{n}"}, key=f"k{n}")
    past = timezone.now() - dt.timedelta(minutes=1)
    IdempotencyKey.objects.filter(key__in=[f"k{n}" for n in range(5)]).update(expires_at=past)
    with CaptureQueriesContext(connection) as queries:
        assert idempotency_keys_purge(batch_size=2) == 5
    deletes = [q["sql"] for q in queries if "DELETE" in q["sql"]]
    assert len(deletes) >= 3, "5 keys in batches of 2 take 3 bounded DELETEs"
    assert all("LIMIT" in sql for sql in deletes)
    assert sorted(IdempotencyKey.objects.values_list("key", flat=True)) == ["k5", "k6"]


def test_the_purge_task_deletes_in_batches_until_none_is_left(api, settings):
    settings.IDEMPOTENCY_PURGE_BATCH_SIZE = 2
    for n in range(5):
        save(api, {"content": f"m{n}"}, key=f"k{n}")
    IdempotencyKey.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert purge_expired_idempotency_keys.apply().get() == 5
    assert not IdempotencyKey.objects.exists()


def test_the_marker_is_json(api, settings):
    settings.IDEMPOTENCY_MAX_ANSWER_BYTES = 100
    save(api, {"content": "x" * 200}, key="m")
    marker = json.loads(bytes(IdempotencyKey.objects.get(key="m").response_body))
    assert marker["status"] == 201
