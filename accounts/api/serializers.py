from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import serializers

from accounts.models import User
from core.fields import PatchBodyMixin, StrictCharField
from core.timezones import iana_time_zones

if TYPE_CHECKING:
    from billing.models import Plan


class UserSerializer(serializers.ModelSerializer):
    plan: serializers.SlugRelatedField[Plan] = serializers.SlugRelatedField(
        slug_field="name", read_only=True
    )
    time_zone = serializers.CharField(
        read_only=True, help_text="IANA time zone name, such as Europe/Berlin (default UTC)"
    )

    class Meta:
        model = User
        fields = ["id", "email", "plan", "time_zone"]
        read_only_fields = fields


class UserUpdateSerializer(PatchBodyMixin, serializers.Serializer):
    # The schema lists the names, so clients can offer them (the PWA's "Time zone").
    time_zone = serializers.ChoiceField(
        choices=sorted(iana_time_zones()),
        help_text="An IANA time zone name, such as Europe/Berlin or UTC",
        error_messages={
            "invalid_choice": "{input!r} is not an IANA time zone name (such as Europe/Berlin "
            "or UTC)."
        },
    )


class CredentialsSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = StrictCharField(max_length=128, write_only=True, trim_whitespace=False)


class SignupResponseSerializer(serializers.Serializer):
    user = UserSerializer()
    token = serializers.CharField()


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class LoginResponseSerializer(serializers.Serializer):
    user = UserSerializer()


class ApiTokenSerializer(serializers.Serializer):
    """A token as listed: never its secret."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    last_used_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ApiTokenCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)


class ApiTokenCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    token = serializers.CharField(
        allow_null=True,
        help_text="The secret: shown this once, stored only as a hash (null in the replay of "
        "an Idempotency-Key).",
    )
