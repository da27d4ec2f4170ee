"""The breaker's own rules, against the real Redis every process shares."""

import time

import pytest
import time_machine

from ai.breaker import Breaker, Forced, State
from core.redis import state_redis

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fake_settings(clean_ai_state, settings):
    settings.AI_BREAKER_FAILURES = 3
    settings.AI_BREAKER_WINDOW_SECONDS = 60
    settings.AI_BREAKER_COOLDOWN_SECONDS = 30
    settings.SLACK_BOT_TOKEN = ""  # alerts are logged, not queued


@pytest.fixture
def breaker():
    """Built here rather than imported: the guard's own (ai.breaker.ai_breaker) is built at
    import, and its keys and name are part of what these tests check."""
    return Breaker("ai")


def test_failures_at_the_same_instant_are_each_counted(breaker):
    with time_machine.travel(time.time(), tick=False):
        for _ in range(3):
            breaker.record_failure()
        assert breaker.state() is State.OPEN


def test_a_failed_probe_opens_again_even_when_its_window_holds_no_other_failure(breaker, caplog):
    for _ in range(3):
        breaker.record_failure()
    # The cool-down (30 s) outlived the failures' window in real life: here both are over.
    state_redis().set("breaker:ai:open_until", time.time() - 1)
    state_redis().delete("breaker:ai:failures")
    assert breaker.state() is State.HALF_OPEN
    assert breaker.allow()  # the probe

    breaker.record_failure()  # one failure, far below the threshold: it is the probe's

    assert breaker.state() is State.OPEN
    assert 29 < breaker.open_until() - time.time() <= 30
    assert "AI breaker 'ai' opened (3 failures)" in caplog.text  # once: the same incident


def test_forcing_closed_forgets_the_failures_so_automatic_starts_afresh(breaker):
    for _ in range(2):
        breaker.record_failure()
    breaker.force(Forced.CLOSED)
    breaker.force(None)

    breaker.record_failure()  # the first of a new count, not the third

    assert breaker.state() is State.CLOSED


def test_forcing_open_keeps_the_automatic_state_for_when_it_is_released(breaker):
    for _ in range(3):
        breaker.record_failure()
    open_until = breaker.open_until()
    breaker.force(Forced.OPEN)
    breaker.force(None)

    assert breaker.state() is State.OPEN
    assert breaker.open_until() == open_until


def test_the_probe_slot_outlives_a_short_cool_down_by_5_seconds(breaker, settings):
    # A probe call may take seconds: the slot must not expire under it and let a second
    # caller probe, even when the cool-down is shorter.
    settings.AI_BREAKER_COOLDOWN_SECONDS = 1
    for _ in range(3):
        breaker.record_failure()
    state_redis().set("breaker:ai:open_until", time.time() - 1)
    assert breaker.allow()
    assert 4000 < state_redis().pttl("breaker:ai:probe") <= 5000
    assert not breaker.allow()  # taken


def test_forcing_closed_ends_the_cool_down_so_released_it_lets_calls_through(breaker):
    for _ in range(3):
        breaker.record_failure()
    breaker.force(Forced.CLOSED)
    breaker.force(None)

    assert breaker.state() is State.CLOSED
    assert breaker.open_until() is None
    assert breaker.allow()


def test_forcing_closed_frees_a_held_probe_so_a_later_refusal_keeps_the_failures(breaker):
    for _ in range(3):
        breaker.record_failure()
    state_redis().set("breaker:ai:open_until", time.time() - 1)
    assert breaker.allow()  # the probe, still under way when the operator forces closed
    breaker.force(Forced.CLOSED)
    breaker.force(None)
    for _ in range(2):
        breaker.record_failure()

    breaker.record_refusal()  # no probe is under way: the failures counted so far stand
    breaker.record_failure()

    assert breaker.state() is State.OPEN


def test_each_incident_gets_its_own_probe_even_soon_after_the_last_probe_went_through(breaker):
    def open_then_half_open():
        for _ in range(3):
            breaker.record_failure()
        state_redis().set("breaker:ai:open_until", time.time() - 1)  # its cool-down is over
        assert breaker.state() is State.HALF_OPEN

    open_then_half_open()
    assert breaker.allow()  # the probe
    breaker.record_success()
    assert breaker.state() is State.CLOSED

    open_then_half_open()  # again, within the first probe slot's lifetime (30 s)

    assert breaker.allow()  # this incident's probe
    assert not breaker.allow()


def test_a_half_open_breaker_lets_nothing_through_when_redis_refuses_the_probe_slot(
    breaker, settings
):
    for _ in range(3):
        breaker.record_failure()
    state_redis().set("breaker:ai:open_until", time.time() - 1)
    assert breaker.state() is State.HALF_OPEN
    # Redis answers the state but refuses to take the slot: an expiry it cannot store (its
    # "invalid expire time" error), as a failing write between the two calls would.
    settings.AI_BREAKER_COOLDOWN_SECONDS = 10**18

    assert not breaker.allow()
    assert not state_redis().exists("breaker:ai:probe")
