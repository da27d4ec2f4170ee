"""Operator alerts: to Slack through slack-sdk when SLACK_BOT_TOKEN is set, else to the log.

One message per incident: an incident key is claimed in Redis with SET NX, so however many
processes see the same failure, one of them sends; `incident_resolved` frees the key for the
next incident.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django_redis import get_redis_connection

logger = logging.getLogger("memory_connector.alerts")


def send_alert(text: str) -> None:
    logger.warning("ALERT %s", text)
    if not settings.SLACK_BOT_TOKEN:
        return
    from slack_sdk import WebClient

    try:
        client = WebClient(
            token=settings.SLACK_BOT_TOKEN, base_url=settings.SLACK_API_URL, timeout=5
        )
        client.chat_postMessage(channel=settings.SLACK_CHANNEL, text=text)
    except Exception:
        logger.exception("alert not delivered to Slack: %s", text)


def alert_once(incident: str, text: str, *, ttl: int = 24 * 3600) -> bool:
    """Send `text` unless this incident was already announced; True if sent."""
    try:
        claimed = get_redis_connection("default").set(f"alert:{incident}", 1, nx=True, ex=ttl)
    except Exception:
        logger.warning("Redis unavailable; alert %s sent without de-duplication", incident)
        claimed = True
    if claimed:
        send_alert(text)
    return bool(claimed)


def incident_resolved(incident: str) -> None:
    try:
        get_redis_connection("default").delete(f"alert:{incident}")
    except Exception:
        logger.warning("Redis unavailable; incident %s not cleared", incident)
