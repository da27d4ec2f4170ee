from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    CredentialsSerializer,
    LoginResponseSerializer,
    SignupResponseSerializer,
    TokenResponseSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from accounts.authentication import signed_in_user
from accounts.models import ApiToken, User
from accounts.permissions import ActsForTheNamedAccount
from accounts.selectors import token_list
from accounts.services import (
    EmailTaken,
    InvalidCredentials,
    NewToken,
    TooManyFailures,
    TooManyTokens,
    token_create,
    token_delete,
    user_authenticate,
    user_create,
    user_set_time_zone,
)
from core.idempotency import HEADER as IDEMPOTENCY_KEY
from core.idempotency import IdempotencyMixin
from core.problems import Problem, ProblemSerializer
from core.throttles import CredentialAttemptsPerIpThrottle

_wrong_credentials = OpenApiResponse(ProblemSerializer, "invalid_credentials")
_too_many = OpenApiResponse(ProblemSerializer, "rate_limited: too many attempts; see Retry-After")


_too_many_tokens = OpenApiResponse(ProblemSerializer, "too_many_tokens: revoke some first")


def _new_token(user: User, name: str) -> NewToken:
    try:
        return token_create(user=user, name=name)
    except TooManyTokens as exc:
        raise Problem(
            status_code=409,
            code="too_many_tokens",
            detail=f"This account holds {exc.limit} API tokens, the most it may: revoke "
            "unused ones (GET and DELETE /api/v1/tokens) first.",
            limit=exc.limit,
        ) from exc


def _authenticated_user(request: Request) -> User:
    """The account of the request's email and password, or the 400 / 429 problem."""
    serializer = CredentialsSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        return user_authenticate(request=request, **serializer.validated_data)
    except InvalidCredentials as exc:
        raise Problem(
            status_code=400,
            code="invalid_credentials",
            detail="No active account with this email and password.",
        ) from exc
    except TooManyFailures as exc:
        raise Problem(
            status_code=429,
            code="rate_limited",
            title="Too many failed logins",
            detail=f"Too many wrong passwords for this account; retry in {exc.retry_after} s.",
            retry_after=exc.retry_after,
            headers={"Retry-After": str(exc.retry_after)},
        ) from exc


class SignupView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [CredentialAttemptsPerIpThrottle]

    @extend_schema(
        operation_id="auth_signup",
        request=CredentialsSerializer,
        responses={
            201: SignupResponseSerializer,
            400: OpenApiResponse(ProblemSerializer, "Bad email or weak password"),
            403: OpenApiResponse(ProblemSerializer, "Signup is disabled"),
            409: OpenApiResponse(ProblemSerializer, "Email already registered"),
            429: _too_many,
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        """Create an account and return it with its API token."""
        if not settings.SIGNUP_ENABLED:
            raise Problem(
                status_code=403,
                code="signup_disabled",
                detail="Signup is disabled on this server; ask an operator.",
            )
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = user_create(**serializer.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError({"password": list(exc.messages)}) from exc
        except EmailTaken as exc:
            raise Problem(
                status_code=409,
                code="email_taken",
                detail="An account with this email already exists.",
            ) from exc
        new = token_create(user=user, name="signup")
        body = {"user": UserSerializer(user).data, "token": new.secret}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [CredentialAttemptsPerIpThrottle]

    @extend_schema(
        operation_id="auth_token",
        request=CredentialsSerializer,
        responses={
            200: TokenResponseSerializer,
            400: _wrong_credentials,
            409: _too_many_tokens,
            429: _too_many,
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        """Exchange email and password for a new API token (named "auth/token")."""
        user = _authenticated_user(request)
        return Response({"token": _new_token(user, "auth/token").secret})


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [CredentialAttemptsPerIpThrottle]

    @extend_schema(
        operation_id="auth_login",
        request=CredentialsSerializer,
        responses={200: LoginResponseSerializer, 400: _wrong_credentials, 429: _too_many},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        """Log in the PWA: a session cookie and a CSRF cookie (send it back as X-CSRFToken
        on unsafe requests). A new session key each time, against session fixation.

        Takes JSON only, so a cross-site form cannot log a browser into another account."""
        user = _authenticated_user(request)
        login(request, user)  # cycles the session key and the CSRF token
        return Response({"user": UserSerializer(user).data})


class LogoutView(IdempotencyMixin, APIView):
    # Anyone may end their session; one made for a named account ends only that one's.
    permission_classes = [AllowAny, ActsForTheNamedAccount]

    @extend_schema(
        operation_id="auth_logout",
        request=None,
        responses={
            204: None,
            403: OpenApiResponse(ProblemSerializer, "A session without its CSRF token"),
            429: OpenApiResponse(ProblemSerializer, "rate_limited: writes_per_minute"),
        },
    )
    def post(self, request: Request) -> Response:
        """End the session (its row is deleted); nothing to do for a Bearer token."""
        logout(request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(IdempotencyMixin, APIView):
    @extend_schema(operation_id="me", responses={200: UserSerializer})
    def get(self, request: Request) -> Response:
        """The authenticated account."""
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        operation_id="me_update",
        request=UserUpdateSerializer,
        responses={200: UserSerializer},
    )
    def patch(self, request: Request) -> Response:
        """Change the account's time zone (an IANA name; 400 for anything else)."""
        serializer = UserUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_set_time_zone(user=signed_in_user(request), **serializer.validated_data)
        return Response(UserSerializer(user).data)


class ApiTokenListView(IdempotencyMixin, GenericAPIView):
    serializer_class = ApiTokenSerializer

    def get_queryset(self) -> QuerySet[ApiToken]:
        return token_list(user=signed_in_user(self.request))

    @extend_schema(operation_id="tokens_list", responses={200: ApiTokenSerializer(many=True)})
    def get(self, request: Request) -> Response:
        """The user's API tokens, newest first; never their secrets."""
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ApiTokenSerializer(page, many=True).data)

    @extend_schema(
        operation_id="tokens_create",
        request=ApiTokenCreateSerializer,
        responses={201: ApiTokenCreatedSerializer, 409: _too_many_tokens},
    )
    def post(self, request: Request) -> Response:
        """A new named token. Its secret is in this answer only: the server keeps a hash.
        A replay of its Idempotency-Key answers the same token with `token` null."""
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new = _new_token(signed_in_user(request), serializer.validated_data["name"])
        body = {"id": new.token.pk, "name": new.token.name, "token": new.secret}
        return Response(body, status=status.HTTP_201_CREATED)

    def finalize_response(
        self, request: Request, response: Any, *args: Any, **kwargs: Any
    ) -> Response:
        # The idempotency mixin stores the answer it finalizes: let it store the new token
        # without its secret (a replay shows `token: null`), then send the secret once.
        secret = None
        keyed = request.method == "POST" and IDEMPOTENCY_KEY in request.headers
        if keyed and isinstance(response, Response) and isinstance(response.data, dict):
            secret = response.data.get("token")
            if secret is not None:
                response.data = {**response.data, "token": None}
        response = super().finalize_response(request, response, *args, **kwargs)
        if secret is not None:
            response.data = {**response.data, "token": secret}
            response.content = response.rendered_content
        return response


class ApiTokenDetailView(IdempotencyMixin, APIView):
    @extend_schema(operation_id="tokens_delete", responses={204: None})
    def delete(self, request: Request, token_id: int) -> Response:
        """Revoke a token: it stops working with the next request."""
        try:
            token_delete(user=signed_in_user(request), token_id=token_id)
        except ApiToken.DoesNotExist as exc:
            raise Http404 from exc
        return Response(status=status.HTTP_204_NO_CONTENT)
