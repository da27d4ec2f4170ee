"""Writes on accounts. Every account change goes through these functions."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token

from accounts.models import User, normalize_email
from billing.models import Plan
from billing.selectors import plan_default, plan_get
from billing.signals import plan_limits_changed


class EmailTaken(Exception):
    pass


def user_create(
    *,
    email: str,
    password: str,
    plan: Plan | None = None,
    is_staff: bool = False,
) -> User:
    """Create an account. Raises EmailTaken, or django ValidationError for a weak password.

    The case-insensitive unique constraint on email settles a signup race: the loser gets
    EmailTaken, never an IntegrityError.
    """
    email = normalize_email(email)
    candidate = User(email=email)
    validate_password(password, user=candidate)
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email,
                password,
                plan=plan or plan_default(),
                is_staff=is_staff,
                is_superuser=is_staff,
            )
    except IntegrityError as exc:
        raise EmailTaken(email) from exc


def user_set_plan(*, user: User, plan_name: str) -> User:
    """Move `user` to the plan called `plan_name`; raises Plan.DoesNotExist. Work waiting for
    the old plan's limits hears of it through billing's plan_limits_changed signal."""
    user.plan = plan_get(name=plan_name)
    user.save(update_fields=["plan"])
    plan_limits_changed.send(sender=User, plan_id=None, user_ids=[user.pk])
    return user


def token_get_or_create(*, user: User) -> str:
    """The user's API token (one per user), created on first use."""
    token, _ = Token.objects.get_or_create(user=user)
    return token.key
