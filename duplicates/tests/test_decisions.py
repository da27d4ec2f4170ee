"""Merge, undo and "Keep both" (issue 16): a merge loses nothing and is undone exactly; a
dismissal is for good; another user's pair is a 404; two merges at once merge once."""

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from billing.limits import MAX_MEMORIES
from billing.models import UsageCounter
from duplicates.models import Merge, Pair
from duplicates.tests.helpers import enrich_all, save
from memories.models import Embedding, Memory
from memories.services import memory_delete, memory_update
from reminders.models import Reminder
from reminders.services import reminder_create, reminder_dismiss
from tests.fixtures import bearer_client
from tests.problems import assert_problem

pytestmark = pytest.mark.django_db

OLDER = "Pick up the dry cleaning on Friday before 6pm, ticket number 4411"
NEWER = "Pick up the dry-cleaning on Friday before 6 pm, ticket number 4411"


def memory_slots(user) -> int:
    return UsageCounter.objects.get(user=user, limit_name=MAX_MEMORIES.name).count


@pytest.fixture
def pair(user, flag_on):
    """Two near-duplicates of `user`, the older with tags and a reminder, the newer with
    other tags and two reminders (one dismissed already)."""
    older = save(user, OLDER, tags=["errands", "friday"])
    newer = save(user, NEWER, tags=["friday", "laundry"])
    soon = timezone.now() + dt.timedelta(days=1)
    reminder_create(user=user, memory_id=older.pk, remind_at=soon)
    reminder_create(user=user, memory_id=newer.pk, remind_at=soon + dt.timedelta(hours=1))
    ended = reminder_create(user=user, memory_id=newer.pk, remind_at=soon)
    reminder_dismiss(user=user, reminder_id=ended.pk)
    enrich_all()
    return Pair.objects.get(user=user, band=Pair.Band.DUPLICATE)


def url(pair, action: str) -> str:
    return f"/api/v1/near-duplicates/{pair.pk}/{action}"


def test_merge_keeps_the_older_text_both_tags_and_every_reminder(user, api, pair):
    older = Memory.objects.get(content=OLDER)
    newer = Memory.objects.get(content=NEWER)
    tags_before = older.tags  # enrichment added the AI's tags
    slots = memory_slots(user)

    response = api.post(url(pair, "merge"))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["pair"]["state"] == "merged"
    assert body["pair"]["memory"]["content"] == OLDER
    kept = Memory.objects.get(pk=older.pk)
    assert kept.deleted_at is None and kept.content == OLDER
    assert kept.tags[: len(tags_before)] == tags_before
    assert set(kept.tags) == set(tags_before) | set(newer.tags)
    assert "laundry" in kept.tags
    assert kept.version == older.version + 1
    gone = Memory.objects.get(pk=newer.pk)
    assert gone.deleted_at is not None
    assert gone.duplicate_of_id == older.pk
    assert Reminder.objects.filter(memory=older).count() == 3  # the dismissed one too
    assert not Reminder.objects.filter(memory=newer).exists()
    assert not Embedding.objects.filter(memory=newer).exists()
    assert memory_slots(user) == slots - 1
    merge = Merge.objects.get(pair=pair)
    assert (merge.user, merge.merged_by, merge.kept_id, merge.merged_id) == (
        user,
        user,
        older.pk,
        newer.pk,
    )
    assert set(merge.added_tags) == set(newer.tags) - set(tags_before)
    assert dt.datetime.fromisoformat(body["undo_until"]) == merge.merged_at + dt.timedelta(days=30)
    # The memory list and the candidates no longer show the merged memory.
    ids = [m["id"] for m in api.get("/api/v1/memories").json()["results"]]
    assert str(newer.pk) not in ids and str(older.pk) in ids
    assert api.get("/api/v1/near-duplicates").json()["count"] == 0


def test_a_merge_keeps_every_pending_reminder_past_the_cap_and_new_ones_wait_below_it(
    user, api, pair, settings
):
    settings.REMINDERS_PER_MEMORY = 1  # each memory of the pair is at its cap already
    older = Memory.objects.get(content=OLDER)

    assert api.post(url(pair, "merge")).status_code == 200

    pending = Reminder.objects.filter(memory=older, state__in=Reminder.PENDING_STATES)
    assert pending.count() == 2  # nothing the user set is dropped to fit the cap
    later = (timezone.now() + dt.timedelta(days=3)).isoformat()
    refused = api.post(
        f"/api/v1/memories/{older.pk}/reminders", {"remind_at": later}, format="json"
    )
    assert_problem(refused, 409, "too_many_reminders")
    assert pending.count() == 2


def test_undo_restores_both_memories_as_they_were(user, api, pair):
    older = Memory.objects.get(content=OLDER)
    newer = Memory.objects.get(content=NEWER)
    older_reminders = set(Reminder.objects.filter(memory=older).values_list("pk", flat=True))
    newer_reminders = set(Reminder.objects.filter(memory=newer).values_list("pk", flat=True))
    slots = memory_slots(user)
    api.post(url(pair, "merge"))

    response = api.post(url(pair, "undo"))

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "open"
    kept = Memory.objects.get(pk=older.pk)
    back = Memory.objects.get(pk=newer.pk)
    assert kept.tags == older.tags
    assert back.deleted_at is None and back.duplicate_of_id is None
    assert back.content == NEWER and back.tags == newer.tags
    assert (
        set(Reminder.objects.filter(memory=older).values_list("pk", flat=True)) == older_reminders
    )
    assert (
        set(Reminder.objects.filter(memory=newer).values_list("pk", flat=True)) == newer_reminders
    )
    assert memory_slots(user) == slots
    assert Merge.objects.get(pair=pair).undone_at is not None
    # The pair is a candidate again once the restored memory is embedded anew.
    enrich_all()
    assert api.get("/api/v1/near-duplicates").json()["count"] == 1
    # And it can be merged again: the undone merge stays as history.
    assert api.post(url(pair, "merge")).status_code == 200
    assert Merge.objects.filter(pair=pair).count() == 2


def test_undo_leaves_tags_the_user_changed_since(user, api, pair):
    older = Memory.objects.get(content=OLDER)
    api.post(url(pair, "merge"))
    kept = Memory.objects.get(pk=older.pk)
    memory_update(
        user=user,
        memory_id=kept.pk,
        expected_version=kept.version,
        changes={"tags": [t for t in kept.tags if t != "laundry"] + ["mine"]},
    )

    assert api.post(url(pair, "undo")).status_code == 200
    assert set(Memory.objects.get(pk=older.pk).tags) == set(older.tags) | {"mine"}


def test_undo_twice_or_after_30_days_is_refused(user, api, pair):
    assert api.post(url(pair, "undo")).json()["code"] == "undo_expired"  # nothing merged
    api.post(url(pair, "merge"))
    with time_machine.travel(timezone.now() + dt.timedelta(days=31)):
        late = api.post(url(pair, "undo"))
    assert late.status_code == 409
    assert late.json()["code"] == "undo_expired"
    assert api.post(url(pair, "undo")).status_code == 200
    assert api.post(url(pair, "undo")).json()["code"] == "undo_expired"


def test_merging_twice_is_refused_and_changes_nothing(user, api, pair):
    assert api.post(url(pair, "merge")).status_code == 200
    again = api.post(url(pair, "merge"))
    assert again.status_code == 409
    assert again.json()["code"] == "pair_decided"
    assert Merge.objects.count() == 1


def test_a_pair_whose_memory_was_deleted_cannot_be_merged(user, api, pair):
    memory_delete(user=user, memory_id=pair.second_id)
    response = api.post(url(pair, "merge"))
    assert response.status_code == 409
    assert response.json()["code"] == "memory_gone"
    assert Memory.objects.live().filter(pk=pair.first_id).get().tags  # untouched
    assert not Merge.objects.exists()


def test_keep_both_is_for_good_even_after_edits(user, api, pair):
    response = api.post(url(pair, "dismiss"))
    assert response.status_code == 200
    assert response.json()["state"] == "dismissed"
    assert api.get("/api/v1/near-duplicates").json()["count"] == 0

    newer = Memory.objects.get(content=NEWER)
    memory_update(
        user=user,
        memory_id=newer.pk,
        expected_version=newer.version,
        changes={"content": NEWER + " (the blue coat)"},
    )
    enrich_all()  # found alike again: the pair is measured again but stays dismissed

    pair.refresh_from_db()
    assert pair.state == Pair.State.DISMISSED
    assert api.get("/api/v1/near-duplicates").json()["count"] == 0
    assert api.post(url(pair, "dismiss")).status_code == 200  # the same answer again
    # Kept apart, still alike: the memory still shows the other as related.
    [related] = api.get(f"/api/v1/memories/{pair.first_id}/related").json()
    assert related["memory"]["id"] == str(pair.second_id)
    assert related["near_duplicate"] is False
    assert api.post(url(pair, "merge")).json()["code"] == "pair_decided"


def test_another_users_pair_is_404_everywhere(pair, other_user):
    stranger = bearer_client(other_user)
    for action in ("merge", "dismiss", "undo"):
        response = stranger.post(url(pair, action))
        assert response.status_code == 404, action
        assert response["Content-Type"] == "application/problem+json"
    assert stranger.get("/api/v1/near-duplicates").json()["count"] == 0
    assert stranger.get(f"/api/v1/memories/{pair.first_id}/related").status_code == 404
    pair.refresh_from_db()
    assert pair.state == Pair.State.OPEN
    assert Memory.objects.live().count() == 2


def test_ids_that_are_not_pairs_are_404(api, flag_on):
    for bad in ("nope", "00000000-0000-0000-0000-000000000000"):
        assert api.post(f"/api/v1/near-duplicates/{bad}/merge").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_two_merges_of_one_pair_at_once_merge_once(user, pair):
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def merge() -> None:
        client = bearer_client(user)
        barrier.wait()
        try:
            statuses.append(client.post(url(pair, "merge")).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=merge) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200, 409]
    assert Merge.objects.count() == 1
    assert Memory.objects.live().count() == 1
    kept = Memory.objects.live().get()
    assert kept.tags.count("friday") == 1  # the tags added once
