from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.selectors import user_get_by_email
from accounts.services import user_set_plan
from billing.models import Plan


class Command(BaseCommand):
    help = "Move an account to another plan: setplan <email> <plan>"

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("plan")

    def handle(self, *args, email, plan, **options):
        try:
            user = user_get_by_email(email=email)
        except User.DoesNotExist as exc:
            raise CommandError(f"no account with email {email!r}") from exc
        try:
            user_set_plan(user=user, plan_name=plan)
        except Plan.DoesNotExist as exc:
            names = ", ".join(Plan.objects.values_list("name", flat=True))
            raise CommandError(f"no plan named {plan!r} (plans: {names})") from exc
        self.stdout.write(self.style.SUCCESS(f"{user.email} is now on plan {plan}"))
