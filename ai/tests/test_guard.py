"""The guard's calls against the fake OpenAI server."""

import time

import pytest

from ai.guard import guarded_embed_many
from ai.providers import ProviderError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean(clean_ai_state):
    """No breaker or budget state from other tests."""


def test_a_batch_call_honours_the_callers_timeout(openai_fake):
    openai_fake.mode = "stall"
    openai_fake.stall_seconds = 5  # the fixture's own timeout is 10 s
    started = time.monotonic()
    with pytest.raises(ProviderError) as raised:
        guarded_embed_many(items=[(None, "a"), (None, "b")], operation="test", timeout=0.5)
    assert raised.value.transient
    assert time.monotonic() - started < 3
