from __future__ import annotations

from typing import Any

from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <token>`; listed first so a missing credential answers 401.

    DRF's header parsing and 401 answer; where tokens live is the business of the layer that
    owns them (accounts.authentication.ApiTokenAuthentication), which implements
    authenticate_credentials.
    """

    keyword = "Bearer"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        raise NotImplementedError
