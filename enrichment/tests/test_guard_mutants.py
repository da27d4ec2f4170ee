"""Guards that an audit could break without a test noticing (issue 18): concurrent half-open
probes, breaker alerts once per incident, the poison path, the backlog alert, and an AI outage
seen by the tasks. Against the fake OpenAI server and real Redis, Postgres and Celery."""

import re
import time

import pytest

from ai.breaker import Forced, State, ai_breaker
from ai.guard import AiUnavailable, guarded_embed
from ai.providers import ModelSpec, TransientProviderError
from ai.providers.registry import get_provider
from enrichment.reembed import reembed_progress, reembed_start, reembed_step
from enrichment.services import enrich_batch, enrichment_sweep
from enrichment.tasks import enrich_pending, reembed_continue
from enrichment.tests.test_poison import open_then_half_open, warm_prototypes
from memories.models import Embedding, EmbeddingModel, Memory
from memories.tests.factories import MemoryFactory
from tests.alerts import deliver_queued_alerts
from tests.concurrency import all_at_once
from tests.workers import wait_until

OLD_MODEL = ("text-embedding-3-small", 384)
NEW_MODEL = ModelSpec("openai", "text-embedding-3-large", 256)


# Committed: the probe's ledger row is written by another thread's connection.
@pytest.mark.django_db(transaction=True)
def test_eight_callers_at_once_in_half_open_send_exactly_one_probe(openai_fake):
    get_provider()  # built once before the race, as in a warm process
    open_then_half_open()
    # The probe's answer is held until the others were refused (or 10 s, if they never are),
    # so a slow machine cannot let the probe close the breaker before another caller asks.
    openai_fake.answering.clear()
    refusals = []

    def call():
        try:
            guarded_embed(items=[(None, "probe sent at once")], operation="test")
        except AiUnavailable:
            refusals.append(1)
            raise
        return "called"

    def answer_once_the_others_are_refused():
        deadline = time.monotonic() + 10
        while len(refusals) < 7 and time.monotonic() < deadline:
            time.sleep(0.01)
        openai_fake.answering.set()

    outcomes = all_at_once(
        lambda _n: call(), 8, meanwhile=answer_once_the_others_are_refused, catch=True
    )
    assert openai_fake.embedding_calls == 1
    called = [o for o in outcomes if o == "called"]
    refused = [o for o in outcomes if isinstance(o, AiUnavailable)]
    assert len(called) == 1, outcomes
    assert len(refused) == 7 and {o.reason for o in refused} == {"breaker_open"}, outcomes
    assert ai_breaker.state() is State.CLOSED  # the one probe went through


def breaker_messages(vendor, word):
    deliver_queued_alerts()  # as a worker would: alerts are never sent on the caller's path
    return [m for m in vendor.slack_messages if f"AI breaker 'ai' {word}" in m]


def failing_call():
    with pytest.raises(TransientProviderError):
        guarded_embed(items=[(None, "sent during an outage")], operation="test")


def wait_for_half_open():
    deadline = time.monotonic() + 5
    while ai_breaker.state() is not State.HALF_OPEN:  # the fake's cool-down is 1 s
        assert time.monotonic() < deadline, ai_breaker.state()
        time.sleep(0.05)


@pytest.mark.django_db
def test_the_breaker_announces_each_opening_and_each_closing_once(openai_fake):
    openai_fake.mode = "error"
    failing_call()
    failing_call()
    assert breaker_messages(openai_fake, "opened") == []  # 2 failures of 3: still closed
    failing_call()
    assert ai_breaker.state() is State.OPEN
    opened = breaker_messages(openai_fake, "opened")
    assert len(opened) == 1 and "(3 failures)" in opened[0]
    # Failures that follow while it is open (calls in flight, failed probes) announce nothing.
    for _ in range(5):
        ai_breaker.record_failure()
    wait_for_half_open()
    failing_call()  # the probe fails: open again, same incident
    assert ai_breaker.state() is State.OPEN
    with pytest.raises(AiUnavailable):
        guarded_embed(items=[(None, "refused while open")], operation="test")
    assert breaker_messages(openai_fake, "opened") == opened
    assert breaker_messages(openai_fake, "closed") == []

    openai_fake.mode = "ok"
    wait_for_half_open()
    guarded_embed(items=[(None, "the probe that works")], operation="test")
    assert ai_breaker.state() is State.CLOSED
    closed = breaker_messages(openai_fake, "closed")
    assert len(closed) == 1
    time.sleep(1.1)  # a closing alert is told apart by its second: these are later ones
    guarded_embed(items=[(None, "business as usual")], operation="test")
    ai_breaker.record_success()
    assert breaker_messages(openai_fake, "closed") == closed  # no close without an opening

    # The next incident is announced again, once, and so is its end.
    openai_fake.mode = "error"
    for _ in range(3):
        failing_call()
    assert ai_breaker.state() is State.OPEN
    assert len(breaker_messages(openai_fake, "opened")) == 2
    openai_fake.mode = "ok"
    wait_for_half_open()
    guarded_embed(items=[(None, "the second recovery")], operation="test")
    assert len(breaker_messages(openai_fake, "closed")) == 2
    assert len(breaker_messages(openai_fake, "opened")) == 2


@pytest.fixture
def kill_switch():
    """Tests turn the operator's kill switch on (ai_breaker.force): off after them, whatever
    happens, so no later test (nor worker) finds the breaker forced open."""
    yield
    ai_breaker.force(None)


@pytest.fixture
def breaker_forced_open(kill_switch):
    ai_breaker.force(Forced.OPEN)


@pytest.fixture
def unlimited_plan(user):
    from billing.models import Plan

    user.plan, _ = Plan.objects.get_or_create(name="guard-mutants-unlimited")
    user.save(update_fields=["plan"])
    return user.plan


@pytest.mark.django_db
def test_memories_the_provider_keeps_refusing_end_failed_after_5_attempts_while_others_go_through(
    user, unlimited_plan, openai_fake, kill_switch
):
    # 48 refused memories in a batch of 64: the search for them stops (its refusals are
    # bounded) before any is isolated, so they are left undecided, their attempt counted,
    # batch after batch, while the good memories of each batch are enriched. The sweeper
    # fails them once ENRICHMENT_MAX_ATTEMPTS (5) claims were spent on them.
    for i in range(16):
        MemoryFactory(user=user, content=f"good {i} about gardening")
    spoiled = [MemoryFactory(user=user, content=f"spoiled {i} refused") for i in range(48)]
    warm_prototypes()
    openai_fake.reject_inputs = {"refused"}
    for attempt in range(1, 6):
        outcome = enrich_batch()
        assert outcome.claimed == 64 and outcome.enriched == 16 and not outcome.error
        ai_breaker.force(Forced.OPEN)  # the sweep only judges here: it queues no task
        swept = enrichment_sweep()
        ai_breaker.force(None)
        if attempt < 5:
            assert swept.poisoned == 0
            assert set(
                Memory.objects.filter(pk__in=[m.pk for m in spoiled]).values_list(
                    "enrichment_status", "enrichment_attempts"
                )
            ) == {("pending", attempt)}
        for i in range(16):  # new saves meanwhile, which go through
            MemoryFactory(user=user, content=f"good later {attempt} {i} about gardening")
    assert swept.poisoned == 48
    assert set(
        Memory.objects.filter(pk__in=[m.pk for m in spoiled]).values_list(
            "enrichment_status", "enrichment_error"
        )
    ) == {("failed", "gave up after 5 attempts")}
    assert Memory.objects.filter(enrichment_status="enriched").count() == 16 * 5
    assert ai_breaker.state() is State.CLOSED  # refused inputs, not a sick provider
    assert enrich_batch().enriched == 16  # the queue moves on past them


@pytest.mark.django_db
def test_the_backlog_alert_is_raised_above_the_threshold_and_resolved_below_half(
    user, openai_fake, settings, breaker_forced_open
):
    settings.ENRICHMENT_BACKLOG_ALERT = 4  # resolved below 2
    pending = [MemoryFactory(user=user, content=f"waiting {i}") for i in range(6)]

    def backlog_of(n):
        Memory.objects.filter(pk__in=[m.pk for m in pending[:n]]).update(
            enrichment_status="pending"
        )
        Memory.objects.filter(pk__in=[m.pk for m in pending[n:]]).update(
            enrichment_status="enriched"
        )
        assert enrichment_sweep().pending == n
        deliver_queued_alerts()  # as a worker would
        return [m for m in openai_fake.slack_messages if "memories wait for enrichment" in m]

    assert backlog_of(4) == []  # at the threshold: not above it
    raised = backlog_of(5)
    assert len(raised) == 1 and "5 memories wait for enrichment (threshold 4)" in raised[0]
    assert backlog_of(6) == raised  # the same incident
    assert backlog_of(2) == raised  # half the threshold: not below it, still the same incident
    assert backlog_of(5) == raised
    assert backlog_of(1) == raised  # below half: resolved
    again = backlog_of(5)
    assert len(again) == 2 and "5 memories wait" in again[1]


def reembedding_started_in_an_outage(user, settings, *, memories):
    """`memories` memories enriched with OLD_MODEL, then the breaker forced open (an outage),
    then a re-embedding to NEW_MODEL begun: a worker that picks it up at once makes no call."""
    settings.OPENAI_EMBEDDING_MODEL, settings.EMBEDDING_DIMENSIONS = OLD_MODEL
    for i in range(memories):
        MemoryFactory(user=user, content=f"reembed note {i}")  # saved with no kick to a worker
    while enrich_batch().claimed:
        pass
    ai_breaker.force(Forced.OPEN)
    return reembed_start(spec=NEW_MODEL)


@pytest.mark.django_db(transaction=True)  # the re-embedding builds indexes CONCURRENTLY
def test_a_reembedding_pauses_while_the_breaker_is_open_and_resumes_after(
    user, unlimited_plan, openai_fake, settings, kill_switch
):
    target = reembedding_started_in_an_outage(user, settings, memories=6)
    calls = openai_fake.embedding_calls
    for _ in range(3):
        with pytest.raises(AiUnavailable):
            reembed_step(target_id=target.pk)
    assert openai_fake.embedding_calls == calls  # paused: no call while it is open
    target.refresh_from_db()
    assert target.state == "building"
    assert reembed_progress(target=target).done == 0
    assert Embedding.objects.filter(model=OLD_MODEL[0]).count() == 6  # search goes on
    ai_breaker.force(None)
    assert reembed_step(target_id=target.pk) is True
    target.refresh_from_db()
    assert target.state == "active"
    assert set(Embedding.objects.values_list("model", flat=True)) == {NEW_MODEL.model}


# Real Celery workers: the task's own retry policy, as declared on its decorator.

RETRY_LOG = re.compile(r"\] retry: Retry in (\d+(?:\.\d+)?)s")
TASK_ENDED = re.compile(r"enrich_pending\[[^\]]+\] (succeeded|retry|raised)")


@pytest.fixture
def worker(openai_worker):
    return openai_worker(
        OPENAI_EMBEDDING_MODEL=OLD_MODEL[0], EMBEDDING_DIMENSIONS=str(OLD_MODEL[1])
    )


@pytest.mark.django_db(transaction=True)
def test_with_the_breaker_open_the_enrichment_task_stops_without_retrying(
    user, vendor, worker, breaker_forced_open
):
    memory = MemoryFactory(user=user, content="saved while AI is unavailable")
    enrich_pending.delay([str(memory.pk)])
    wait_until(
        lambda: TASK_ENDED.search(worker.log()),
        timeout=60,
        message=worker.log(),
    )
    time.sleep(3)  # a retry, had one been asked for, would be logged by now (backoff: 0-2 s)
    log = worker.log()
    assert RETRY_LOG.findall(log) == [], log
    assert log.count("enrich_pending[") == 2, log  # received once, succeeded once
    assert "{'enriched': 0}" in log
    assert vendor.embedding_calls == 0
    memory.refresh_from_db()
    assert memory.enrichment_status == "pending" and memory.enrichment_attempts == 0


@pytest.mark.django_db(transaction=True)  # the re-embedding builds indexes CONCURRENTLY
def test_the_reembedding_task_is_retried_through_an_outage_and_finishes_after_it(
    user, unlimited_plan, vendor, openai_fake, settings, worker, kill_switch
):
    target = reembedding_started_in_an_outage(user, settings, memories=4)
    reembed_continue.delay(target.pk)
    retries = lambda: len(RETRY_LOG.findall(worker.log()))  # noqa: E731
    wait_until(lambda: retries() >= 1, timeout=60, message=worker.log())
    # Between two retries of the outage, no call (a call in flight from before it may land
    # before the first).
    calls = vendor.embedding_calls
    wait_until(lambda: retries() >= 3, timeout=60, message=worker.log())
    assert vendor.embedding_calls == calls  # paused: no call during the outage
    target.refresh_from_db()
    assert target.state == "building"
    ai_breaker.force(None)  # the outage ends
    wait_until(
        lambda: EmbeddingModel.objects.get(pk=target.pk).state == "active",
        timeout=60,
        message=worker.log(),
    )
    assert set(Embedding.objects.values_list("model", flat=True)) == {NEW_MODEL.model}
