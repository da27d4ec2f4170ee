"""Idempotency-Key: each answer of the contract, expiry, cleanup, and per-user scope."""

import datetime as dt
import os
import select
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from core.models import IdempotencyKey
from core.tasks import purge_expired_idempotency_keys
from memories.models import Memory
from memories.tests.factories import MemoryFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def save(client, body, key="key-1", **extra):
    return client.post("/api/v1/memories", body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_a_replay_answers_the_same_status_and_body_with_the_replay_header(api):
    first = save(api, {"content": "hello"})
    again = save(api, {"content": "hello"})
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"]
    assert again["Content-Type"] == "application/json"
    assert "Idempotent-Replayed" not in first
    assert Memory.objects.count() == 1


def test_the_body_is_compared_as_json_not_as_bytes(api):
    first = api.generic(
        "POST",
        "/api/v1/memories",
        '{"content": "x", "tags": ["a"]}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    reordered = api.generic(
        "POST",
        "/api/v1/memories",
        '{ "tags":["a"],"content":"x" }',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert reordered["Idempotent-Replayed"] == "true"
    assert reordered.content == first.content


def test_the_same_key_with_another_payload_is_422(api):
    save(api, {"content": "first"})
    response = save(api, {"content": "second"})
    assert_problem(response, 422, "idempotency_key_reused")
    assert list(Memory.objects.values_list("content", flat=True)) == ["first"]


def test_the_same_key_on_another_path_or_method_is_422(api, user):
    memory = MemoryFactory(user=user)
    save(api, {"content": "first"}, key="shared")
    response = api.patch(
        f"/api/v1/memories/{memory.id}",
        {"content": "first"},
        format="json",
        HTTP_IF_MATCH="1",
        HTTP_IDEMPOTENCY_KEY="shared",
    )
    assert_problem(response, 422, "idempotency_key_reused")


def hold_key_lock(user, key):
    """Another connection in the middle of a request with this key (holds its lock)."""
    import psycopg
    from django.db import connection

    from core.idempotency import idempotency_lock_id

    db = connection.settings_dict
    other = psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"])
    other.execute("SELECT pg_advisory_xact_lock(%s)", [idempotency_lock_id(user.pk, key)])
    return other


def test_the_same_key_while_the_first_request_runs_is_409(api, user):
    running = hold_key_lock(user, "busy")
    try:
        response = save(api, {"content": "slow"}, key="busy")
    finally:
        running.close()
    assert_problem(response, 409, "idempotency_key_in_use")
    assert response["Retry-After"] == "1"
    assert Memory.objects.count() == 0


# A request in its own process, on the test database: it takes the key as IdempotencyMixin
# does (idempotency_begin in the request's transaction), says its backend's pid, and runs
# until it is killed.
_RUNNING_REQUEST = """
import sys, time
import django

django.setup()
from django.db import connection, transaction
from core.idempotency import Pending, idempotency_begin

user_id, key = int(sys.argv[1]), sys.argv[2]
with transaction.atomic():
    outcome = idempotency_begin(
        user_id=user_id, key=key, method="POST", path="/api/v1/memories", body=b'{"content": "x"}'
    )
    assert isinstance(outcome, Pending), outcome
    print(connection.connection.info.backend_pid, flush=True)
    time.sleep(600)
"""


def start_request_in_another_process(user, key) -> tuple[subprocess.Popen, int]:
    """The process of a request with `key` that is running; (process, its backend's pid)."""
    from tests.workers import ROOT, worker_database_url

    env = {**os.environ, "DATABASE_URL": worker_database_url(), "DB_CONN_MAX_AGE": "0"}
    process = subprocess.Popen(
        [sys.executable, "-c", _RUNNING_REQUEST, str(user.pk), key],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready, _, _ = select.select([process.stdout], [], [], 60)
    line = process.stdout.readline() if ready else ""
    if not line.strip().isdigit():
        process.kill()
        raise AssertionError(f"the request process did not start: {process.communicate()}")
    return process, int(line)


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)", [pid])
        return cursor.fetchone()[0]


def test_a_request_whose_process_died_leaves_its_key_free(api, user):
    process, backend_pid = start_request_in_another_process(user, "orphan")
    try:
        running = save(api, {"content": "x"}, key="orphan")
        assert_problem(running, 409, "idempotency_key_in_use")  # the other process holds it

        os.kill(process.pid, signal.SIGKILL)  # no rollback, no close: the process is gone
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    # Postgres ends the dead client's backend (its socket closed), rolling its transaction
    # back; a client retrying after Retry-After finds the key free.
    deadline = time.monotonic() + 10
    while backend_alive(backend_pid):
        assert time.monotonic() < deadline, "the dead request's backend outlived it"
        time.sleep(0.05)
    response = save(api, {"content": "x"}, key="orphan")
    assert response.status_code == 201, response.content
    assert "Idempotent-Replayed" not in response
    assert Memory.objects.count() == 1


def test_another_key_of_the_same_user_is_not_blocked_by_a_running_one(api, user):
    running = hold_key_lock(user, "busy")
    try:
        assert save(api, {"content": "other"}, key="not-busy").status_code == 201
    finally:
        running.close()


@pytest.mark.parametrize("key", ["", "x" * 256, "café", "tab\there", "new\nline"])
def test_a_key_that_is_not_1_to_255_printable_ascii_characters_is_400(api, key):
    response = save(api, {"content": "x"}, key=key)
    assert_problem(response, 400, "invalid_idempotency_key")
    assert Memory.objects.count() == 0


@pytest.mark.parametrize("key", ["a", "x" * 255, "~!@# $%^&*()_+ {}|:<>?", "550e8400-e29b-41d4"])
def test_keys_of_any_printable_ascii_up_to_255_are_accepted(api, key):
    assert save(api, {"content": f"for {key}"}, key=key).status_code == 201


@pytest.mark.django_db(transaction=True)
def test_a_request_that_failed_with_a_5xx_does_not_pin_its_key(api, monkeypatch):
    import memories.api.views as views

    def explode(**kwargs):
        raise RuntimeError("database fell over")

    monkeypatch.setattr(views, "memory_create", explode)
    api.raise_request_exception = False
    failed = save(api, {"content": "retry me"})
    assert failed.status_code == 500
    monkeypatch.undo()

    retried = save(api, {"content": "retry me"})
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert Memory.objects.filter(content="retry me").count() == 1
    assert IdempotencyKey.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_5xx_after_writing_rolls_the_writes_back_with_the_key(api, monkeypatch):
    import memories.api.views as views

    real_create = views.memory_create

    def create_then_fail(**kwargs):
        real_create(**kwargs)
        raise RuntimeError("crashed after the INSERT")

    monkeypatch.setattr(views, "memory_create", create_then_fail)
    api.raise_request_exception = False
    assert save(api, {"content": "half done"}).status_code == 500
    assert Memory.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


def _committed_counts() -> tuple[int, int]:
    """(memories, stored answers) as another connection sees them: committed rows only."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT (SELECT count(*) FROM memories_memory),"
                " (SELECT count(*) FROM core_idempotencykey)"
            )
            return cursor.fetchone()
    finally:
        other.close()


@pytest.fixture
def finish_commits(monkeypatch) -> list[bool]:
    """The `commit` argument of every idempotency_finish call, in order."""
    import core.idempotency as idempotency

    commits: list[bool] = []
    finish = idempotency.idempotency_finish

    def finish_spy(**kwargs):
        commits.append(kwargs["commit"])
        return finish(**kwargs)

    monkeypatch.setattr(idempotency, "idempotency_finish", finish_spy)
    return commits


@pytest.mark.django_db(transaction=True)
def test_a_request_owning_its_transaction_stores_the_answer_with_the_commit(
    api, monkeypatch, finish_commits
):
    import memories.services as services

    seen_after_commit = []
    # on_commit work (the enrichment kick) runs after the real COMMIT: it sees both rows.
    monkeypatch.setattr(
        services, "_enrichment_kick", lambda: seen_after_commit.append(_committed_counts())
    )

    first = save(api, {"content": "one round trip"})
    assert first.status_code == 201
    assert finish_commits == [True]
    assert seen_after_commit == [(1, 1)]
    again = save(api, {"content": "one round trip"})
    assert again["Idempotent-Replayed"] == "true" and again.content == first.content
    assert _committed_counts() == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_a_commit_that_fails_answers_500_and_stores_nothing(api):
    """A deferred constraint fails at COMMIT, after the view answered 201: the client gets a
    500, neither the memory nor the answer is kept, and a retry with the key runs again."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION test_refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
            CREATE CONSTRAINT TRIGGER test_refuse_at_commit AFTER INSERT ON memories_memory
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
            WHEN (NEW.content = 'fails at commit') EXECUTE FUNCTION test_refuse_at_commit();
            """
        )
    try:
        api.raise_request_exception = False
        assert save(api, {"content": "fails at commit"}).status_code == 500
        assert _committed_counts() == (0, 0)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "DROP TRIGGER test_refuse_at_commit ON memories_memory;"
                " DROP FUNCTION test_refuse_at_commit();"
            )
    retried = save(api, {"content": "fails at commit"})
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert _committed_counts() == (1, 1)


def test_inside_an_outer_transaction_the_answer_waits_for_its_commit(api, finish_commits):
    """In a caller's transaction (here the test's), the answer is stored without committing."""
    assert save(api, {"content": "nested"}).status_code == 201
    assert finish_commits == [False]
    assert connection.in_atomic_block
    assert IdempotencyKey.objects.count() == 1


def test_the_save_path_statements_are_prepared_on_the_connection(api):
    """core.db prepares them (server-side), so Postgres parses them once per connection."""
    assert save(api, {"content": "prepared"}).status_code == 201
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any("FROM idempotency_claim" in sql for sql in statements), statements
    assert any("INSERT INTO core_idempotencykey" in sql for sql in statements), statements
    assert any("INSERT INTO memories_memory" in sql for sql in statements), statements


def test_a_4xx_about_the_payload_is_replayed(api):
    first = save(api, {"content": ""})
    again = save(api, {"content": ""})
    assert first.status_code == again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert again.content == first.content
    assert again["Content-Type"] == "application/problem+json"


def test_a_quota_refusal_does_not_pin_the_key(api, user):
    from billing.models import Plan

    plan = Plan.objects.create(name="zero", saves_per_day=0)
    user.plan = plan
    user.save()
    assert save(api, {"content": "later"}).status_code == 402
    plan.saves_per_day = 5
    plan.save()
    retried = save(api, {"content": "later"})
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried


def test_patch_and_delete_replay_too(api, user):
    memory = MemoryFactory(user=user)
    url = f"/api/v1/memories/{memory.id}"
    first = api.patch(
        url, {"title": "once"}, format="json", HTTP_IF_MATCH="1", HTTP_IDEMPOTENCY_KEY="edit-1"
    )
    again = api.patch(
        url, {"title": "once"}, format="json", HTTP_IF_MATCH="1", HTTP_IDEMPOTENCY_KEY="edit-1"
    )
    assert first.status_code == 200 and again.status_code == 200  # not 412
    assert again["Idempotent-Replayed"] == "true" and again.content == first.content
    memory.refresh_from_db()
    assert memory.version == 2

    deleted = api.delete(url, HTTP_IDEMPOTENCY_KEY="delete-1")
    deleted_again = api.delete(url, HTTP_IDEMPOTENCY_KEY="delete-1")
    assert deleted.status_code == deleted_again.status_code == 204  # not 404
    assert deleted_again["Idempotent-Replayed"] == "true"


def test_two_users_may_use_the_same_key_independently(api, other_user, client_for):
    mine = save(api, {"content": "mine"}, key="same-key")
    theirs = save(client_for(other_user), {"content": "theirs"}, key="same-key")
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert mine.json()["id"] != theirs.json()["id"]


def test_an_expired_key_runs_again_even_with_another_payload(api, settings):
    save(api, {"content": "day one"}, key="daily")
    IdempotencyKey.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    response = save(api, {"content": "day two"}, key="daily")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Memory.objects.count() == 2


def test_keys_expire_after_the_ttl_of_the_contract_24_hours(api):
    before = timezone.now()
    save(api, {"content": "x"}, key="ttl")
    key = IdempotencyKey.objects.get(key="ttl")
    expected = before + dt.timedelta(hours=24)  # docs/api.md, not the setting under test
    assert abs((key.expires_at - expected).total_seconds()) < 5


def test_the_cleanup_job_deletes_expired_keys_only(api):
    save(api, {"content": "old"}, key="old")
    save(api, {"content": "new"}, key="new")
    IdempotencyKey.objects.filter(key="old").update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert purge_expired_idempotency_keys.apply().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_the_cleanup_job_is_scheduled_hourly_on_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-idempotency-keys"]
    assert entry["task"] == "core.tasks.purge_expired_idempotency_keys"
    assert entry["schedule"] == 3600.0
    from config.celery import app

    assert entry["task"] in app.tasks


def test_anonymous_requests_ignore_the_header(anon_client):
    body = {"email": "new@example.com", "password": "correct horse battery staple"}
    first = anon_client.post(
        "/api/v1/auth/signup", body, format="json", HTTP_IDEMPOTENCY_KEY="signup-1"
    )
    assert first.status_code == 201
    assert IdempotencyKey.objects.count() == 0


def test_every_authenticated_view_with_unsafe_methods_honours_the_header():
    from django.urls import URLPattern, URLResolver, get_resolver

    from core.idempotency import IdempotencyMixin

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                yield pattern

    checked = []
    for pattern in walk(get_resolver().url_patterns):
        view = getattr(pattern.callback, "cls", None)
        our_apps = {"accounts", "billing", "core", "memories", "enrichment", "reminders"}
        if view is None or view.__module__.split(".")[0] not in our_apps:
            continue
        actions = getattr(pattern.callback, "actions", None) or {}
        methods = {m.upper() for m in actions} or {
            m.upper() for m in ("post", "put", "patch", "delete") if hasattr(view, m)
        }
        anonymous = view.authentication_classes == []
        if methods & {"POST", "PUT", "PATCH", "DELETE"} and not anonymous:
            checked.append(view.__name__)
            assert issubclass(view, IdempotencyMixin), view
    assert "MemoryViewSet" in checked
