"""Writes on accounts. Every account change goes through these functions."""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from rest_framework.authtoken.models import Token

from accounts.models import User
from billing.models import Plan
from billing.selectors import plan_default, plan_get
from enrichment.services import enrichment_unpark


class EmailTaken(Exception):
    pass


def normalize_email(email: str) -> str:
    return email.strip().lower()


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
    """Move `user` to the plan called `plan_name`; raises Plan.DoesNotExist."""
    user.plan = plan_get(name=plan_name)
    user.save(update_fields=["plan"])
    enrichment_unpark(user_ids=[user.pk])
    return user


def token_get_or_create(*, user: User) -> str:
    """The user's API token (one per user), created on first use."""
    token, _ = Token.objects.get_or_create(user=user)
    return token.key
