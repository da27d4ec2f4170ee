import factory

from accounts.tests.factories import UserFactory
from memories.models import Memory
from memories.normalization import content_hash


class MemoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Memory

    user = factory.SubFactory(UserFactory)
    content = factory.Sequence(lambda n: f"Remember thing number {n}")
    title = ""
    url = ""
    content_hash = factory.LazyAttribute(lambda m: content_hash(m.content, m.url))
