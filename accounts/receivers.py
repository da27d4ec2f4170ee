"""A new password ends every API token of the account, whichever way it was set (the
password service, admin's password form, `manage.py changepassword`): they all go through
User.set_password. Sessions end by themselves: Django's session auth hash is derived from it."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from accounts.services import tokens_revoke_all


def revoke_tokens_on_password_change(
    sender: type[User], instance: User, raw: bool = False, **kwargs: Any
) -> None:
    """pre_save of User: set_password keeps the new raw password in `_password` until the
    save. A changed hash without it is Django re-hashing the same password with stronger
    parameters as it checks it at login (check_password's setter), which must log nobody
    out; an assignment of a ready-made hash (a data migration) is not a password change
    either."""
    if raw or instance._state.adding or instance.pk is None:
        return
    if getattr(instance, "_password", None) is None:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and "password" not in update_fields:
        return  # the new password is not what this save writes
    tokens_revoke_all(user_id=instance.pk)
