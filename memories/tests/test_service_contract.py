"""memories.services as its callers see it: what its exceptions say, what an edit, a restore, a
merge and its undo leave behind, and when enrichment is asked to run."""

import datetime as dt
import threading
import uuid

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.redis import state_redis
from memories.enrichment import KICK_KEY, enrichment_kick_clear, memories_claim
from memories.models import Memory
from memories.selectors import memory_get
from memories.services import (
    DuplicateContent,
    VersionConflict,
    memory_create,
    memory_delete,
    memory_merge_into,
    memory_restore,
    memory_unmerge,
    memory_update,
)
from memories.tests.factories import MemoryFactory
from tests.queues import purge

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_kick_pending():
    """No kick flag set, none remembered by this process, and no task queued, before and
    after: whether a write asks for enrichment shows as the flag."""
    from celery import current_app

    def empty():
        enrichment_kick_clear()
        purge(current_app.conf.task_default_queue)

    empty()
    yield
    empty()


def enrichment_asked() -> bool:
    return bool(state_redis().exists(KICK_KEY))


def claimable(memory: Memory) -> bool:
    return [claimed.id for claimed in memories_claim(limit=1, memory_ids=[str(memory.pk)])] == [
        str(memory.pk)
    ]


# What the exceptions say


def test_duplicate_content_names_the_memory_that_already_has_the_content(user):
    existing = MemoryFactory(user=user, content="Water the ferns")
    edited = MemoryFactory(user=user, content="Something else")

    with pytest.raises(DuplicateContent) as raised:
        memory_update(
            user=user,
            memory_id=edited.pk,
            expected_version=1,
            changes={"content": "Water the ferns"},
        )

    assert str(raised.value) == f"same content as memory {existing.pk}"
    assert raised.value.existing == existing


def test_version_conflict_says_which_version_the_server_has(user):
    memory = MemoryFactory(user=user, version=3)

    with pytest.raises(VersionConflict) as raised:
        memory_update(user=user, memory_id=memory.pk, expected_version=2, changes={"title": "x"})

    assert str(raised.value) == f"memory {memory.pk} is at version 3"


def test_deleting_a_missing_memory_raises_does_not_exist_naming_its_id(user):
    missing = uuid.uuid4()

    with pytest.raises(Memory.DoesNotExist) as raised:
        memory_delete(user=user, memory_id=missing)

    assert raised.value.args == (missing,)


def test_merging_a_missing_memory_raises_does_not_exist_naming_the_merged_id(user):
    kept = MemoryFactory(user=user)
    missing = uuid.uuid4()

    with pytest.raises(Memory.DoesNotExist) as raised:
        memory_merge_into(user=user, kept_id=kept.pk, merged_id=missing)

    assert raised.value.args == (missing,)


# Edits


def test_editing_only_the_url_makes_the_memory_the_duplicate_of_a_save_with_the_new_url(user):
    memory = MemoryFactory(user=user, content="A good read", url="https://old.example/post")

    memory_update(
        user=user,
        memory_id=memory.pk,
        expected_version=1,
        changes={"url": "https://new.example/post"},
    )

    again = memory_create(user=user, content="A good read", url="https://new.example/post")
    assert (again.created, again.memory.pk) == (False, memory.pk)


def test_editing_only_the_content_keeps_the_url_in_what_counts_as_a_duplicate(user):
    memory = MemoryFactory(user=user, content="Draft", url="https://example.com/a")

    memory_update(user=user, memory_id=memory.pk, expected_version=1, changes={"content": "Final"})

    again = memory_create(user=user, content="Final", url="https://example.com/a")
    assert (again.created, again.memory.pk) == (False, memory.pk)


def test_editing_the_content_of_a_memory_that_gave_up_enrichment_lets_it_be_claimed_again(
    user, settings
):
    settings.ENRICHMENT_MAX_ATTEMPTS = 1
    memory = MemoryFactory(
        user=user,
        content="Old text",
        enrichment_status=Memory.EnrichmentStatus.FAILED,
        enrichment_attempts=1,
    )

    edited = memory_update(
        user=user, memory_id=memory.pk, expected_version=1, changes={"content": "New text"}
    )

    assert edited.enrichment_status == Memory.EnrichmentStatus.PENDING
    assert claimable(edited)


def test_editing_the_content_asks_for_enrichment_once_committed(
    user, no_kick_pending, django_capture_on_commit_callbacks
):
    memory = MemoryFactory(user=user, content="Before")

    with django_capture_on_commit_callbacks(execute=True):
        memory_update(
            user=user, memory_id=memory.pk, expected_version=1, changes={"content": "After"}
        )

    assert enrichment_asked()


def test_editing_only_the_title_does_not_ask_for_enrichment(
    user, no_kick_pending, django_capture_on_commit_callbacks
):
    memory = MemoryFactory(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        memory_update(user=user, memory_id=memory.pk, expected_version=1, changes={"title": "T"})

    assert not enrichment_asked()


def test_an_edit_refused_by_another_constraint_is_not_reported_as_duplicate_content(user):
    # Whitespace-only content normalizes to "", so this memory has the hash an empty content
    # would have; the database refuses the empty content itself (memory_content_not_empty)
    # before it looks at the unique index: that refusal must not pass for a duplicate.
    MemoryFactory(user=user, content="   ")
    memory = MemoryFactory(user=user, content="Something")

    with pytest.raises(IntegrityError, match="memory_content_not_empty"):
        memory_update(user=user, memory_id=memory.pk, expected_version=1, changes={"content": ""})


# Restore


def test_a_restored_memory_is_claimed_for_enrichment_at_once_whatever_it_went_through(
    user, settings
):
    settings.ENRICHMENT_MAX_ATTEMPTS = 1
    memory = MemoryFactory(
        user=user,
        enrichment_status=Memory.EnrichmentStatus.ENRICHED,
        enrichment_attempts=1,
        enrichment_lease_until=timezone.now() + dt.timedelta(minutes=5),
    )
    memory_delete(user=user, memory_id=memory.pk)

    restored = memory_restore(user=user, memory_id=memory.pk)

    assert restored.enrichment_status == Memory.EnrichmentStatus.PENDING
    assert claimable(restored)


@pytest.mark.django_db(transaction=True)
def test_restore_lets_the_integrity_error_through_when_it_cannot_see_the_memory_in_its_way():
    # Under REPEATABLE READ the memory saved by another connection after the snapshot blocks
    # the restore (unique index) but is invisible to the lookup of the duplicate: as when
    # it is deleted between the two statements under READ COMMITTED.
    user = UserFactory()
    memory = MemoryFactory(user=user, content="Saved twice", deleted_at=timezone.now())

    def save_the_same_content_elsewhere():
        try:
            MemoryFactory(user=user, content="Saved twice")
        finally:
            connections.close_all()

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        assert Memory.objects.filter(user=user).count() == 1  # the snapshot is taken
        other = threading.Thread(target=save_the_same_content_elsewhere)
        other.start()
        other.join(timeout=30)

        with pytest.raises(IntegrityError, match="memory_unique_live_content"):
            memory_restore(user=user, memory_id=memory.pk)


# Merge and its undo


def test_merge_leaves_the_users_other_memories_out_of_it(user):
    kept = MemoryFactory(user=user, tags=["a"])
    merged = MemoryFactory(user=user, tags=["b"])
    MemoryFactory(user=user)

    assert memory_merge_into(user=user, kept_id=kept.pk, merged_id=merged.pk) == ["b"]

    assert memory_get(user=user, memory_id=kept.pk).tags == ["a", "b"]


def test_merge_of_another_users_memory_is_refused_and_leaves_it_live(user, other_user):
    kept = MemoryFactory(user=user)
    foreign = MemoryFactory(user=other_user)

    with pytest.raises(Memory.DoesNotExist):
        memory_merge_into(user=user, kept_id=kept.pk, merged_id=foreign.pk)

    foreign.refresh_from_db()
    assert foreign.deleted_at is None and foreign.version == 1


def test_merge_moves_the_merged_memory_one_version_on(user):
    kept = MemoryFactory(user=user)
    merged = MemoryFactory(user=user, version=4)

    memory_merge_into(user=user, kept_id=kept.pk, merged_id=merged.pk)

    # One version for the merge, one for the restore.
    assert memory_restore(user=user, memory_id=merged.pk).version == 6


def test_unmerge_takes_the_added_tags_off_the_kept_memory_one_version_on(user):
    # The merged memory has the lower id: it comes first among the user's memories.
    merged = MemoryFactory(user=user, id=uuid.UUID(int=1), tags=["b"])
    kept = MemoryFactory(user=user, id=uuid.UUID(int=2), tags=["a"])
    added = memory_merge_into(user=user, kept_id=kept.pk, merged_id=merged.pk)
    kept_version = memory_get(user=user, memory_id=kept.pk).version

    memory_unmerge(user=user, kept_id=kept.pk, merged_id=merged.pk, added_tags=added)

    after = memory_get(user=user, memory_id=kept.pk)
    assert (after.tags, after.version) == (["a"], kept_version + 1)


def test_unmerge_leaves_the_kept_memory_alone_when_the_user_took_the_tags_off_already(user):
    kept = MemoryFactory(user=user, tags=["a"])
    merged = MemoryFactory(user=user, tags=["b"])
    added = memory_merge_into(user=user, kept_id=kept.pk, merged_id=merged.pk)
    version = memory_get(user=user, memory_id=kept.pk).version
    memory_update(user=user, memory_id=kept.pk, expected_version=version, changes={"tags": ["a"]})

    memory_unmerge(user=user, kept_id=kept.pk, merged_id=merged.pk, added_tags=added)

    after = memory_get(user=user, memory_id=kept.pk)
    assert (after.tags, after.version) == (["a"], version + 1)  # the user's edit only


def test_unmerge_restores_the_merged_memory_when_the_kept_one_is_gone(user):
    kept = MemoryFactory(user=user, tags=["a"])
    merged = MemoryFactory(user=user, tags=["b"])
    added = memory_merge_into(user=user, kept_id=kept.pk, merged_id=merged.pk)
    memory_delete(user=user, memory_id=kept.pk)

    memory_unmerge(user=user, kept_id=kept.pk, merged_id=merged.pk, added_tags=added)

    assert memory_get(user=user, memory_id=merged.pk).tags == ["b"]


def test_unmerge_never_touches_another_users_memory(user, other_user):
    kept = MemoryFactory(user=user, tags=["a"])
    merged = MemoryFactory(user=user, tags=["b"])
    memory_merge_into(user=user, kept_id=kept.pk, merged_id=merged.pk)
    foreign = MemoryFactory(user=other_user, tags=["a", "b"])

    memory_unmerge(user=user, kept_id=foreign.pk, merged_id=merged.pk, added_tags=["b"])

    foreign.refresh_from_db()
    assert (foreign.tags, foreign.version) == (["a", "b"], 1)
