import factory

from accounts.models import ApiToken, User
from accounts.services import token_create
from billing.models import Plan


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    plan = factory.LazyFunction(lambda: Plan.objects.get(name="free"))
    password = factory.django.Password("correct horse battery staple")


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
