import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils.dateparse import parse_datetime

from memories.models import Memory
from reminders.services import reminder_detect, reminders_deliver_due


@shared_task(acks_late=True)
def deliver_due() -> int:
    """Every minute (beat): due reminders into their inboxes, each once."""
    return reminders_deliver_due(batch=settings.REMINDER_DELIVERY_BATCH)


@shared_task(acks_late=True)
def detect_reminder(memory_id: str, relative_to: str | None = None) -> str | None:
    """Detect the reminder a saved or edited memory's text asks for (no AI call); the id of
    its detected reminder, or None."""
    memory = Memory.objects.live().select_related("user").filter(pk=memory_id).first()
    if memory is None:  # deleted since
        return None
    base: dt.datetime | None = parse_datetime(relative_to) if relative_to else None
    reminder = reminder_detect(memory=memory, relative_to=base)
    return str(reminder.pk) if reminder else None
