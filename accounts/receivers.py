"""A new password ends every API token of the account, whichever way it was set (the
password service, admin's password form, `manage.py changepassword`): they all save the User
with a new hash. Sessions end by themselves: Django's session auth hash is derived from it."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from accounts.services import tokens_revoke_all


def revoke_tokens_on_password_change(
    sender: type[User], instance: User, raw: bool = False, **kwargs: Any
) -> None:
    """pre_save of User: compare the stored hash with the one about to be saved."""
    update_fields = kwargs.get("update_fields")
    if raw or instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and "password" not in update_fields:
        return  # e.g. last_login, plan: no extra query on those saves
    stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    if stored is not None and stored != instance.password:
        tokens_revoke_all(user_id=instance.pk)
