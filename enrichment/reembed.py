"""Moving a deployment to another embedding model without downtime (`manage.py reembed`).

The target model is recorded as building; Celery fills its embeddings batch by batch (every
live memory without one), while search and enrichment keep using the active model. When none
is missing the target becomes active in one transaction, memories enriched by the old model
in the meantime are caught up, and the old model's rows are dropped. Every step is idempotent
and picks up where the last one stopped, so an interrupted run resumes by running it again.
"""

from __future__ import annotations

import logging

from django.conf import settings

from ai.guard import guarded_embed, guarded_embed_many
from ai.providers import ModelSpec, ProviderError
from ai.providers.registry import spec_check
from memories.embeddings import (
    EmbeddingRow,
    Progress,
    active_spec,
    embedding_model_activate,
    embedding_model_add,
    embedding_model_building,
    embedding_model_spec,
    embeddings_drop_inactive,
    embeddings_missing,
    embeddings_progress,
    embeddings_store,
    ensure_indexes,
)
from memories.models import EmbeddingModel

logger = logging.getLogger(__name__)

REEMBED_BATCHES_PER_TASK = 20


class ReembedRefused(ValueError):
    pass


def reembed_start(*, spec: ModelSpec) -> EmbeddingModel:
    """Record `spec` as the building model (or find the run already under way for it) and
    make sure HNSW indexes exist for its size. Raises ReembedRefused."""
    try:
        spec_check(spec)
    except ValueError as exc:
        raise ReembedRefused(str(exc)) from exc
    if spec.model == active_spec().model:
        raise ReembedRefused(
            f"{spec.model} is the active model already; a re-embedding needs another model name"
        )
    building = embedding_model_building()
    if building and embedding_model_spec(building) != spec:
        raise ReembedRefused(
            f"a re-embedding to {building.name} ({building.dimensions}d) is under way; "
            "finish it first"
        )
    if building is None:
        building = embedding_model_add(spec=spec)
    ensure_indexes(spec.dimensions)
    return building


def reembed_progress(*, target: EmbeddingModel) -> Progress:
    """How many live memories have an embedding by the target model, of how many."""
    return embeddings_progress(model=target.name)


def reembed_batch(*, target: EmbeddingModel, size: int) -> int:
    """Embed up to `size` live memories that have no embedding by `target`; returns how many
    were missing (0: the target is complete). Raises AiUnavailable or ProviderError; a
    memory the provider refuses for its input (ai.guard.guarded_embed_many isolates it) is
    named in a ProviderError after the others are stored: the run pauses and retries, and
    the operator sees which memory holds it up."""
    spec = embedding_model_spec(target)
    # No lock is held during the call: users keep editing; an edit drops the memory's
    # embeddings by other models (memories.enrichment), so this finds it missing again.
    missing = embeddings_missing(model=target.name, limit=size)
    if not missing:
        return 0
    result = guarded_embed_many(
        items=[(row.user_id, row.text) for row in missing],
        operation="reembed",
        spec=spec,
        call=guarded_embed,
    )
    embeddings_store(
        model=spec.model,
        dimensions=spec.dimensions,
        rows=[
            EmbeddingRow(row.user_id, row.memory_id, row.content_hash, result.vectors[i])
            for i, row in enumerate(missing)
            if i in result.vectors
        ],
    )
    stuck = sorted(missing[i].memory_id for i in {*result.rejected, *result.undecided})
    if stuck:
        logger.warning("re-embedding: the provider refuses memories %s", ", ".join(stuck))
        raise ProviderError(
            f"the provider refuses memories {', '.join(stuck)}", invalid_request=True
        )
    return len(missing)


def reembed_switch(*, target: EmbeddingModel) -> bool:
    """Make the complete target the active model; False while memories still miss it."""
    progress = reembed_progress(target=target)
    if progress.done < progress.total:
        return False
    embedding_model_activate(target=target)
    logger.info("embedding model %s is active", target.name)
    return True


def reembed_step(*, target_id: int) -> bool:
    """Up to REEMBED_BATCHES_PER_TASK steps of the re-embedding to `target_id`: fill the
    building model's embeddings, switch to it when complete, then drop the old model's rows.
    Returns True when the whole re-embedding is done (or the target is gone), False when
    more steps are needed. Raises AiUnavailable or ProviderError (an outage pauses it)."""
    target = EmbeddingModel.objects.filter(pk=target_id).first()
    if target is None or target.state == EmbeddingModel.State.RETIRED:
        return True
    for _ in range(REEMBED_BATCHES_PER_TASK):
        missing = reembed_batch(target=target, size=settings.ENRICHMENT_BATCH_SIZE)
        if target.state == EmbeddingModel.State.BUILDING:
            if not missing and reembed_switch(target=target):
                target.refresh_from_db()
        elif not missing and not embeddings_drop_inactive():
            return True
    return False
