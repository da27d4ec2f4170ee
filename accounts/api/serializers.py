from rest_framework import serializers

from accounts.models import User


class UserSerializer(serializers.ModelSerializer):
    plan = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "plan"]
        read_only_fields = fields


class CredentialsSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class SignupResponseSerializer(serializers.Serializer):
    user = UserSerializer()
    token = serializers.CharField()


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
