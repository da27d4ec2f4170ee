from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.limits import LIMITS
from billing.models import Plan
from billing.services import plan_set_limits

UNLIMITED = {"", "none", "null", "unlimited"}


def parse_limit(field: str, raw: str) -> object:
    if field not in Plan.LIMIT_FIELDS:
        raise CommandError(f"unknown limit {field!r}; known: {', '.join(Plan.LIMIT_FIELDS)}")
    if raw.strip().lower() in UNLIMITED:
        return None
    try:
        value = Decimal(raw) if LIMITS[field].decimal else int(raw)
    except (ValueError, InvalidOperation) as exc:
        raise CommandError(f"{field}: {raw!r} is not a number (or 'unlimited')") from exc
    if value < 0:
        raise CommandError(f"{field}: must not be negative")
    return value


class Command(BaseCommand):
    help = (
        "Create or change a plan: plan <name> [--set LIMIT=VALUE ...]. Limits: "
        + ", ".join(Plan.LIMIT_FIELDS)
        + ". VALUE 'unlimited' (or none) removes a limit; a new plan's unset limits are unlimited."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--set", dest="assignments", action="append", default=[], metavar="LIMIT=VALUE"
        )

    def handle(self, *args, name, assignments, **options):
        limits = {}
        for assignment in assignments:
            field, sep, raw = assignment.partition("=")
            if not sep:
                raise CommandError(f"--set {assignment!r}: expected LIMIT=VALUE")
            limits[field.strip()] = parse_limit(field.strip(), raw)
        try:
            plan, created = plan_set_limits(name=name, limits=limits)
        except (ValueError, ValidationError) as exc:
            raise CommandError(str(exc)) from exc
        shown = ", ".join(
            f"{field}={'unlimited' if value is None else value}"
            for field, value in plan.limits.items()
        )
        self.stdout.write(
            self.style.SUCCESS(f"{'created' if created else 'updated'} plan {plan.name}: {shown}")
        )
