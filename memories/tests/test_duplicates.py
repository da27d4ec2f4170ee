"""Exact duplicates: the same normalized content (and URL) is one memory per user."""

import pytest
from django.db import IntegrityError

from memories.models import Memory
from memories.normalization import content_hash
from memories.tests.factories import MemoryFactory
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db


def save(client, **body):
    return client.post("/api/v1/memories", body, format="json")


def test_saving_the_same_content_again_returns_the_existing_memory(api):
    first = save(api, content="Call the dentist")
    again = save(api, content="Call the dentist", title="a different title", kind="task")
    assert first.status_code == 201 and first.json()["duplicate"] is False
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["title"] == ""  # the existing memory, unchanged
    assert Memory.objects.count() == 1


@pytest.mark.parametrize(
    "variant",
    [
        "  Call   the\tdentist \n",
        "\uff23\uff41\uff4c\uff4c the dentist",  # full-width "Call"
    ],
)
def test_whitespace_and_unicode_width_do_not_make_new_content(api, variant):
    # Case does: memories/tests/test_duplicate_case.py.
    original = save(api, content="Call the dentist").json()
    again = save(api, content=variant)
    assert again.status_code == 200
    assert again.json()["id"] == original["id"]


def test_the_same_text_with_another_url_is_another_memory(api):
    save(api, content="read later", url="https://example.com/a")
    other = save(api, content="read later", url="https://example.com/b")
    assert other.status_code == 201
    assert Memory.objects.count() == 2


def test_different_users_may_save_the_same_content(api, other_user, client_for):
    assert save(api, content="shared idea").status_code == 201
    assert save(client_for(other_user), content="shared idea").status_code == 201


def test_a_deleted_memory_does_not_block_saving_its_content_again(api):
    first = save(api, content="again").json()
    api.delete(f"/api/v1/memories/{first['id']}")
    again = save(api, content="again")
    assert again.status_code == 201
    assert again.json()["id"] != first["id"]


def test_a_duplicate_save_uses_no_quota(api, user):
    save(api, content="once")
    save(api, content="once")
    used = api.get("/api/v1/usage").json()["used"]
    assert used["saves_per_day"] == 1
    assert used["max_memories"] == 1


def test_the_database_refuses_two_live_copies(user):
    MemoryFactory(user=user, content="only once")
    with pytest.raises(IntegrityError):
        MemoryFactory(user=user, content=" only  once")


def test_editing_a_memory_into_another_ones_content_is_409(api, user):
    keep = MemoryFactory(user=user, content="keep")
    other = MemoryFactory(user=user, content="other")
    response = api.patch(
        f"/api/v1/memories/{other.id}", {"content": " keep "}, format="json", HTTP_IF_MATCH="1"
    )
    body = assert_problem(response, 409, "duplicate_content")
    assert body["duplicate_of"] == str(keep.id)
    other.refresh_from_db()
    assert other.content == "other" and other.version == 1


def test_the_hash_covers_normalized_content_and_url():
    assert content_hash(" a  b", "") == content_hash("a b", "")
    assert content_hash("A b", "") != content_hash("a b", "")  # case is kept
    assert content_hash("a b", "https://x") != content_hash("a b", "")
    assert content_hash("ﬁle", "") == content_hash("file", "")  # NFKC folds the ligature
