import datetime as dt

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from memories.tests.factories import MemoryFactory
from reminders.models import Reminder


class ReminderFactory(factory.django.DjangoModelFactory):
    """A scheduled reminder in UTC; `remind_at` defaults to a minute ago (due)."""

    class Meta:
        model = Reminder

    user = factory.SubFactory(UserFactory)
    memory = factory.SubFactory(MemoryFactory, user=factory.SelfAttribute("..user"))
    remind_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=1))
    occurrence_at = factory.SelfAttribute("remind_at")
    time_zone = "UTC"
    local_date = factory.LazyAttribute(lambda r: r.remind_at.date())
    local_time = factory.LazyAttribute(lambda r: r.remind_at.time().replace(tzinfo=None))
