"""django-axes for the admin site only (AXES_ONLY_ADMIN_SITE).

Axes only refuses admin logins then, but its handler would still record every failed API
login as an access attempt: a database write per wrong password, and API guessing would lock
the admin. The API has throttles of its own (accounts.services.user_authenticate)."""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler

from accounts.models import normalize_email


class AdminOnlyAxesHandler(AxesDatabaseHandler):
    def user_login_failed(self, sender: Any, credentials: dict, request: Any = None, **kwargs):
        if request is not None and self.is_admin_request(request):
            return super().user_login_failed(sender, credentials, request, **kwargs)
        return None

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs):
        if self.is_admin_request(request):
            return super().user_logged_in(sender, request, user, **kwargs)
        return None

    def user_logged_out(self, sender: Any, request: Any, user: Any, **kwargs):
        if self.is_admin_request(request):
            return super().user_logged_out(sender, request, user, **kwargs)
        return None


def lockout_username(request: Any, credentials: dict | None = None) -> str | None:
    """The account an admin login names (AXES_USERNAME_CALLABLE): the email as it is stored,
    so "Boss@Example.com" and "boss@example.com" count toward the same lockout."""
    source = credentials if credentials else getattr(request, "POST", {})
    username = source.get("username")
    return normalize_email(username) if isinstance(username, str) else None
