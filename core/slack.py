"""The one Slack client: posts a message with an explicit timeout and says whether a failure is
worth retrying. slack-sdk's own retries are off: the Celery task is the one retry owner."""

from __future__ import annotations

from django.conf import settings

# Slack's error codes that mean "later", not "never" (HTTP 429 and 5xx are transient too).
_TRANSIENT_CODES = {"ratelimited", "service_unavailable", "internal_error", "fatal_error"}


class SlackError(Exception):
    """Slack refused the message for good (a bad token, an unknown channel)."""

    transient = False


class TransientSlackError(SlackError):
    """Slack could not take the message now: retry later."""

    transient = True


def slack_post(text: str) -> None:
    """Post `text` to SLACK_CHANNEL. Raises TransientSlackError or SlackError."""
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(
        token=settings.SLACK_BOT_TOKEN,
        base_url=settings.SLACK_API_URL,
        timeout=settings.SLACK_TIMEOUT_SECONDS,
        retry_handlers=[],
    )
    try:
        client.chat_postMessage(channel=settings.SLACK_CHANNEL, text=text)
    except SlackApiError as exc:
        code = exc.response.get("error", "") if exc.response is not None else ""
        status = exc.response.status_code if exc.response is not None else 0
        transient = status == 429 or status >= 500 or code in _TRANSIENT_CODES
        raise (TransientSlackError if transient else SlackError)(
            f"Slack: {code or status}"
        ) from exc
    except OSError as exc:  # connection refused or reset, DNS, timeouts (URLError is an OSError)
        raise TransientSlackError(f"Slack unreachable: {exc}") from exc
