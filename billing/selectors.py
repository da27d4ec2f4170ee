from django.conf import settings

from billing.models import Plan


def plan_get(*, name: str) -> Plan:
    """The plan called `name`; raises Plan.DoesNotExist."""
    return Plan.objects.get(name=name)


def plan_default() -> Plan:
    """The plan new accounts start on (DEFAULT_PLAN)."""
    return plan_get(name=settings.DEFAULT_PLAN)
