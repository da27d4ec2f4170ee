from celery import shared_task

from billing.ai_budget import ai_spend_views_refresh


@shared_task(ignore_result=True)
def refresh_ai_spend_views() -> None:
    ai_spend_views_refresh()
