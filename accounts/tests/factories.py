import factory
from rest_framework.authtoken.models import Token

from accounts.models import User
from billing.models import Plan


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    plan = factory.LazyFunction(lambda: Plan.objects.get(name="free"))
    password = factory.django.Password("correct horse battery staple")


class TokenFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Token
        django_get_or_create = ("user",)

    user = factory.SubFactory(UserFactory)
