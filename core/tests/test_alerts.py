"""Operator alerts: raised once per incident, never sent to Slack on the path that raised them,
delivered by a Celery task that retries Slack's transient failures and not its refusals."""

from decimal import Decimal

import pytest

from core.alerts import (
    BUDGET_WARNING,
    ENRICHMENT_BACKLOG,
    INCIDENT_KINDS,
    alert_raise,
    alert_resolve,
)
from core.tasks import deliver_alert
from tests.alerts import deliver_queued_alerts, queued_alerts


@pytest.fixture(autouse=True)
def _no_alert_state(clean_ai_state):
    """No incident claimed and no alert queued before each test (tests/fixtures.py)."""


@pytest.fixture
def slack(vendor, settings):
    settings.SLACK_BOT_TOKEN = "xoxb-test"
    settings.SLACK_API_URL = vendor.url + "/api/"
    return vendor


def test_every_incident_kind_names_a_runbook_and_renders():
    for key, kind in INCIDENT_KINDS.items():
        assert kind.key == key
        assert kind.runbook.endswith(".md")
    text = ENRICHMENT_BACKLOG.render(backlog=6000, threshold=5000)
    assert "6000 memories wait" in text and "queue-backlog.md" in text


def test_an_incident_is_announced_once_until_it_is_resolved(slack):
    assert alert_raise(ENRICHMENT_BACKLOG, backlog=6000, threshold=5000)
    assert not alert_raise(ENRICHMENT_BACKLOG, backlog=7000, threshold=5000)
    assert deliver_queued_alerts() == 1
    alert_resolve(ENRICHMENT_BACKLOG)
    assert alert_raise(ENRICHMENT_BACKLOG, backlog=6500, threshold=5000)
    deliver_queued_alerts()
    assert [m for m in slack.slack_messages if "memories wait" in m] == [
        m for m in slack.slack_messages if "6000" in m or "6500" in m
    ]
    assert len(slack.slack_messages) == 2


def test_without_a_slack_token_alerts_are_logged_and_not_queued(settings, caplog):
    settings.SLACK_BOT_TOKEN = ""
    assert alert_raise(ENRICHMENT_BACKLOG, backlog=6000, threshold=5000)
    assert queued_alerts() == 0
    assert "6000 memories wait for enrichment" in caplog.text


@pytest.mark.django_db
def test_an_alert_raised_during_a_search_is_not_sent_inside_the_request(
    api, user, slack, openai_fake, settings
):
    """The search embeds its query through the guard, whose budget reservation crosses the
    80% warning: the request answers without calling Slack; the worker's task sends it."""
    settings.AI_PRICES_PER_1K_TOKENS = {"text-embedding-3-small": Decimal("1.00")}
    # The query is 8 tokens of cl100k_base, $0.008 here: 84% of the day's budget.
    settings.AI_BUDGET_USD_PER_DAY = Decimal("0.0095")
    from billing.models import Plan

    user.plan = Plan.objects.create(name="alerting-search")
    user.save()
    response = api.get("/api/v1/search", {"q": "where did I put the tomato soup recipe"})
    assert response.status_code == 200
    assert slack.slack_posts == 0  # nothing reached Slack while the request ran
    assert queued_alerts() == 1
    assert deliver_queued_alerts() == 1
    assert len(slack.slack_messages) == 1
    assert "84% of its $0.0095 budget" in slack.slack_messages[0]
    assert BUDGET_WARNING.runbook in slack.slack_messages[0]


def test_the_delivery_task_retries_slacks_transient_failures(slack):
    slack.slack_failures = 2  # HTTP 500 twice, then accepted
    result = deliver_alert.apply(args=["[warning] the queue is long"])
    assert result.successful()
    assert slack.slack_posts == 3
    assert slack.slack_messages == ["[warning] the queue is long"]


def test_the_delivery_task_does_not_retry_a_refusal(slack):
    slack.slack_failures, slack.slack_failure = 1, "invalid_auth"
    result = deliver_alert.apply(args=["[warning] the queue is long"])
    assert result.failed()
    assert slack.slack_posts == 1
    assert slack.slack_messages == []


def test_with_redis_down_an_alert_is_still_raised_without_de_duplication(slack, redis_down):
    assert alert_raise(ENRICHMENT_BACKLOG, backlog=6000, threshold=5000)
    assert alert_raise(ENRICHMENT_BACKLOG, backlog=6000, threshold=5000)  # nothing to dedupe on
    assert deliver_queued_alerts() == 2
