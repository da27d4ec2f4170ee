from celery import shared_task

from core.idempotency import idempotency_keys_purge
from core.slack import TransientSlackError, slack_post


@shared_task(acks_late=True)
def purge_expired_idempotency_keys() -> int:
    """Hourly: delete Idempotency-Key rows past their 24 h replay window, in batches."""
    return idempotency_keys_purge()


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(TransientSlackError,),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=10,
)
def deliver_alert(text: str) -> None:
    """Post one alert to Slack (queued by core.alerts.alert_raise on the `alerts` queue)."""
    slack_post(text)
