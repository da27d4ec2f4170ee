"""memory_create's INSERT sends only the fields a new memory sets; the database fills in the
rest, and must fill in what the returned instance (and so the API's answer) says."""

import pytest
from django.db.models import NOT_PROVIDED

from memories.models import Memory
from memories.services import _INSERTED_FIELDS, memory_create

pytestmark = pytest.mark.django_db


def _stored_fields() -> list:
    return [field for field in Memory._meta.concrete_fields if not field.generated]


def test_every_field_left_out_of_the_insert_has_the_python_default_in_the_database():
    for field in _stored_fields():
        if field.name in _INSERTED_FIELDS:
            continue
        if field.null and field.get_default() is None:
            continue  # NULL, the column's own default
        assert field.db_default is not NOT_PROVIDED, f"{field.name} needs a db_default"
        assert field.db_default == field.get_default(), field.name


def test_the_stored_row_is_the_instance_memory_create_returned(user):
    created = memory_create(
        user=user, content="Ferns like shade", title="Garden", kind="idea", tags=["plants"]
    ).memory
    stored = Memory.objects.get(pk=created.pk)
    for field in _stored_fields():
        assert field.value_from_object(stored) == field.value_from_object(created), field.name
    assert (stored.version, stored.enrichment_status, stored.category) == (1, "pending", "")
