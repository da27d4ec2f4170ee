import pytest


@pytest.fixture(autouse=True)
def _clean_ai_state(clean_ai_state):
    """Every test here starts without breaker, budget and alert state (tests/fixtures.py)."""


@pytest.fixture
def openai_worker(vendor, tmp_path):
    """Starts a real Celery worker talking to the fake OpenAI server, with `env` on top;
    messages other tests left queued (kicks) are purged first, or they would run in it."""
    from celery import current_app
    from django.conf import settings

    from tests.workers import Worker

    started = []

    def start(**env):
        with current_app.connection_for_write() as broker:
            for queue in (current_app.conf.task_default_queue, settings.CELERY_ALERTS_QUEUE):
                broker.default_channel.queue_purge(queue)
        worker_env = {
            "AI_PROVIDER": "openai",
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": vendor.url + "/v1",
            "OPENAI_TIMEOUT_SECONDS": "5",
            **env,
        }
        started.append(Worker(worker_env, tmp_path / "worker.log").start())
        return started[-1]

    yield start
    for worker in started:
        worker.stop()
