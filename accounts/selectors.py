"""Reads of accounts."""

from __future__ import annotations

from accounts.models import User, normalize_email


def user_get_by_email(*, email: str) -> User:
    """The account with this email (case-insensitive); raises User.DoesNotExist."""
    return User.objects.select_related("plan").get(email=normalize_email(email))


def user_find_by_email(*, email: str) -> User | None:
    """The account with this email, or None; case-insensitive even for an address stored in
    mixed case (admin's user form saves it as typed)."""
    return User.objects.select_related("plan").filter(email__iexact=email.strip()).first()
