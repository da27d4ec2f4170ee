"""Reads of accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import ApiToken, User, normalize_email


def user_get_by_email(*, email: str) -> User:
    """The account with this email (case-insensitive); raises User.DoesNotExist."""
    return User.objects.select_related("plan").get(email=normalize_email(email))


def user_find_by_email(*, email: str) -> User | None:
    """The account with this email, or None; case-insensitive even for an address stored in
    mixed case (admin's user form saves it as typed)."""
    return User.objects.select_related("plan").filter(email__iexact=email.strip()).first()


def token_list(*, user: User) -> QuerySet[ApiToken]:
    """The user's API tokens (the pagination orders them newest first)."""
    return ApiToken.objects.filter(user=user)
