import pytest
from django_redis import get_redis_connection

from tests.fake_openai import FakeVendor


@pytest.fixture(autouse=True)
def _clean_redis():
    """Breaker, budget counters and alert flags live in Redis: each test starts without them."""
    redis = get_redis_connection("default")
    for pattern in ("breaker:*", "aibudget:*", "alert:*", "enrichment:*", "search:*"):
        for key in redis.scan_iter(pattern):
            redis.delete(key)
    yield


@pytest.fixture
def vendor():
    fake = FakeVendor()
    yield fake
    fake.stop()


@pytest.fixture
def openai_fake(vendor, settings):
    """The app talks to the fake OpenAI server, and posts alerts to its fake Slack."""
    settings.AI_PROVIDER = "openai"
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_BASE_URL = vendor.url + "/v1"
    settings.OPENAI_TIMEOUT_SECONDS = 2
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    settings.SLACK_API_URL = vendor.url + "/api/"
    settings.AI_BREAKER_FAILURES = 3
    settings.AI_BREAKER_WINDOW_SECONDS = 60
    settings.AI_BREAKER_COOLDOWN_SECONDS = 1
    return vendor


@pytest.fixture
def searches_unlimited(user, other_user):
    """For tests that search far more than a plan's searches_per_minute allows."""
    from billing.models import Plan

    plan, _ = Plan.objects.get_or_create(name="search-unlimited")
    for person in (user, other_user):
        person.plan = plan
        person.save(update_fields=["plan"])
