"""Every unsafe request is rate-limited per user by the plan's `writes_per_minute`; the
export is throttled per user (EXPORT_THROTTLE_RATE)."""

import time
from types import SimpleNamespace

import pytest

import core.throttles
from billing.models import Plan
from memories.tests.factories import MemoryFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


@pytest.fixture
def inside_a_window(monkeypatch):
    """The rate limiters' clocks stand still 30 s into the current hour: no test straddles
    two windows however slow it is."""
    frozen = (time.time() // 3600) * 3600 + 30
    clock = SimpleNamespace(time=lambda: frozen)
    monkeypatch.setattr(core.throttles, "time", clock)
    return frozen


@pytest.fixture
def three_writes_a_minute(user, inside_a_window):
    plan = Plan.objects.create(name="three-writes", writes_per_minute=3)
    user.plan = plan
    user.save(update_fields=["plan"])
    return plan


def test_patch_and_delete_count_toward_writes_per_minute(api, user, three_writes_a_minute):
    memories = [MemoryFactory(user=user) for _ in range(3)]
    patched = api.patch(
        f"/api/v1/memories/{memories[0].pk}",
        {"title": "renamed"},
        format="json",
        HTTP_IF_MATCH=memories[0].etag,
    )
    assert patched.status_code == 200, patched.content
    assert api.delete(f"/api/v1/memories/{memories[1].pk}").status_code == 204
    assert api.patch(f"/api/v1/memories/{memories[2].pk}", {}, format="json").status_code == 428
    refused = api.delete(f"/api/v1/memories/{memories[2].pk}")
    body = assert_problem(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) == 30 and body["retry_after"] == 30
    assert body["limit"] == 3
    refused_patch = api.patch(
        f"/api/v1/memories/{memories[2].pk}",
        {"title": "again"},
        format="json",
        HTTP_IF_MATCH=memories[2].etag,
    )
    assert_problem(refused_patch, 429, "rate_limited")
    assert api.get(f"/api/v1/memories/{memories[2].pk}").status_code == 200  # reads pass


def test_each_user_has_a_writes_window_of_their_own(
    api, user, other_user, client_for, three_writes_a_minute
):
    for n in range(3):
        assert api.post("/api/v1/memories", {"content": f"n{n}"}, format="json").status_code == 201
    assert_problem(
        api.post("/api/v1/memories", {"content": "n3"}, format="json"), 429, "rate_limited"
    )
    other = client_for(other_user)
    assert other.post("/api/v1/memories", {"content": "mine"}, format="json").status_code == 201


def test_usage_shows_writes_per_minute(api, user, three_writes_a_minute):
    api.post("/api/v1/memories", {"content": "one"}, format="json")
    body = api.get("/api/v1/usage").json()
    assert body["limits"]["writes_per_minute"] == 3
    assert body["used"]["writes_per_minute"] == 1
    assert body["resets_at"]["writes_per_minute"]


def test_the_default_plans_limit_writes(db):
    limits = dict(Plan.objects.values_list("name", "writes_per_minute"))
    assert (limits["free"], limits["pro"], limits["team"]) == (300, 1200, 6000)


def test_the_export_is_throttled_per_user(api, other_user, client_for, settings, inside_a_window):
    settings.EXPORT_THROTTLE_RATE = "2/hour"
    for _ in range(2):
        assert api.get("/api/v1/export").status_code == 200
    refused = api.get("/api/v1/export")
    body = assert_problem(refused, 429, "rate_limited")
    assert int(refused["Retry-After"]) == 3600 - 30 and body["retry_after"] == 3600 - 30
    assert client_for(other_user).get("/api/v1/export").status_code == 200
