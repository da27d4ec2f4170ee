"""The breaker's own rules, against the real Redis every process shares."""

import time

import pytest
import time_machine

from ai.breaker import Forced, State, ai_breaker
from core.redis import state_redis

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fake_settings(clean_ai_state, settings):
    settings.AI_BREAKER_FAILURES = 3
    settings.AI_BREAKER_WINDOW_SECONDS = 60
    settings.AI_BREAKER_COOLDOWN_SECONDS = 30
    settings.SLACK_BOT_TOKEN = ""  # alerts are logged, not queued


def test_failures_at_the_same_instant_are_each_counted():
    with time_machine.travel(time.time(), tick=False):
        for _ in range(3):
            ai_breaker.record_failure()
        assert ai_breaker.state() is State.OPEN


def test_a_failed_probe_opens_again_even_when_its_window_holds_no_other_failure():
    for _ in range(3):
        ai_breaker.record_failure()
    # The cool-down (30 s) outlived the failures' window in real life: here both are over.
    state_redis().set("breaker:ai:open_until", time.time() - 1)
    state_redis().delete("breaker:ai:failures")
    assert ai_breaker.state() is State.HALF_OPEN
    assert ai_breaker.allow()  # the probe

    ai_breaker.record_failure()  # one failure, far below the threshold: it is the probe's

    assert ai_breaker.state() is State.OPEN
    assert 29 < ai_breaker.open_until() - time.time() <= 30


def test_forcing_closed_forgets_the_failures_so_automatic_starts_afresh():
    for _ in range(2):
        ai_breaker.record_failure()
    ai_breaker.force(Forced.CLOSED)
    ai_breaker.force(None)

    ai_breaker.record_failure()  # the first of a new count, not the third

    assert ai_breaker.state() is State.CLOSED


def test_forcing_open_keeps_the_automatic_state_for_when_it_is_released():
    for _ in range(3):
        ai_breaker.record_failure()
    open_until = ai_breaker.open_until()
    ai_breaker.force(Forced.OPEN)
    ai_breaker.force(None)

    assert ai_breaker.state() is State.OPEN
    assert ai_breaker.open_until() == open_until
