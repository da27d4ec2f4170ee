from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from waffle import get_waffle_flag_model

from accounts.selectors import user_get_by_email
from accounts.services import EmailTaken, user_create
from billing.models import Plan
from billing.selectors import plan_get
from core.flags import flag_add_user


class Command(BaseCommand):
    help = "Create an account: createuser --email E --password P [--plan NAME] [--staff]"

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--plan", default=None, help="plan name (default: DEFAULT_PLAN)")
        parser.add_argument(
            "--staff", action="store_true", help="staff and superuser: can use Django admin"
        )
        parser.add_argument(
            "--exists-ok", action="store_true", help="succeed without change if the account exists"
        )
        parser.add_argument(
            "--flag",
            action="append",
            default=[],
            dest="flags",
            help="list the new account on this feature flag (repeatable), e.g. near_duplicates",
        )

    def handle(self, *args, email, password, plan, staff, exists_ok, flags, **options):
        Flag = get_waffle_flag_model()
        missing = sorted(
            set(flags) - set(Flag.objects.filter(name__in=flags).values_list("name", flat=True))
        )
        if missing:
            raise CommandError(f"no feature flag named {', '.join(missing)}")
        try:
            plan_obj = plan_get(name=plan) if plan else None
        except Plan.DoesNotExist as exc:
            names = ", ".join(Plan.objects.values_list("name", flat=True))
            raise CommandError(f"no plan named {plan!r} (plans: {names})") from exc
        try:
            user = user_create(email=email, password=password, plan=plan_obj, is_staff=staff)
        except EmailTaken as exc:
            if exists_ok:
                user = user_get_by_email(email=email)
                self.stdout.write(f"account {user.email} exists (plan {user.plan.name})")
                return
            raise CommandError(f"an account with email {email!r} exists") from exc
        except ValidationError as exc:
            raise CommandError("password rejected: " + " ".join(exc.messages)) from exc
        for name in flags:
            flag_add_user(name, user)
        self.stdout.write(
            self.style.SUCCESS(
                f"created {user.email} (id {user.pk}, plan {user.plan.name}"
                f"{', staff' if user.is_staff else ''}{''.join(', flag ' + f for f in flags)})"
            )
        )
