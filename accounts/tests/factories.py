import functools

import factory
from django.conf import settings
from django.contrib.auth.hashers import make_password

from accounts.models import ApiToken, User
from accounts.services import token_create
from billing.models import Plan


@functools.cache
def _password_hash(raw: str, hashers: tuple[str, ...]) -> str:
    return make_password(raw)


def password_hash(raw: str) -> str:
    """One hash per password (and hasher setting) per process: PBKDF2's million iterations
    cost ~0.2 s a user, and a test user's password must work, not have a salt of its own."""
    return _password_hash(raw, tuple(settings.PASSWORD_HASHERS))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    plan = factory.LazyFunction(lambda: Plan.objects.get(name="free"))
    password = factory.Transformer("correct horse battery staple", transform=password_hash)


class TokenFactory(factory.django.DjangoModelFactory):
    """A new API token made by the service; its secret, which the database never holds, is
    on the instance as `key` for the test to send."""

    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    name = "test"

    @classmethod
    def _create(cls, model_class, *, user, name, **kwargs):
        new = token_create(user=user, name=name)
        new.token.key = new.secret
        return new.token
