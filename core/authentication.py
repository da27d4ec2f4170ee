from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """`Authorization: Bearer <token>`; listed first so a missing credential answers 401."""

    keyword = "Bearer"
