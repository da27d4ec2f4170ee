"""Finding candidates for memories embedded before their users were in the flag
(`manage.py near_duplicates_backfill`): a walk over the stored embeddings of the active model
in (user, memory) order, one batch at a time, that records where it is after each batch so
that a run cut short resumes there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from duplicates.models import BackfillProgress
from duplicates.services import calibration_for, candidates_find
from memories.embeddings import active_spec, embeddings_of_memories


class BackfillRefused(ValueError):
    pass


@dataclass(frozen=True)
class BackfillStep:
    memories: int  # walked in this step (0: finished)
    pairs: int


def backfill_progress(*, user_ids: Sequence[int] | None, restart: bool) -> BackfillProgress:
    """The record of the backfill of these users (everyone: None) by the active model, new or
    where it stopped (from the start again with `restart`). Raises BackfillRefused when the
    model has no calibration."""
    model = active_spec().model
    if calibration_for(model) is None:
        raise BackfillRefused(
            f"the embedding model {model} has no near-duplicate calibration; "
            "run `manage.py calibrate_near_duplicates --save` first"
        )
    scope = "users:" + ",".join(map(str, sorted(user_ids))) if user_ids is not None else "all"
    progress, _ = BackfillProgress.objects.get_or_create(scope=scope[:200], model=model)
    if restart:
        progress.last_user_id, progress.last_memory_id, progress.done = 0, None, 0
        progress.finished_at = None
        progress.save()
    return progress


def backfill_step(
    *, progress: BackfillProgress, user_ids: Sequence[int] | None, batch: int
) -> BackfillStep:
    """Find candidates for the next `batch` embeddings after where `progress` stands, for
    users inside the flag, and move it on."""
    after = (
        (progress.last_user_id, str(progress.last_memory_id)) if progress.last_memory_id else None
    )
    embedded = embeddings_of_memories(
        model=progress.model, after=after, user_ids=user_ids, limit=batch
    )
    if not embedded:
        progress.finished_at = timezone.now()
        progress.save(update_fields=["finished_at", "updated_at"])
        return BackfillStep(0, 0)
    pairs = candidates_find(model=progress.model, memories=embedded)  # users inside the flag
    last = embedded[-1]
    progress.last_user_id, progress.last_memory_id = last.user_id, last.memory_id
    progress.done += len(embedded)
    progress.save(update_fields=["last_user_id", "last_memory_id", "done", "updated_at"])
    return BackfillStep(len(embedded), pairs)
