"""Scheduled jobs (issue 13): a stale beat message is dropped, not run late; every task stops
before the broker would hand its message to another worker; maintenance has its own queue,
which every worker consumes, so a backlog of it never delays enrichment."""

import datetime as dt
import re
import time
import uuid
from pathlib import Path

import pytest
from celery.schedules import crontab
from celery.schedules import schedule as every
from django.conf import settings

from config.celery import app as current_app
from tests.queues import purge
from tests.workers import Worker, wait_until

MAINTENANCE_TASKS = [
    "core.tasks.purge_expired_idempotency_keys",
    "billing.tasks.refresh_ai_spend_views",
    "memories.tasks.refresh_search_lexicon",
    "memories.tasks.rebuild_search_lexicon",
    "enrichment.tasks.reconcile_counters",
]


@pytest.fixture(autouse=True)
def _tasks_discovered():
    """As a worker starts: every app's tasks.py imported (autodiscovery is lazy)."""
    current_app.loader.import_default_modules()


def interval_seconds(schedule) -> float:
    if isinstance(schedule, every):
        return schedule.run_every.total_seconds()
    assert isinstance(schedule, crontab)
    # The nightly jobs: one hour and one minute of each day.
    assert len(schedule.hour) == 1 and len(schedule.minute) == 1, schedule
    return dt.timedelta(days=1).total_seconds()


@pytest.mark.django_db(transaction=True)  # the scheduler closes its connection when done
def test_every_beat_entry_expires_within_its_interval_as_beat_installs_it():
    from django_celery_beat.schedulers import DatabaseScheduler

    # The scheduler beat runs: it installs CELERY_BEAT_SCHEDULE into its tables and sends
    # each entry with the options read back from there.
    scheduler = DatabaseScheduler(app=current_app)
    for name in settings.CELERY_BEAT_SCHEDULE:
        entry = scheduler.schedule[name]
        expires = entry.options.get("expires")
        assert expires, f"{name} never expires"
        assert expires <= interval_seconds(entry.schedule), name


def test_every_task_has_a_time_limit_below_the_visibility_timeout():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    tasks = {name: task for name, task in current_app.tasks.items() if "celery." not in name}
    assert "enrichment.tasks.enrich_pending" in tasks
    for name, task in tasks.items():
        limit = task.time_limit or current_app.conf.task_time_limit
        assert limit is not None and limit < visibility, name
        soft = task.soft_time_limit or current_app.conf.task_soft_time_limit
        assert soft is not None and soft < limit, name


def test_maintenance_jobs_go_to_their_own_queue_and_enrichment_does_not():
    def queue_of(name):
        return current_app.amqp.router.route({}, name)["queue"].name

    for name in MAINTENANCE_TASKS:
        assert name in current_app.tasks, name
        assert queue_of(name) == settings.CELERY_MAINTENANCE_QUEUE, name
    assert queue_of("enrichment.tasks.enrich_pending") == settings.CELERY_TASK_DEFAULT_QUEUE
    assert queue_of("enrichment.tasks.sweep_pending") == settings.CELERY_TASK_DEFAULT_QUEUE
    assert settings.CELERY_MAINTENANCE_QUEUE in {q.name for q in settings.CELERY_TASK_QUEUES}


@pytest.fixture
def worker(tmp_path):
    for queue in settings.CELERY_TASK_QUEUES:
        purge(queue.name)
    started = Worker({}, tmp_path / "worker.log")
    yield started
    started.stop()


@pytest.mark.django_db(transaction=True)
def test_a_worker_drops_an_expired_message_and_runs_maintenance_from_its_queue(worker):
    # Sent while no worker runs, as beat does during an outage of the workers.
    stale = current_app.send_task("enrichment.tasks.reconcile_counters", expires=1)
    time.sleep(1.5)
    fresh = current_app.send_task("enrichment.tasks.reconcile_counters")
    worker.start()
    wait_until(lambda: f"[{fresh.id}] succeeded" in worker.log(), timeout=60, message=worker.log())
    log = worker.log()
    assert f"Discarding revoked task: enrichment.tasks.reconcile_counters[{stale.id}]" in log
    assert f"[{stale.id}] succeeded" not in log
    assert str(uuid.UUID(fresh.id)) in log


WORKER_COMMANDS = [
    "Procfile",
    "docker-compose.yml",
    "embedded/__main__.py",
    "bench/enrich.py",
    "tests/workers.py",
]
# Documents that tell operators how to start workers (a bad example is copied into scripts).
_ROOT = Path(__file__).resolve().parents[2]
WORKER_DOCS = ["README.md", *sorted(str(p.relative_to(_ROOT)) for p in _ROOT.glob("docs/**/*.md"))]


@pytest.mark.parametrize("path", WORKER_COMMANDS)
def test_no_worker_command_leaves_a_queue_out(path):
    # Without -Q a worker consumes every queue of CELERY_TASK_QUEUES; with it, it must name
    # them all, or maintenance (or alerts) would never run.
    text = (Path(settings.BASE_DIR) / path).read_text()
    assert "worker" in text
    assert_every_queue_named(path, text)


@pytest.mark.parametrize("path", WORKER_DOCS)
def test_no_document_tells_workers_to_leave_a_queue_out(path):
    assert_every_queue_named(path, (Path(settings.BASE_DIR) / path).read_text())


def assert_every_queue_named(path: str, text: str) -> None:
    for match in re.finditer(r"(?:-Q|--queues)[\s\"',=]+([\w,]+)", text):
        named = set(match.group(1).split(","))
        assert named >= {q.name for q in settings.CELERY_TASK_QUEUES}, (path, match.group(0))
