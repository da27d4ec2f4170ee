from __future__ import annotations

from accounts.models import User
from accounts.services import normalize_email


def user_get_by_email(*, email: str) -> User:
    """The account with this email (case-insensitive); raises User.DoesNotExist."""
    return User.objects.select_related("plan").get(email=normalize_email(email))
