from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.serializers import (
    CredentialsSerializer,
    SignupResponseSerializer,
    TokenResponseSerializer,
    UserSerializer,
)
from accounts.models import normalize_email
from accounts.services import EmailTaken, token_get_or_create, user_create
from core.problems import Problem, ProblemSerializer


class SignupView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_signup",
        request=CredentialsSerializer,
        responses={
            201: SignupResponseSerializer,
            400: OpenApiResponse(ProblemSerializer, "Bad email or weak password"),
            403: OpenApiResponse(ProblemSerializer, "Signup is disabled"),
            409: OpenApiResponse(ProblemSerializer, "Email already registered"),
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
        body = {"user": UserSerializer(user).data, "token": token_get_or_create(user=user)}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_token",
        request=CredentialsSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(ProblemSerializer, "Wrong credentials"),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        """Exchange email and password for the account's API token."""
        serializer = CredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=normalize_email(serializer.validated_data["email"]),
            password=serializer.validated_data["password"],
        )
        if user is None:
            raise Problem(
                status_code=400,
                code="invalid_credentials",
                detail="No active account with this email and password.",
            )
        return Response({"token": token_get_or_create(user=user)})


class MeView(APIView):
    @extend_schema(operation_id="me", responses={200: UserSerializer})
    def get(self, request: Request) -> Response:
        """The authenticated account."""
        return Response(UserSerializer(request.user).data)
