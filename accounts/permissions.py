"""Requests made for one account: `X-Account-Id` (docs/api.md).

A browser shares one session cookie between its tabs. When another account signs in in one
tab, a tab still showing the first account (or its service worker, replaying saves queued on
the device) would otherwise send that account's saves, edits and reads with the new one's
session. The PWA names the account each request is for; a session of another account answers
401 `account_changed`, which the PWA reads as signed out, and nothing is done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import BasePermission

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

ACCOUNT_HEADER = "X-Account-Id"


class ActsForTheNamedAccount(BasePermission):
    """No `X-Account-Id`: nothing to check. With it, the request's user must be that account."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        named = request.headers.get(ACCOUNT_HEADER)
        if named is None:
            return True
        user = request.user
        if user is not None and user.is_authenticated and str(user.pk) == named.strip():
            return True
        # Imported here: DRF loads this class while core.problems is still importing DRF.
        from core.problems import Problem

        raise Problem(
            status_code=401,
            code="account_changed",
            title="Signed in as another account",
            detail=(
                f"This request was made for account {named.strip()[:20]}, but this session "
                "is not that account's (another account signed in on this browser)."
            ),
            headers={"WWW-Authenticate": 'Bearer realm="api"'},
        )
