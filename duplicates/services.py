"""Near-duplicates (DESIGN §10): find candidate pairs after a memory is embedded, and merge,
dismiss or undo them for their owner. Nothing is ever merged without the user asking.

Candidates are computed only for users inside the `near_duplicates` flag (core.flags), with
thresholds calibrated for the embedding model in use (duplicates.calibration); a model
without a calibration finds none.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from core.flags import flag_active_user_ids
from duplicates.models import Calibration, MemoryLink, Merge, Pair
from duplicates.selectors import FLAG
from memories.embeddings import EmbeddedMemory, embedding_neighbours, embedding_similarities
from memories.models import Memory
from memories.normalization import link_key
from memories.services import RESTORE_WINDOW, memory_merge_into, memory_unmerge
from reminders.services import reminders_move

logger = logging.getLogger(__name__)

# How many nearest memories of each embedded memory are looked at.
NEIGHBOURS = 10
# How long a merge can be undone: as long as a deleted memory can be restored.
MERGE_UNDO_WINDOW = RESTORE_WINDOW


class PairDecided(Exception):
    """The pair was merged or dismissed already (by another request, maybe at once)."""


class PairGone(Exception):
    """One memory of the pair is no longer live (deleted, or merged into another)."""


class UndoExpired(Exception):
    """The merge is older than MERGE_UNDO_WINDOW, was undone already, or its merged memory
    was restored some other way."""


def calibration_for(model: str) -> Calibration | None:
    return Calibration.objects.filter(model=model).first()


# ---------------------------------------------------------------------------------------------
# Finding candidates


def candidates_on_embedded(sender, *, model: str, memories: Sequence[EmbeddedMemory], **kwargs):
    """memories.signals.memories_embedded's receiver (connected in duplicates.apps)."""
    return candidates_find(model=model, memories=memories)


@dataclass
class _Found:
    user_id: int
    similarity: float | None = None
    same_link: bool = False


def candidates_find(*, model: str, memories: Sequence[EmbeddedMemory]) -> int:
    """Record the pairs these just-embedded memories make with the other live memories of
    their users: near-duplicates (similarity ≥ t_high, or the same link) and related ones
    (≥ t_low). Pairs these memories were in before are measured again, and those no longer
    alike are dropped; merged and dismissed pairs are left as they are. Returns how many
    pairs were written. Users outside the flag cost nothing: no query is made for them."""
    inside = flag_active_user_ids(FLAG, {m.user_id for m in memories})
    memories = [m for m in memories if m.user_id in inside]
    if not memories:
        return 0
    calibration = calibration_for(model)
    if calibration is None:
        logger.warning(
            "near-duplicates: no calibration for the embedding model %s, so no candidates; "
            "run `manage.py calibrate_near_duplicates --save`",
            model,
        )
        return 0
    found: dict[tuple[str, str], _Found] = {}
    by_id = {m.memory_id: m for m in memories}
    for hit in embedding_neighbours(
        model=model, memories=memories, limit=NEIGHBOURS, min_similarity=calibration.t_low
    ):
        found[_ordered(hit.memory_id, hit.neighbour_id)] = _Found(
            by_id[hit.memory_id].user_id, hit.similarity
        )
    for key, user_id in _same_links(memories).items():
        found.setdefault(key, _Found(user_id)).same_link = True
    for first, second, user_id in _open_pairs_of(list(by_id)):
        found.setdefault((first, second), _Found(user_id))
    unmeasured = [(f.user_id, a, b) for (a, b), f in found.items() if f.similarity is None]
    for a, b, similarity in embedding_similarities(model=model, pairs=unmeasured):
        found[(a, b)].similarity = similarity
    keep, drop = [], []
    for (a, b), f in found.items():
        if f.similarity is None:  # the other memory has no embedding yet: its turn will come
            continue
        if f.same_link or f.similarity >= calibration.t_high:
            keep.append((a, b, f, Pair.Band.DUPLICATE))
        elif f.similarity >= calibration.t_low:
            keep.append((a, b, f, Pair.Band.RELATED))
        else:
            drop.append((a, b))
    _pairs_write(keep, model=model)
    _open_pairs_drop(drop)
    return len(keep)


def _ordered(a: str, b: str) -> tuple[str, str]:
    return (a, b) if uuid.UUID(a) < uuid.UUID(b) else (b, a)


def _same_links(memories: Sequence[EmbeddedMemory]) -> dict[tuple[str, str], int]:
    """Record each memory's link key, and return the pairs it makes with the user's other
    live memories of the same key, with their user."""
    urls = dict(
        Memory.objects.filter(pk__in=[m.memory_id for m in memories]).values_list("pk", "url")
    )
    keys = {str(pk): link_key(url) for pk, url in urls.items()}
    users = {m.memory_id: m.user_id for m in memories}
    MemoryLink.objects.filter(pk__in=[pk for pk, key in keys.items() if not key]).delete()
    linked = [
        MemoryLink(memory_id=pk, user_id=users[pk], key=key) for pk, key in keys.items() if key
    ]
    if not linked:
        return {}
    MemoryLink.objects.bulk_create(
        linked, update_conflicts=True, unique_fields=["memory"], update_fields=["key"]
    )
    same = MemoryLink.objects.filter(
        user_id__in={link.user_id for link in linked},
        key__in={link.key for link in linked},
        memory__deleted_at__isnull=True,
    ).values_list("memory_id", "user_id", "key")
    by_key: dict[tuple[int, str], list[str]] = {}
    for memory_id, user_id, key in same:
        by_key.setdefault((user_id, key), []).append(str(memory_id))
    pairs = {}
    for link in linked:
        for other in by_key.get((link.user_id, link.key), []):
            if other != link.memory_id:
                # memory_id is the str the link was built with above (bulk_create keeps a set
                # primary key), not the UUID the field's type says.
                pairs[_ordered(link.memory_id, other)] = link.user_id  # type: ignore[arg-type]
    return pairs


def _open_pairs_of(memory_ids: list[str]) -> list[tuple[str, str, int]]:
    rows = Pair.objects.filter(
        Q(first_id__in=memory_ids) | Q(second_id__in=memory_ids), state=Pair.State.OPEN
    ).values_list("first_id", "second_id", "user_id")
    return [(str(a), str(b), user_id) for a, b, user_id in rows]


_WRITE_SQL = """
INSERT INTO duplicates_pair
    (id, user_id, first_id, second_id, similarity, same_link, band, state, model,
     created_at, updated_at)
SELECT gen_random_uuid(), p.user_id, p.first_id, p.second_id, p.similarity, p.same_link,
       p.band, 'open', %s, now(), now()
FROM unnest(%s::bigint[], %s::uuid[], %s::uuid[], %s::float8[], %s::bool[], %s::text[])
     AS p(user_id, first_id, second_id, similarity, same_link, band)
ON CONFLICT (first_id, second_id) DO UPDATE
    SET similarity = EXCLUDED.similarity, same_link = EXCLUDED.same_link,
        band = EXCLUDED.band, model = EXCLUDED.model, updated_at = now()
    WHERE duplicates_pair.state = 'open'
"""


def _pairs_write(pairs: list[tuple[str, str, _Found, Pair.Band]], *, model: str) -> None:
    """Insert new pairs and update open ones, in one statement; a merged or dismissed pair
    keeps its state (a dismissed pair is never suggested again, whatever its similarity)."""
    if not pairs:
        return
    pairs.sort()  # the same order in every worker: no deadlock between concurrent batches
    with connection.cursor() as cursor:
        cursor.execute(
            _WRITE_SQL,
            [
                model,
                [f.user_id for _, _, f, _ in pairs],
                [a for a, _, _, _ in pairs],
                [b for _, b, _, _ in pairs],
                [f.similarity for _, _, f, _ in pairs],
                [f.same_link for _, _, f, _ in pairs],
                [band for _, _, _, band in pairs],
            ],
        )


def _open_pairs_drop(pairs: list[tuple[str, str]]) -> None:
    if not pairs:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM duplicates_pair WHERE state = 'open' AND (first_id, second_id) IN "
            "(SELECT * FROM unnest(%s::uuid[], %s::uuid[]))",
            [[a for a, _ in pairs], [b for _, b in pairs]],
        )


# ---------------------------------------------------------------------------------------------
# The user's decisions


def _pair_for_update(*, user: User, pair_id: uuid.UUID) -> Pair:
    """The user's pair, locked; a pair of another user is Pair.DoesNotExist (a 404)."""
    return (
        Pair.objects.select_for_update(of=("self",))
        .select_related("first", "second")
        .get(user=user, pk=pair_id, band=Pair.Band.DUPLICATE)
    )


def pair_merge(*, user: User, pair_id: uuid.UUID) -> Merge:
    """Merge the pair: keep the older memory, add the newer one's tags and move its
    reminders to it, soft-delete the newer with `duplicate_of` set, and record the merge
    (undone by merge_undo within MERGE_UNDO_WINDOW). The pair's row is locked first, so of
    two merges at once one merges and the other raises PairDecided. Raises Pair.DoesNotExist,
    PairDecided, PairGone."""
    with transaction.atomic():
        pair = _pair_for_update(user=user, pair_id=pair_id)
        if pair.state != Pair.State.OPEN:
            raise PairDecided(pair.state)
        kept, merged = pair.older_and_newer()
        try:
            added = memory_merge_into(user=user, kept_id=kept.pk, merged_id=merged.pk)
        except Memory.DoesNotExist as exc:
            raise PairGone from exc
        moved = reminders_move(user=user, from_memory_id=merged.pk, to_memory_id=kept.pk)
        now = timezone.now()
        Pair.objects.filter(pk=pair.pk).update(
            state=Pair.State.MERGED, decided_at=now, updated_at=now
        )
        merge = Merge.objects.create(
            pair=pair,
            user=user,
            merged_by=user,
            kept=kept,
            merged=merged,
            added_tags=added,
            moved_reminders=moved,
        )
    logger.info("near-duplicates: user %s merged %s into %s", user.pk, merged.pk, kept.pk)
    return merge


def merge_undo(*, user: User, pair_id: uuid.UUID) -> Merge:
    """Undo the pair's merge: the newer memory is live again (memories.services.
    memory_unmerge), the tags the merge added come off the older one, the reminders it moved
    go back, and the pair is open again. Raises Pair.DoesNotExist, UndoExpired, and what
    memory_restore raises (QuotaExceeded, DuplicateContent)."""
    with transaction.atomic():
        pair = _pair_for_update(user=user, pair_id=pair_id)
        merge = (
            Merge.objects.select_for_update()
            .filter(pair=pair, undone_at__isnull=True)
            .order_by("-merged_at")
            .first()
        )
        now = timezone.now()
        if merge is None or merge.merged_at < now - MERGE_UNDO_WINDOW:
            raise UndoExpired(pair_id)
        try:
            memory_unmerge(
                user=user,
                kept_id=merge.kept_id,
                merged_id=merge.merged_id,
                added_tags=merge.added_tags,
            )
        except Memory.DoesNotExist as exc:  # restored by hand meanwhile
            raise UndoExpired(pair_id) from exc
        reminders_move(
            user=user,
            from_memory_id=merge.kept_id,
            to_memory_id=merge.merged_id,
            reminder_ids=list(merge.moved_reminders),
        )
        merge.undone_at = now
        merge.save(update_fields=["undone_at"])
        Pair.objects.filter(pk=pair.pk).update(
            state=Pair.State.OPEN, decided_at=None, updated_at=now
        )
    return merge


def pair_dismiss(*, user: User, pair_id: uuid.UUID) -> Pair:
    """ "Keep both": the pair is never suggested again, even after edits (candidates_find
    leaves a dismissed pair alone). Dismissing it twice is the same. Raises
    Pair.DoesNotExist, PairDecided (it was merged)."""
    with transaction.atomic():
        pair = _pair_for_update(user=user, pair_id=pair_id)
        if pair.state == Pair.State.MERGED:
            raise PairDecided(pair.state)
        if pair.state == Pair.State.OPEN:
            now = timezone.now()
            Pair.objects.filter(pk=pair.pk).update(
                state=Pair.State.DISMISSED, decided_at=now, updated_at=now
            )
            pair.refresh_from_db()
    return pair


def merge_undo_deadline(merge: Merge) -> dt.datetime:
    return merge.merged_at + MERGE_UNDO_WINDOW
