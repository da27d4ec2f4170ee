"""Reads of accounts."""

from __future__ import annotations

from accounts.models import User, normalize_email


def user_get_by_email(*, email: str) -> User:
    """The account with this email (case-insensitive); raises User.DoesNotExist."""
    return User.objects.select_related("plan").get(email=normalize_email(email))


def user_find_by_email(*, email: str) -> User | None:
    """The account with this email (case-insensitive), or None."""
    return User.objects.select_related("plan").filter(email=normalize_email(email)).first()
