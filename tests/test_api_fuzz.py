"""schemathesis over /api/schema/, against the live gunicorn of the test harness.

Every operation of the schema gets generated requests, valid and invalid; each answer must
not be a server error, must match the status codes, content types and bodies the schema
declares (errors included), and an operation that declares authentication must refuse a
request without it. The stateful run chains operations (create, read, delete, read again)
so a deleted memory or token is seen to stay deleted (use_after_free).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode
from uuid import uuid4

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS
from schemathesis.specs.openapi import checks as openapi_checks

from accounts.models import ApiToken, User
from accounts.services import token_digest
from accounts.tests.factories import TokenFactory, UserFactory
from billing.models import Plan
from core.idempotency import key_is_valid
from core.redis import state_redis
from memories.models import Memory

pytestmark = pytest.mark.django_db(transaction=True)

# Every check schemathesis has (its `--checks all`); the issue names not_a_server_error,
# response_schema_conformance, ignored_auth and use_after_free at least.
ALL_CHECKS = CHECKS.get_all()
REQUIRED = (
    "not_a_server_error",
    "response_schema_conformance",
    "ignored_auth",
    "use_after_free",
)
assert openapi_checks.use_after_free in ALL_CHECKS
assert set(REQUIRED) <= {check.__name__ for check in ALL_CHECKS}
EXAMPLES_PER_OPERATION = 30
STATEFUL_SCENARIOS = 30


def _served_schema() -> dict:
    """/api/schema/ as the server answers it (drf-spectacular, rendered as JSON)."""
    from django.test import Client

    response = Client().get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json", HTTP_HOST="127.0.0.1"
    )
    assert response.status_code == 200, response.content
    return json.loads(response.content)


# Loaded when the module is collected (schemathesis' lazy fixture loader does not run on
# pytest 9); the requests go to the live server below.
schema = schemathesis.openapi.from_dict(_served_schema())
# Valid data is accepted, or refused for a reason no schema can foresee: 412 when If-Match
# names a version the memory is no longer at (the stateful run edits the same memories).
_positive = schema.config.checks.positive_data_acceptance
_positive.expected_statuses = [*_positive.expected_statuses, "412"]


@pytest.fixture
def fuzz_account(db) -> tuple[User, str]:
    """A user of an unlimited plan (the limits have tests of their own; here they would only
    answer 429) and their Bearer token."""
    plan, _ = Plan.objects.get_or_create(name="fuzz-unlimited")
    user = UserFactory(plan=plan)
    return user, TokenFactory(user=user).key


@pytest.fixture
def live_api(gunicorn_server, fuzz_account) -> dict:
    """How schemathesis reaches the live server: its URL and the account's credentials."""
    _, token = fuzz_account
    return {"base_url": gunicorn_server, "headers": {"Authorization": f"Bearer {token}"}}


def test_the_live_server_serves_the_schema_under_test(live_api):
    served = requests.get(
        f"{live_api['base_url']}/api/schema/",
        headers={"Accept": "application/vnd.oai.openapi+json"},
        timeout=30,
    )
    assert served.status_code == 200
    assert served.json() == schema.raw_schema


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_schema_says(case, live_api):
    call_and_validate(case, live_api)


# Fields whose time must be in the future: JSON Schema cannot say "after now", and a past
# time is rightly a 400 (reminders/tests/test_api.py). A memory's `created_at` must be from
# 2000 to 5 minutes from now, which it cannot say either (memories/tests/test_created_at.py).
FUTURE_TIMES = ("remind_at", "until")
BOUNDED_TIMES = ("created_at",)
# Opaque cursors: only one the server issued is valid. Any other `cursor` of a list is a 400
# (core/tests), and a `since` of the changes feed a 410 cursor_expired
# (memories/tests/test_changes.py): the right answers, which no schema can foresee.
CURSORS = ("cursor", "since")
# A well-formed email and password of no account are rightly a 400 invalid_credentials
# (API.md); whether a drawn pair names an account depends on which signups ran before. A
# signup's password must also pass Django's password validators (not entirely numeric, not
# common, not like the email: a drawn "00000000" is rightly a 400), which no schema can say.
CREDENTIAL_CHECKS = ("/api/v1/auth/login", "/api/v1/auth/token", "/api/v1/auth/signup")


def checks_for(case) -> list:
    """All checks, but positive_data_acceptance where the schema cannot say what is valid:
    an opaque cursor (CURSORS), a time that must be in the future or within bounds, and
    credentials."""
    body = case.body if isinstance(case.body, dict) else {}
    query = case.query or {}
    if (
        any(query.get(name) is not None for name in CURSORS)
        or any(f in body for f in (*FUTURE_TIMES, *BOUNDED_TIMES))
        or case.path in CREDENTIAL_CHECKS
    ):
        return [
            check for check in ALL_CHECKS if check is not openapi_checks.positive_data_acceptance
        ]
    return ALL_CHECKS


def fresh_idempotency_key(case) -> None:
    """Hypothesis draws the same small keys again and again; a valid key reused with another
    body is rightly a 422, so each case gets a key of its own (invalid keys stay as drawn)."""
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and key_is_valid(key):
        case.headers["Idempotency-Key"] = f"{key[:200]}-{uuid4()}"


# gunicorn's limit on a request line (--limit-request-line): longer ones get its 414 (HTML)
# before the app sees them, as a proxy in front would; the API has nothing to say there.
MAX_REQUEST_LINE = 4094


def reaches_the_app(case) -> bool:
    query = urlencode(case.query or {}, doseq=True)
    return len(f"{case.method} {case.formatted_path}?{query} HTTP/1.1") < MAX_REQUEST_LINE


def call_and_validate(case, live_api) -> None:
    if not reaches_the_app(case):
        return
    fresh_idempotency_key(case)
    case.call_and_validate(checks=checks_for(case), **live_api)


def test_chained_operations_never_use_a_deleted_object(live_api, fuzz_account):
    """The stateful run: schemathesis links list, read, edit and delete through the ids the
    answers carry, and checks that a deleted memory is gone for every later read.

    Hypothesis replays scenarios, so each starts from the same server state, and search is
    left out: which memories it answers depends on whether the query's embedding came back
    in time (SEARCH_QUERY_EMBED_TIMEOUT_SECONDS) on a busy machine, not on the scenario.
    So is restore, the undo of a delete: a memory it brings back is meant to be read again
    (memories/tests/test_restore.py covers it)."""
    user, token = fuzz_account
    chained = schema.exclude(path="/api/v1/search").exclude(path="/api/v1/memories/{id}/restore")

    class Workflow(chained.as_state_machine()):
        def setup(self) -> None:
            Memory.objects.filter(user=user).delete()  # and their reminders
            ApiToken.objects.filter(user=user).exclude(key_digest=token_digest(token)).delete()
            # A scenario may change the time zone (which reads wall-clock times) and use up
            # the export's hourly throttle: a replay must meet neither.
            User.objects.filter(pk=user.pk).update(time_zone="UTC")
            for key in state_redis().scan_iter("throttle:*"):
                state_redis().delete(key)
            # Something to list, read, edit and delete in every scenario.
            for n in range(3):
                created = requests.post(
                    f"{live_api['base_url']}/api/v1/memories",
                    json={"content": f"a memory to chain operations on, number {n}"},
                    headers=live_api["headers"],
                    timeout=30,
                )
                assert created.status_code == 201, created.text

        def get_call_kwargs(self, case):
            fresh_idempotency_key(case)
            return dict(live_api)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            if not reaches_the_app(case):
                return
            case.validate_response(
                response,
                checks=checks_for(case),
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=8,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
