"""The save path under real concurrency: gunicorn (4 workers x 8 threads) on the real Postgres
and Redis, 50 requests released at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from accounts.tests.factories import TokenFactory, UserFactory
from billing.models import Plan
from memories.models import Memory

pytestmark = pytest.mark.django_db(transaction=True)

CONCURRENCY = 50


def fire_together(calls):
    """Run the callables on CONCURRENCY threads, released by one barrier; return their results."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def account(plan: Plan | None = None) -> tuple[object, dict]:
    user = UserFactory(**({"plan": plan} if plan else {}))
    return user, {"Authorization": f"Bearer {TokenFactory(user=user).key}"}


def test_50_concurrent_requests_with_one_key_create_exactly_one_memory(gunicorn_server):
    user, auth = account()
    headers = {**auth, "Idempotency-Key": "phone-retry-7f3a"}
    body = {"content": "Buy oat milk", "tags": ["errands"]}

    def save():
        return requests.post(
            f"{gunicorn_server}/api/v1/memories", json=body, headers=headers, timeout=30
        )

    responses = fire_together([save] * CONCURRENCY)

    assert Memory.objects.filter(user=user).count() == 1
    statuses = sorted({r.status_code for r in responses})
    assert set(statuses) <= {201, 409}, statuses
    originals = [
        r
        for r in responses
        if r.status_code == 201 and r.headers.get("Idempotent-Replayed") != "true"
    ]
    replays = [r for r in responses if r.headers.get("Idempotent-Replayed") == "true"]
    assert len(originals) == 1
    for replay in replays:
        assert replay.status_code == 201
        assert replay.content == originals[0].content
    for conflict in (r for r in responses if r.status_code == 409):
        assert conflict.json()["code"] == "idempotency_key_in_use"
    # After the burst every retry is a byte-identical replay.
    retry = save()
    assert retry.status_code == 201
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert retry.content == originals[0].content


def test_50_concurrent_saves_at_limit_minus_one_let_exactly_one_through(gunicorn_server):
    plan, _ = Plan.objects.update_or_create(name="tight", defaults={"saves_per_day": 10})
    user, auth = account(plan)
    for n in range(9):
        response = requests.post(
            f"{gunicorn_server}/api/v1/memories",
            json={"content": f"warm-up {n}"},
            headers=auth,
            timeout=10,
        )
        assert response.status_code == 201

    def save(n):
        return lambda: requests.post(
            f"{gunicorn_server}/api/v1/memories",
            json={"content": f"burst {n}"},
            headers=auth,
            timeout=30,
        )

    responses = fire_together([save(n) for n in range(CONCURRENCY)])

    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 1, statuses
    assert statuses.count(402) == CONCURRENCY - 1, statuses
    refused = next(r for r in responses if r.status_code == 402).json()
    assert refused["code"] == "quota_exceeded"
    assert refused["limit_name"] == "saves_per_day"
    assert refused["limit"] == 10 and refused["used"] == 10
    assert refused["resets_at"].endswith("T00:00:00+00:00")
    assert Memory.objects.filter(user=user).count() == 10


def test_50_concurrent_searches_at_limit_minus_one_let_one_through_with_retry_after(
    gunicorn_server,
):
    plan, _ = Plan.objects.update_or_create(name="searchy", defaults={"searches_per_minute": 10})
    _, auth = account(plan)
    _, warm_up_auth = account()  # the default plan, under its limit with these few searches

    def search(headers=auth):
        return requests.get(
            f"{gunicorn_server}/api/v1/search", params={"q": "milk"}, headers=headers, timeout=30
        )

    # Every worker's first search may be slow (lazy imports, the query model): make it another
    # user's, so the counted searches below are quick. Sixteen at once over four sync
    # workers, so each worker takes some.
    assert {r.status_code for r in fire_together([lambda: search(warm_up_auth)] * 16)} == {200}
    # Fixed one-minute windows: start well inside one so the burst cannot straddle two.
    if time.time() % 60 > 45:
        time.sleep(60 - time.time() % 60 + 0.5)

    for _ in range(9):
        assert search().status_code == 200
    responses = fire_together([search] * CONCURRENCY)
    window_left = 60 - time.time() % 60

    statuses = [r.status_code for r in responses]
    assert statuses.count(200) == 1, statuses
    assert statuses.count(429) == CONCURRENCY - 1, statuses
    for limited in (r for r in responses if r.status_code == 429):
        retry_after = int(limited.headers["Retry-After"])
        assert abs(retry_after - window_left) <= 2, (retry_after, window_left)
        assert limited.json()["code"] == "rate_limited"
        assert limited.json()["retry_after"] == retry_after


def test_a_race_of_different_keys_with_the_same_content_stores_one_memory(gunicorn_server):
    user, auth = account()

    def save(n):
        headers = {**auth, "Idempotency-Key": f"device-{n}"}
        return lambda: requests.post(
            f"{gunicorn_server}/api/v1/memories",
            json={"content": "The same   thought"},
            headers=headers,
            timeout=30,
        )

    responses = fire_together([save(n) for n in range(20)])

    assert Memory.objects.filter(user=user).count() == 1
    memory = Memory.objects.get(user=user)
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1 and statuses.count(200) == 19, statuses
    for response in responses:
        assert response.json()["id"] == str(memory.id)
        assert response.json()["duplicate"] is (response.status_code == 200)
