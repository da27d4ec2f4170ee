"""The save path's debounced enrichment kick: one Redis call per web process per window, and
no save is left waiting for the sweeper because of it."""

import time

import pytest
from celery import current_app

from core.redis import state_redis
from enrichment import services, tasks
from enrichment.services import BatchOutcome
from memories import enrichment as pending
from memories.enrichment import KICK_KEY
from memories.services import memory_create
from tests.queues import purge

pytestmark = pytest.mark.django_db


def flag_is_set() -> bool:
    return bool(state_redis().exists(KICK_KEY))


@pytest.fixture(autouse=True)
def no_flag_and_empty_queue():
    def empty():
        pending.enrichment_kick_clear()
        purge(current_app.conf.task_default_queue)

    empty()
    yield
    empty()


def test_a_debounced_kick_asks_redis_once_per_window(settings):
    settings.ENRICHMENT_KICK_DEBOUNCE_SECONDS = 60
    pending.enrichment_kick(debounced=True)
    assert flag_is_set()
    state_redis().delete(KICK_KEY)  # as a task would, in another process

    pending.enrichment_kick(debounced=True)  # within the window: Redis is not asked
    assert not flag_is_set()
    pending.enrichment_kick()  # not debounced (admin retry, task hand-over): always asks
    assert flag_is_set()


def test_after_the_window_a_debounced_kick_asks_again(settings):
    settings.ENRICHMENT_KICK_DEBOUNCE_SECONDS = 0.05
    pending.enrichment_kick(debounced=True)
    state_redis().delete(KICK_KEY)
    time.sleep(0.1)
    pending.enrichment_kick(debounced=True)
    assert flag_is_set()


def test_the_task_claims_again_after_the_window_so_a_skipped_kick_loses_nothing(
    settings, user, monkeypatch, django_capture_on_commit_callbacks
):
    """A web process saw the flag just before the task cleared it; its next save (committed
    while the task finds nothing left) skips the kick. The task's last claim, made once the
    window has passed, still finds that memory."""
    settings.ENRICHMENT_KICK_DEBOUNCE_SECONDS = 0.3
    claims: list[tuple[float, list[str]]] = []
    saved: list[str] = []

    def enrich_batch(*, memory_ids=None):
        if not claims:
            pending._kick_seen_at = time.monotonic()  # the web process's view of the flag
            with django_capture_on_commit_callbacks(execute=True):
                memory = memory_create(user=user, content="saved as the task was finishing").memory
            saved.append(str(memory.pk))
            assert not flag_is_set(), "the save should have skipped the kick"
            claims.append((time.monotonic(), []))
            return BatchOutcome()
        claimed = [c.id for c in pending.memories_claim(limit=64)]
        claims.append((time.monotonic(), claimed))
        return BatchOutcome(claimed=len(claimed))

    monkeypatch.setattr(services, "enrich_batch", enrich_batch)
    started = time.monotonic()
    tasks.enrich_pending()

    assert [ids for _, ids in claims] == [[], saved, []]
    assert claims[1][0] - started >= 0.3  # the claim that found it came after the window


def test_a_task_that_finds_nothing_after_the_window_ends_at_once(settings, monkeypatch):
    settings.ENRICHMENT_KICK_DEBOUNCE_SECONDS = 0
    calls = []
    monkeypatch.setattr(services, "enrich_batch", lambda **kw: calls.append(kw) or BatchOutcome())
    tasks.enrich_pending()
    assert len(calls) == 1


def test_a_batch_that_fails_for_good_still_ends_with_a_claim_after_the_window(
    settings, monkeypatch
):
    """A non-transient provider error ends the task, but not before the window has passed:
    a save whose kick was skipped meanwhile is still claimed (not left for the sweeper)."""
    settings.ENRICHMENT_KICK_DEBOUNCE_SECONDS = 0.2
    outcomes = iter([BatchOutcome(claimed=3, error="bad request"), BatchOutcome(claimed=1)])
    calls: list[float] = []

    def enrich_batch(*, memory_ids=None):
        calls.append(time.monotonic())
        return next(outcomes, BatchOutcome())

    monkeypatch.setattr(services, "enrich_batch", enrich_batch)
    started = time.monotonic()
    tasks.enrich_pending()
    assert len(calls) == 3  # the failing batch, the claim after the window, the empty one
    assert calls[1] - started >= 0.2
