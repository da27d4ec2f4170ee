"""API clients authenticate with `Authorization: Bearer <token>` (accounts.models.ApiToken)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated

from core.authentication import BearerTokenAuthentication

if TYPE_CHECKING:
    from rest_framework.request import Request

    from accounts.models import ApiToken, User


class ApiTokenAuthentication(BearerTokenAuthentication):
    """One query finds the token by the digest of the secret, with its user and their plan
    (every request needs the plan for its limits). The secret is never compared byte by byte:
    only its digest reaches the database, so response times say nothing about it."""

    def authenticate_credentials(self, key: str) -> tuple[User, ApiToken]:
        # Imported here: DRF imports this class with rest_framework.views, which the models'
        # own imports (core.problems) load while the app registry is still filling.
        from accounts.models import ApiToken
        from accounts.services import token_digest, token_mark_used

        try:
            token = ApiToken.objects.select_related("user__plan").get(key_digest=token_digest(key))
        except ApiToken.DoesNotExist as exc:
            raise AuthenticationFailed("Invalid token.") from exc
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        token_mark_used(token=token)
        return (token.user, token)


def signed_in_user(request: Request) -> User:
    """The request's user, for views behind IsAuthenticated (REST_FRAMEWORK's default).

    DRF types `request.user` as `User | AnonymousUser` whatever the permissions; this narrows
    it for the services, which take a User. An anonymous request never gets here (the
    permission answers 401 first); if a view drops IsAuthenticated, it answers 401 too.
    """
    user = request.user
    if not user.is_authenticated:
        raise NotAuthenticated()
    return user
