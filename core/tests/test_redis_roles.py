"""Redis roles: what must not be evicted (breaker, AI budgets, rate limits) is kept in the
state Redis, never in the cache, which may evict."""

import pytest
from django_redis import get_redis_connection

from billing.models import Plan
from core.redis import state_redis
from memories.services import memory_create

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_ai_state(clean_ai_state):
    """No breaker, budget or rate-limit keys of other tests."""


def keys(redis, pattern: str) -> list[bytes]:
    return list(redis.scan_iter(pattern))


def test_breaker_budget_and_rate_limit_keys_live_in_the_state_redis_only(
    api, user, openai_fake, settings
):
    assert settings.CACHES["state"]["LOCATION"] != settings.CACHES["default"]["LOCATION"]
    user.plan = Plan.objects.create(name="two-searches", searches_per_minute=2)
    user.save(update_fields=["plan"])
    memory_create(user=user, content="Kitten vaccination at the vet")
    assert api.get("/api/v1/search", {"q": "pet shots", "mode": "semantic"}).status_code == 200
    openai_fake.mode = "error"  # a failure the breaker counts
    assert api.get("/api/v1/search", {"q": "vet visit", "mode": "semantic"}).status_code == 200
    limited = api.get("/api/v1/search", {"q": "kitten", "mode": "semantic"})
    assert limited.status_code == 429

    state, cache = state_redis(), get_redis_connection("default")
    for pattern in ("breaker:ai:*", "aibudget:*", "throttle:searches_per_minute:*"):
        assert keys(state, pattern), f"no {pattern} key in the state Redis"
        assert not keys(cache, pattern), f"{pattern} keys in the cache Redis, which may evict"
