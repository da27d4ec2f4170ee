"""The admin AI cost console: real figures from the ledger for staff, refused to others, and
the breaker buttons, whose effect every process sees at its next call."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from celery import current_app
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from ai.breaker import Breaker, Forced, State
from ai.guard import AiUnavailable, guarded_embed
from billing.ai_budget import ai_spend_views_refresh
from billing.models import AiLedgerEntry
from core.broker import broker_queue_depth
from core.redis import state_redis
from embedded import servers
from memories.tests.factories import MemoryFactory
from tests.fake_openai import FakeVendor
from tests.queues import purge

pytestmark = pytest.mark.django_db

CONSOLE = "/admin/billing/ailedgerentry/console/"
BREAKER = CONSOLE + "breaker/"
REFRESH = CONSOLE + "refresh/"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _clean_redis():
    """The breaker, budget counters and alert flags are shared by every test of the run."""

    def clean():
        redis = state_redis()
        for pattern in ("breaker:*", "aibudget:*", "alert:*", "enrichment:*"):
            for key in redis.scan_iter(pattern):
                redis.delete(key)

    clean()
    yield
    clean()


@pytest.fixture
def default_queue():
    """The broker's default queue, empty before and after the test."""
    name = current_app.conf.task_default_queue
    purge(name)
    yield name
    purge(name)


@pytest.fixture
def openai_fake(settings):
    """The app talks to a fake OpenAI server on loopback, which counts the calls it gets."""
    vendor = FakeVendor()
    settings.AI_PROVIDER = "openai"
    settings.OPENAI_API_KEY = "sk-test"
    settings.OPENAI_BASE_URL = vendor.url + "/v1"
    settings.OPENAI_TIMEOUT_SECONDS = 2
    settings.AI_BREAKER_FAILURES = 3
    yield vendor
    vendor.stop()


def ledger_entry(user, cost: str, *, days_ago: int = 0) -> AiLedgerEntry:
    entry = AiLedgerEntry.objects.create(
        request_id=uuid.uuid4(),
        user=user,
        provider="openai",
        model="text-embedding-3-small",
        operation="embed_memories" if user else "prototypes",
        items=1,
        input_tokens=100,
        cost_usd=Decimal(cost),
    )
    if days_ago:
        AiLedgerEntry.objects.filter(pk=entry.pk).update(
            created_at=timezone.now() - dt.timedelta(days=days_ago)
        )
    return entry


def figure(html: str, element_id: str) -> str:
    """The text of the element with this id, whitespace collapsed."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, f"no element {element_id}"
    return " ".join(match.group(1).split())


def section(html: str, element_id: str) -> str:
    """The HTML of the table or row with this id."""
    match = re.search(rf'<(table|tr) id="{element_id}".*?</\1>', html, re.S)
    assert match, f"no section {element_id}"
    return match.group(0)


def test_staff_see_real_figures_from_the_ledger(staff_client, settings):
    settings.AI_BUDGET_USD_PER_DAY = Decimal("2.50")
    settings.AI_BUDGET_USD_PER_MONTH = Decimal("100")
    big = UserFactory(email="big.spender@example.com")
    small = UserFactory(email="small.spender@example.com")
    ledger_entry(big, "1.25")
    ledger_entry(big, "0.50")
    ledger_entry(small, "0.25")
    ledger_entry(None, "0.125")  # category prototypes: no user
    ledger_entry(big, "2.00", days_ago=5)
    ledger_entry(small, "100.00", days_ago=40)  # out of the month and of the chart
    ai_spend_views_refresh()

    response = staff_client.get(CONSOLE)

    assert response.status_code == 200
    html = response.content.decode()
    today = timezone.now().astimezone(dt.UTC).date()
    five_days_ago = today - dt.timedelta(days=5)
    earlier_this_month = Decimal("2.00") if five_days_ago.month == today.month else Decimal(0)
    assert figure(html, "spend-today") == "$2.125000"
    assert figure(html, "spend-month") == f"${Decimal('2.125') + earlier_this_month:.6f}"
    # 2.125 of the 2.50 daily budget: past the 80% warning, not yet spent.
    day_budget = section(html, "budget-day")
    assert "$2.125000 of $2.50" in day_budget and "85.0%" in day_budget
    assert "warning" in day_budget
    # Top users of the month, most first, each with today and the month.
    top = section(html, "top-users")
    assert re.findall(r"[\w.]+@example\.com(?=</a>)", top) == [
        "big.spender@example.com",
        "small.spender@example.com",
    ]
    big_row = re.search(r"big\.spender@example\.com</a></td>(.*?)</tr>", top, re.S).group(1)
    assert re.findall(r"\$[\d.,]+", big_row)[:2] == [
        "$1.750000",
        f"${Decimal('1.75') + earlier_this_month:.6f}",
    ]
    # The 30-day chart: one bar per day, labelled, with the day's spend.
    per_day = section(html, "spend-per-day")
    assert per_day.count("<tr>") == 1 + 30  # the header and 30 days
    assert f"<td>{five_days_ago:%Y-%m-%d}</td><td>$2.000000</td>" in per_day
    assert f"<td>{today:%Y-%m-%d}</td><td>$2.125000</td>" in per_day
    chart = re.search(r'<svg id="spend-chart".*?</svg>', html, re.S).group(0)
    assert chart.count('<rect class="bar"') == 30
    assert f"<title>{five_days_ago:%Y-%m-%d}: $2.000000</title>" in chart
    assert f">{five_days_ago.day}</text>" in chart
    assert "$100.000000" not in html


def test_one_users_spend_can_be_looked_up(staff_client):
    user = UserFactory(email="someone@example.com")
    ledger_entry(user, "0.75")
    ledger_entry(UserFactory(), "5.00")
    ai_spend_views_refresh()

    html = staff_client.get(CONSOLE, {"user": "Someone@Example.com"}).content.decode()

    row = section(html, "user-spend")
    assert "someone@example.com" in row
    assert "today $0.750000" in row and "this month $0.750000" in row


def test_figures_come_from_the_spend_views_and_refresh_now_updates_them(staff_client):
    ledger_entry(UserFactory(), "0.40")

    before = staff_client.get(CONSOLE).content.decode()
    response = staff_client.post(REFRESH)
    after = staff_client.get(CONSOLE).content.decode()

    # Until beat (or the button) refreshes the views, the console shows their last state.
    assert figure(before, "spend-today") == "$0.000000"
    assert response.status_code == 302 and response["Location"] == CONSOLE
    assert figure(after, "spend-today") == "$0.400000"


def test_pending_and_failed_counts_and_queue_depth_are_shown(staff_client, default_queue):
    MemoryFactory.create_batch(2)
    MemoryFactory(enrichment_status="failed", enrichment_error="gave up after 5 attempts")
    MemoryFactory(enrichment_status="enriched")
    MemoryFactory(enrichment_status="failed", deleted_at=timezone.now())
    for _ in range(3):
        current_app.send_task("enrichment.tasks.sweep_pending", queue=default_queue)

    html = staff_client.get(CONSOLE).content.decode()

    assert figure(html, "pending-count") == "2"
    assert figure(html, "failed-count") == "1"
    assert figure(html, "queue-depth") == "3"


def test_queue_depth_is_unknown_when_the_broker_does_not_answer(staff_client, monkeypatch):
    closed_port = servers.free_port()
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://127.0.0.1:{closed_port}/0")

    response = staff_client.get(CONSOLE)

    assert response.status_code == 200
    assert figure(response.content.decode(), "queue-depth") == "unknown"


@pytest.fixture
def moto_sqs():
    """An SQS API (moto_server) on loopback; returns its endpoint URL."""
    port = servers.free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        servers.wait_for_port(port, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        servers.stop(process, sig=15)


def test_queue_depth_on_sqs_is_the_approximate_number_of_messages(moto_sqs, monkeypatch):
    host = moto_sqs.removeprefix("http://")
    monkeypatch.setenv("CELERY_BROKER_URL", f"sqs://test:test@{host}")
    monkeypatch.setitem(
        current_app.conf,
        "broker_transport_options",
        {"region": "us-east-1", "queue_name_prefix": "memory-connector-", "is_secure": False},
    )
    sqs = boto3.client(
        "sqs",
        endpoint_url=moto_sqs,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    queue_url = sqs.create_queue(QueueName="memory-connector-celery")["QueueUrl"]
    for n in range(4):
        sqs.send_message(QueueUrl=queue_url, MessageBody=f"message {n}")

    assert broker_queue_depth() == 4


@pytest.mark.parametrize("logged_in", ["anonymous", "not staff"])
def test_the_console_is_refused_to_others(logged_in):
    client = Client()
    if logged_in == "not staff":
        client.force_login(UserFactory())

    page = client.get(CONSOLE)
    force = client.post(BREAKER, {"force": "open"})
    refresh = client.post(REFRESH)

    for response in (page, force, refresh):
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert Breaker("ai").forced() is None


def test_staff_without_permission_on_the_ledger_are_refused():
    client = Client()
    client.force_login(UserFactory(is_staff=True))

    assert client.get(CONSOLE).status_code == 403
    assert client.post(BREAKER, {"force": "open"}).status_code == 403
    assert Breaker("ai").forced() is None


def test_staff_with_permission_to_view_the_ledger_see_the_console():
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_ailedgerentry"))
    client = Client()
    client.force_login(staff)

    assert client.get(CONSOLE).status_code == 200


def test_the_breaker_buttons_need_a_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    forged = client.post(BREAKER, {"force": "open"})
    assert forged.status_code == 403
    assert Breaker("ai").forced() is None

    page = client.get(CONSOLE).content.decode()
    token = re.search(
        rf'action="{BREAKER}".*?name="csrfmiddlewaretoken" value="([^"]+)"', page, re.S
    ).group(1)
    genuine = client.post(BREAKER, {"force": "open", "csrfmiddlewaretoken": token})
    assert genuine.status_code == 302
    assert Breaker("ai").forced() is Forced.OPEN


# Another process, started before the operator presses the button: it says what the breaker
# was when it started, then tries a guarded call when told to.
OTHER_PROCESS = """
import sys
import django
django.setup()
from ai.breaker import ai_breaker
from ai.guard import AiUnavailable, guarded_embed
print(ai_breaker.state().value, flush=True)
sys.stdin.readline()
try:
    guarded_embed(items=[(None, "from another process")], operation="console_test")
except AiUnavailable as exc:
    print(exc.reason, flush=True)
else:
    print("called the provider", flush=True)
"""


def other_process(vendor) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "AI_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": vendor.url + "/v1",
    }
    return subprocess.Popen(
        [sys.executable, "-c", OTHER_PROCESS],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_force_open_stops_ai_calls_at_once_in_every_process(staff_client, openai_fake):
    process = other_process(openai_fake)
    try:
        assert process.stdout.readline().strip() == "closed"

        response = staff_client.post(BREAKER, {"force": "open"})

        assert response.status_code == 302 and response["Location"] == CONSOLE
        assert Breaker("ai").state() is State.OPEN  # a fresh reader, as another process is
        process.stdin.write("go\n")
        process.stdin.flush()
        assert process.stdout.readline().strip() == "breaker_open"
    finally:
        process.stdin.close()
        process.wait(timeout=30)
    with pytest.raises(AiUnavailable):
        guarded_embed(items=[(None, "from this process")], operation="console_test")
    assert openai_fake.embedding_calls == 0
    html = staff_client.get(CONSOLE).content.decode()
    assert figure(html, "breaker-state") == "open: no AI calls"
    assert figure(html, "breaker-forced") == "an operator: forced open"


def test_force_close_lets_calls_through_and_automatic_hands_back_to_failures(
    staff_client, openai_fake
):
    breaker = Breaker("ai")
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state() is State.OPEN

    staff_client.post(BREAKER, {"force": "closed"})

    assert breaker.state() is State.CLOSED and breaker.forced() is Forced.CLOSED
    result = guarded_embed(items=[(None, "after the operator closed it")], operation="test")
    assert openai_fake.embedding_calls == 1 and len(result.vectors) == 1
    # Forced closed, failures do not open it; back on automatic, they do again.
    for _ in range(3):
        breaker.record_failure()
    assert breaker.state() is State.CLOSED

    staff_client.post(BREAKER, {"force": "auto"})

    assert breaker.forced() is None
    assert breaker.state() is State.OPEN


def test_an_unknown_breaker_command_changes_nothing(staff_client):
    response = staff_client.post(BREAKER, {"force": "sideways"})

    assert response.status_code == 400
    assert Breaker("ai").forced() is None
    assert staff_client.get(BREAKER).status_code == 405


def test_the_ledger_is_read_only_in_admin_and_links_to_the_console(staff_client):
    entry = ledger_entry(UserFactory(email="ledger.user@example.com"), "0.01")
    other = ledger_entry(UserFactory(), "0.02")

    listing = staff_client.get("/admin/billing/ailedgerentry/").content.decode()
    by_email = staff_client.get("/admin/billing/ailedgerentry/", {"q": "ledger.user"})
    by_request = staff_client.get("/admin/billing/ailedgerentry/", {"q": str(other.request_id)})
    filtered = staff_client.get(
        "/admin/billing/ailedgerentry/", {"operation": "embed_memories", "provider": "openai"}
    )

    assert f'href="{CONSOLE}"' in listing
    assert by_email.context["cl"].result_count == 1
    assert list(by_email.context["cl"].result_list) == [entry]
    assert list(by_request.context["cl"].result_list) == [other]
    assert filtered.status_code == 200
    assert staff_client.get("/admin/billing/ailedgerentry/add/").status_code == 403
    change = staff_client.get(f"/admin/billing/ailedgerentry/{entry.pk}/change/")
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
