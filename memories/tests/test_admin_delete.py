"""Deleting memories from Django admin goes through the memories service (issue 13): a soft
delete that gives the plan's stored-memories slot back and drops the embeddings, for one
memory or a selection; content and owner cannot be edited there."""

import pytest

from billing.models import UsageCounter
from memories.models import Memory
from memories.services import memory_create

pytestmark = pytest.mark.django_db


def stored(user) -> int:
    row = UsageCounter.objects.filter(user=user, limit_name="max_memories").first()
    return row.count if row else 0


def test_deleting_one_memory_in_admin_soft_deletes_it_and_frees_its_slot(staff_client, user):
    memory = memory_create(user=user, content="deleted by an operator").memory
    kept = memory_create(user=user, content="kept").memory
    assert stored(user) == 2
    response = staff_client.post(f"/admin/memories/memory/{memory.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    memory.refresh_from_db()  # the row stays, for undo and audit
    assert memory.deleted_at is not None and memory.version == 2
    assert stored(user) == 1
    assert Memory.objects.live().get() == kept


def test_deleting_a_selection_in_admin_frees_every_slot_once(staff_client, user, other_user):
    mine = [memory_create(user=user, content=f"mine {i}").memory for i in range(3)]
    theirs = memory_create(user=other_user, content="theirs").memory
    response = staff_client.post(
        "/admin/memories/memory/",
        {
            "action": "delete_selected",
            "post": "yes",
            "_selected_action": [str(m.pk) for m in [*mine[:2], theirs]],
        },
    )
    assert response.status_code == 302
    assert stored(user) == 1 and stored(other_user) == 0
    assert Memory.objects.count() == 4  # soft: nothing removed
    assert list(Memory.objects.live()) == [mine[2]]
    # Deleting again (an already deleted memory selected) frees nothing twice.
    staff_client.post(
        "/admin/memories/memory/",
        {"action": "delete_selected", "post": "yes", "_selected_action": [str(mine[0].pk)]},
    )
    assert stored(user) == 1


def test_content_and_owner_are_read_only_in_the_change_form(staff_client, user, other_user):
    memory = memory_create(user=user, content="as the user wrote it").memory
    page = staff_client.get(f"/admin/memories/memory/{memory.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert "content" not in form.fields and "user" not in form.fields
    staff_client.post(
        f"/admin/memories/memory/{memory.pk}/change/",
        {"content": "rewritten by an operator", "user": other_user.pk, "kind": "note"},
    )
    memory.refresh_from_db()
    assert memory.content == "as the user wrote it" and memory.user == user
