"""Operator alerts (DESIGN §2, §8): one catalogue of the incidents we announce, raised once per
incident, delivered to Slack by a Celery task (never on the request path that noticed it).

An incident is claimed in Redis with SET NX (`alert:<kind>:<scope>`), so however many
processes see the same failure, one of them announces it; `alert_resolve` frees the claim for
the next incident. Every alert is logged where it is raised; with SLACK_BOT_TOKEN set it is
also queued for `core.tasks.deliver_alert` on the `alerts` queue, which retries Slack's
transient failures with backoff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from celery import current_app
from django.conf import settings

from core.redis import state_redis

logger = logging.getLogger("memory_connector.alerts")

DELIVER_TASK = "core.tasks.deliver_alert"
_DAY = 24 * 3600


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class IncidentKind:
    """A kind of incident: `message` is a str.format template, `runbook` the page an operator
    follows, `ttl` how long a claim lasts if nothing resolves it."""

    key: str
    severity: Severity
    message: str
    runbook: str
    ttl: int = _DAY

    def render(self, **params: object) -> str:
        """The message with `params` filled in, its severity and its runbook link."""
        return (
            f"[{self.severity}] {self.message.format(**params)} "
            f"Runbook: {settings.RUNBOOK_BASE_URL}{self.runbook}"
        )


BREAKER_OPEN = IncidentKind(
    "breaker-open",
    Severity.CRITICAL,
    "AI breaker '{breaker}' opened ({reason}); memories wait as pending.",
    "breaker-open.md",
)
BREAKER_CLOSED = IncidentKind(
    "breaker-closed",
    Severity.INFO,
    "AI breaker '{breaker}' closed: AI calls resumed.",
    "breaker-open.md",
)
BUDGET_WARNING = IncidentKind(
    "budget-80",
    Severity.WARNING,
    "AI spend of the {period} is at {percent} of its ${limit} budget.",
    "budget-reached.md",
    ttl=40 * _DAY,
)
BUDGET_SPENT = IncidentKind(
    "budget-100",
    Severity.CRITICAL,
    "AI budget of the {period} (${limit}) is spent: AI calls are paused until it resets or "
    "an operator raises it.",
    "budget-reached.md",
    ttl=40 * _DAY,
)
ENRICHMENT_BACKLOG = IncidentKind(
    "enrichment-backlog",
    Severity.WARNING,
    "{backlog} memories wait for enrichment (threshold {threshold}).",
    "queue-backlog.md",
)

INCIDENT_KINDS = {
    kind.key: kind
    for kind in (BREAKER_OPEN, BREAKER_CLOSED, BUDGET_WARNING, BUDGET_SPENT, ENRICHMENT_BACKLOG)
}


def _claim_key(kind: IncidentKind, scope: str) -> str:
    return f"alert:{kind.key}:{scope}" if scope else f"alert:{kind.key}"


def alert_raise(kind: IncidentKind, *, scope: str = "", **params: object) -> bool:
    """Announce an incident of `kind` (`scope` tells incidents of one kind apart: a breaker's
    name, a budget's period) unless it was already announced; True if this call announced it.
    `params` fill the kind's message. Never raises: an alert must not break its caller."""
    try:
        text = kind.render(**params)
    except (KeyError, IndexError, ValueError):
        logger.exception("alert %s: its message did not render; sent as written", kind.key)
        text = f"[{kind.severity}] {kind.message} {params}"
    try:
        claimed = state_redis().set(_claim_key(kind, scope), 1, nx=True, ex=kind.ttl)
    except Exception:
        logger.warning("Redis unavailable; alert %s raised without de-duplication", kind.key)
        claimed = True
    if not claimed:
        return False
    logger.warning("ALERT %s", text)
    if settings.SLACK_BOT_TOKEN:
        try:
            # No publish retries: this may run on a request path, and the alert is logged.
            current_app.send_task(DELIVER_TASK, args=[text], retry=False)
        except Exception:
            logger.exception("alert not queued for Slack (broker unavailable): %s", text)
    return True


def alert_resolve(kind: IncidentKind, *, scope: str = "") -> None:
    """The incident is over: the next one of this kind and scope is announced again."""
    try:
        state_redis().delete(_claim_key(kind, scope))
    except Exception:
        logger.warning("Redis unavailable; incident %s not cleared", kind.key)
