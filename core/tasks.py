from celery import shared_task

from core.idempotency import idempotency_keys_purge


@shared_task(acks_late=True)
def purge_expired_idempotency_keys() -> int:
    """Hourly: delete Idempotency-Key rows past their 24 h replay window."""
    return idempotency_keys_purge()
