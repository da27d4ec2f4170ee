"""The finer points of the near-duplicate services: which pairs a search of candidates
touches and counts, how links are kept, what a decision records on the pair, and what the
errors say. Embeddings are given as chosen vectors (stored as enrichment stores them), so
each similarity is exact and no model is loaded."""

import datetime as dt
import math

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from duplicates.models import Merge, Pair
from duplicates.services import (
    MERGE_UNDO_WINDOW,
    UndoExpired,
    candidates_find,
    merge_undo,
    merge_undo_deadline,
    pair_dismiss,
    pair_merge,
)
from duplicates.tests.helpers import save
from memories.embeddings import EmbeddedMemory, EmbeddingRow, embeddings_store
from memories.models import Memory
from memories.services import memory_delete, memory_restore, memory_update

pytestmark = pytest.mark.django_db

MODEL = "all-MiniLM-L6-v2"  # the model with the shipped calibration: t_high 0.97, t_low 0.61
SIZE = 384
PAGE = "https://example.com/rust?utm_source=x"
SAME_PAGE = "http://www.example.com/rust/"


def axis(i: int) -> list[float]:
    vector = [0.0] * SIZE
    vector[i] = 1.0
    return vector


def alike(i: int, j: int, similarity: float) -> list[float]:
    """A unit vector whose cosine with axis(i) is `similarity` (and 0 with other axes but j)."""
    vector = [0.0] * SIZE
    vector[i] = similarity
    vector[j] = math.sqrt(1 - similarity**2)
    return vector


def embedded(memory: Memory, vector: list[float]) -> EmbeddedMemory:
    """Store `vector` as the memory's embedding, as enrichment does, and return what the
    pipeline hands to candidates_find."""
    memory.refresh_from_db()
    embeddings_store(
        model=MODEL,
        dimensions=SIZE,
        rows=[EmbeddingRow(memory.user_id, str(memory.pk), memory.content_hash, vector)],
    )
    return EmbeddedMemory(memory.user_id, str(memory.pk), vector)


def find(*memories: EmbeddedMemory) -> int:
    return candidates_find(model=MODEL, memories=list(memories))


def pair_of(a: Memory, b: Memory) -> Pair:
    first, second = sorted([a.pk, b.pk])
    return Pair.objects.get(first_id=first, second_id=second)


def duplicates(user, name: str, *, at: int) -> tuple[Memory, Memory, Pair]:
    """Two memories of `user` 0.99 alike (near-duplicates), their pair open."""
    older = save(user, f"{name}, the first note")
    newer = save(user, f"{name}, the second note")
    find(embedded(older, axis(at)), embedded(newer, alike(at, at + 1, 0.99)))
    return older, newer, pair_of(older, newer)


def url(pair: Pair, action: str) -> str:
    return f"/api/v1/near-duplicates/{pair.pk}/{action}"


def later(**delta) -> dt.datetime:
    """A moment after the pair was written (by Postgres' clock), to tell timestamps apart."""
    return (timezone.now() + dt.timedelta(**delta)).replace(microsecond=0)


# ---------------------------------------------------------------------------------------------
# Candidates


def test_the_same_link_pairs_memories_that_say_nothing_alike(user, flag_on):
    a = save(user, "Great article about rust lifetimes", url=PAGE)
    b = save(user, "Must read later for the team", url=SAME_PAGE)

    assert find(embedded(a, axis(0)), embedded(b, axis(1))) == 1

    pair = pair_of(a, b)
    assert (pair.user, pair.same_link, pair.band) == (user, True, Pair.Band.DUPLICATE)
    assert pair.similarity == pytest.approx(0.0)


def test_a_memory_whose_link_changed_pairs_with_the_new_pages_memories(user, flag_on):
    a = save(user, "Great article about rust lifetimes", url=PAGE)
    b = save(user, "Must read later for the team", url="https://example.com/go")
    assert find(embedded(a, axis(0)), embedded(b, axis(1))) == 0

    b = memory_update(user=user, memory_id=b.pk, expected_version=b.version, changes={"url": PAGE})
    assert find(embedded(b, axis(1))) == 1  # b's link is searched again, now the other page

    assert pair_of(a, b).same_link is True


def test_a_link_taken_off_a_memory_no_longer_pairs_it_with_that_page(user, flag_on):
    a = save(user, "Great article about rust lifetimes", url=PAGE)
    b = save(user, "Must read later for the team", url=SAME_PAGE)
    find(embedded(a, axis(0)), embedded(b, axis(1)))
    b = memory_update(user=user, memory_id=b.pk, expected_version=b.version, changes={"url": ""})
    find(embedded(b, axis(1)))
    assert not Pair.objects.exists()  # nothing alike any more

    c = save(user, "Worth sending to the reading group", url=PAGE)
    assert find(embedded(c, axis(2))) == 1

    [pair] = Pair.objects.all()
    assert {pair.first_id, pair.second_id} == {a.pk, c.pk}


def test_a_memory_deleted_before_its_candidates_are_searched_finds_none(user, flag_on):
    # A backfill read the embedding, then the user deleted the memory before its turn.
    memory = save(user, "Great article about rust lifetimes", url=PAGE)
    read = embedded(memory, axis(0))
    memory_delete(user=user, memory_id=memory.pk)

    assert find(read) == 0
    assert not Pair.objects.exists()


def test_a_link_shared_only_with_a_deleted_memory_costs_no_more_than_no_link(user, flag_on):
    gone = save(user, "Great article about rust lifetimes", url=PAGE)
    find(embedded(gone, axis(0)))
    memory_delete(user=user, memory_id=gone.pk)
    same_page = embedded(save(user, "Must read later for the team", url=SAME_PAGE), axis(1))
    other_page = embedded(save(user, "Another page", url="https://example.com/go"), axis(2))

    with CaptureQueriesContext(connection) as shared:
        assert find(same_page) == 0
    with CaptureQueriesContext(connection) as alone:
        assert find(other_page) == 0

    assert len(shared.captured_queries) == len(alone.captured_queries)
    assert not Pair.objects.exists()


def test_only_the_pairs_of_the_embedded_memories_are_measured_again(user, other_user, flag_on):
    duplicates(user, "Dry cleaning", at=0)
    duplicates(other_user, "Dentist", at=10)
    stamps = dict(Pair.objects.values_list("pk", "updated_at"))
    plumber = save(user, "Call the plumber about the leaking kitchen tap")

    assert find(embedded(plumber, axis(20))) == 0  # alike to nothing: nothing written

    assert dict(Pair.objects.values_list("pk", "updated_at")) == stamps


def test_a_kept_apart_pair_is_not_counted_among_the_pairs_written(user, flag_on):
    a = save(user, "Dry cleaning, ticket 4411")
    b = save(user, "Dry cleaning, ticket 4411 (again)")
    find(embedded(a, axis(0)), embedded(b, alike(0, 1, 0.98)))
    pair_dismiss(user=user, pair_id=pair_of(a, b).pk)
    # Ten memories more alike to `a` than `b` is: `b` is no longer among a's neighbours.
    for n in range(10):
        embedded(save(user, f"Dry cleaning, ticket 4411, copy {n}"), alike(0, 2 + n, 0.99))

    written = find(embedded(a, axis(0)))  # `a` embedded again (a backfill, say)

    assert written == 10
    assert Pair.objects.filter(state=Pair.State.OPEN).count() == written
    assert pair_of(a, b).state == Pair.State.DISMISSED


# ---------------------------------------------------------------------------------------------
# Decisions


def test_a_related_pair_cannot_be_merged_dismissed_or_undone(user, api, flag_on):
    soup = save(user, "Recipe: tomato soup with roasted garlic and basil")
    salad = save(user, "Recipe: tomato salad with basil and mozzarella")
    find(embedded(soup, axis(0)), embedded(salad, alike(0, 1, 0.8)))
    pair = pair_of(soup, salad)
    assert pair.band == Pair.Band.RELATED

    for action in ("merge", "dismiss", "undo"):
        assert api.post(url(pair, action)).status_code == 404, action

    assert Memory.objects.live().count() == 2
    assert not Merge.objects.exists()
    pair.refresh_from_db()
    assert pair.state == Pair.State.OPEN


def test_merging_reads_the_pair_and_both_memories_in_one_query(user, flag_on):
    _, _, pair = duplicates(user, "Dry cleaning", at=0)

    with CaptureQueriesContext(connection) as merging:
        pair_merge(user=user, pair_id=pair.pk)

    # The pair is locked with both its memories (which of them is older) in one query; the
    # only other reads of memories are memory_merge_into's locks.
    reads = [q["sql"] for q in merging.captured_queries if q["sql"].startswith("SELECT")]
    [pair_read] = [sql for sql in reads if 'FROM "duplicates_pair"' in sql]
    assert pair_read.count('"memories_memory"') >= 2 and "FOR UPDATE" in pair_read
    assert [sql for sql in reads if 'FROM "memories_memory"' in sql] == [
        sql for sql in reads if 'FROM "memories_memory"' in sql and "FOR UPDATE" in sql
    ]


def test_merging_and_undoing_record_when_the_pair_was_decided(user, flag_on):
    _, _, pair = duplicates(user, "Dry cleaning", at=0)
    merged_at, undone_at = later(hours=1), later(days=2)

    with time_machine.travel(merged_at, tick=False):
        pair_merge(user=user, pair_id=pair.pk)
    pair.refresh_from_db()
    assert (pair.state, pair.decided_at, pair.updated_at) == (
        Pair.State.MERGED,
        merged_at,
        merged_at,
    )

    with time_machine.travel(undone_at, tick=False):
        merge_undo(user=user, pair_id=pair.pk)
    pair.refresh_from_db()
    assert (pair.state, pair.decided_at, pair.updated_at) == (Pair.State.OPEN, None, undone_at)


def test_keeping_both_records_when_the_pair_was_decided(user, flag_on):
    _, _, pair = duplicates(user, "Dry cleaning", at=0)
    decided_at = later(hours=1)

    with time_machine.travel(decided_at, tick=False):
        dismissed = pair_dismiss(user=user, pair_id=pair.pk)

    assert (dismissed.state, dismissed.decided_at, dismissed.updated_at) == (
        Pair.State.DISMISSED,
        decided_at,
        decided_at,
    )
    pair.refresh_from_db()
    assert (pair.decided_at, pair.updated_at) == (decided_at, decided_at)


@pytest.mark.parametrize(
    ("first", "then", "state"), [("dismiss", "merge", "dismissed"), ("merge", "dismiss", "merged")]
)
def test_deciding_a_decided_pair_again_says_how_it_was_decided(
    user, api, flag_on, first, then, state
):
    _, _, pair = duplicates(user, "Dry cleaning", at=0)
    api.post(url(pair, first))

    response = api.post(url(pair, then))

    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["state"]) == ("pair_decided", state)
    assert body["detail"] == f"This pair was {state} already."


def test_undo_refused_names_the_pair(user, flag_on):
    _, newer, pair = duplicates(user, "Dry cleaning", at=0)

    with pytest.raises(UndoExpired) as nothing_merged:
        merge_undo(user=user, pair_id=pair.pk)
    assert nothing_merged.value.args == (pair.pk,)

    pair_merge(user=user, pair_id=pair.pk)
    memory_restore(user=user, memory_id=newer.pk)  # restored by hand meanwhile
    with pytest.raises(UndoExpired) as restored:
        merge_undo(user=user, pair_id=pair.pk)
    assert restored.value.args == (pair.pk,)


def test_undo_works_until_the_very_moment_it_was_promised(user, flag_on):
    _, newer, pair = duplicates(user, "Dry cleaning", at=0)
    with time_machine.travel(later(hours=1), tick=False):
        merge = pair_merge(user=user, pair_id=pair.pk)
    deadline = merge_undo_deadline(merge)
    assert deadline == merge.merged_at + MERGE_UNDO_WINDOW

    with time_machine.travel(deadline, tick=False):
        undone = merge_undo(user=user, pair_id=pair.pk)

    assert undone.pk == merge.pk
    assert Memory.objects.live().filter(pk=newer.pk).exists()


def test_undo_takes_back_that_pairs_merge_not_the_latest_one(user, flag_on):
    _, cleaning_merged, cleaning = duplicates(user, "Dry cleaning", at=0)
    _, dentist_merged, dentist = duplicates(user, "Dentist", at=10)
    with time_machine.travel(later(hours=1), tick=False):
        first = pair_merge(user=user, pair_id=cleaning.pk)
    with time_machine.travel(later(hours=2), tick=False):
        pair_merge(user=user, pair_id=dentist.pk)

    undone = merge_undo(user=user, pair_id=cleaning.pk)

    assert undone.pk == first.pk
    assert Memory.objects.live().filter(pk=cleaning_merged.pk).exists()
    assert not Memory.objects.live().filter(pk=dentist_merged.pk).exists()
    dentist.refresh_from_db()
    assert dentist.state == Pair.State.MERGED
    assert Merge.objects.get(pair=dentist).undone_at is None


def test_undo_takes_back_the_live_merge_even_when_an_undone_one_looks_newer(user, flag_on):
    # Two web servers whose clocks disagree: the undone merge bears the later time.
    _, newer, pair = duplicates(user, "Dry cleaning", at=0)
    ahead, behind = later(hours=2), later(hours=1)
    with time_machine.travel(ahead, tick=False):
        pair_merge(user=user, pair_id=pair.pk)
        merge_undo(user=user, pair_id=pair.pk)
    with time_machine.travel(behind, tick=False):
        live = pair_merge(user=user, pair_id=pair.pk)
        undone = merge_undo(user=user, pair_id=pair.pk)

    assert undone.pk == live.pk
    assert not Merge.objects.filter(pair=pair, undone_at__isnull=True).exists()
    assert Memory.objects.live().filter(pk=newer.pk).exists()
    pair_merge(user=user, pair_id=pair.pk)  # and it can be merged once more
