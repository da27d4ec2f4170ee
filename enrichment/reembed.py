"""Moving a deployment to another embedding model without downtime (`manage.py reembed`).

The target model is recorded as building; Celery fills its embeddings batch by batch (every
live memory without one), while search and enrichment keep using the active model. When none
is missing the target becomes active in one transaction, memories enriched by the old model
in the meantime are caught up, and the old model's rows are dropped. Every step is idempotent
and picks up where the last one stopped, so an interrupted run resumes by running it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from enrichment.guard import guarded_embed
from enrichment.models import EmbeddingModel, vector_literal
from enrichment.providers import ModelSpec, configured_spec, spec_check

logger = logging.getLogger(__name__)

PARTITIONS = 16
DROP_BATCH = 5000


def active_spec() -> ModelSpec:
    """The model search and enrichment use now."""
    row = EmbeddingModel.objects.filter(state=EmbeddingModel.State.ACTIVE).first()
    return _spec(row) if row else configured_spec()


def _spec(row: EmbeddingModel) -> ModelSpec:
    return ModelSpec(row.provider, row.name, row.dimensions)


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
    building = EmbeddingModel.objects.filter(state=EmbeddingModel.State.BUILDING).first()
    if building and _spec(building) != spec:
        raise ReembedRefused(
            f"a re-embedding to {building.name} ({building.dimensions}d) is under way; "
            "finish it first"
        )
    if building is None:
        building = EmbeddingModel.objects.create(
            provider=spec.provider, name=spec.model, dimensions=spec.dimensions
        )
    ensure_indexes(spec.dimensions)
    return building


def ensure_indexes(dimensions: int) -> None:
    """One HNSW index per partition for vectors of this size (built without locking writes)."""
    size = int(dimensions)
    # CONCURRENTLY cannot run in a transaction (a caller's atomic block, a test's).
    concurrently = "" if connection.in_atomic_block else "CONCURRENTLY "
    with connection.cursor() as cursor:
        for n in range(PARTITIONS):
            cursor.execute(
                f"CREATE INDEX {concurrently}IF NOT EXISTS enrichment_embedding_p{n}_hnsw_{size} "
                f"ON enrichment_embedding_p{n} USING hnsw ((embedding::vector({size})) "
                f"vector_cosine_ops) WHERE dimensions = {size}"
            )


@dataclass(frozen=True)
class Progress:
    done: int
    total: int


def reembed_progress(*, target: EmbeddingModel) -> Progress:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*), count(e.memory_id)
            FROM memories_memory m
            LEFT JOIN enrichment_embedding e
                   ON e.user_id = m.user_id AND e.memory_id = m.id AND e.model = %s
            WHERE m.deleted_at IS NULL
            """,
            [target.name],
        )
        total, done = cursor.fetchone()
    return Progress(done=done, total=total)


_MISSING_SQL = """
SELECT m.id, m.user_id, concat_ws(E'\\n', NULLIF(m.title, ''), m.content, NULLIF(m.url, '')),
       m.content_hash
FROM memories_memory m
WHERE m.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM enrichment_embedding e
                  WHERE e.user_id = m.user_id AND e.memory_id = m.id AND e.model = %s)
ORDER BY m.id
LIMIT %s
"""

# Only for memories still live and with the text that was embedded, whose rows it locks: a
# delete or edit committing meanwhile either came first (the memory is skipped, to be found
# missing again) or waits, then drops the new row (embeddings_forget, enrichment's _apply).
_UPSERT_SQL = """
INSERT INTO enrichment_embedding (user_id, memory_id, model, dimensions, embedding)
SELECT u, mid, %s, %s, e::vector
FROM unnest(%s::bigint[], %s::uuid[], %s::text[], %s::text[]) AS r(u, mid, e, hash)
JOIN memories_memory m ON m.id = r.mid AND m.deleted_at IS NULL AND m.content_hash = r.hash
FOR SHARE OF m
ON CONFLICT (user_id, memory_id, model) DO NOTHING
"""


def reembed_batch(*, target: EmbeddingModel, size: int) -> int:
    """Embed up to `size` live memories that have no embedding by `target`; returns how many
    were missing (0: the target is complete). Raises AiUnavailable or ProviderError."""
    spec = _spec(target)
    # No lock is held during the call: users keep editing; an edit drops the memory's
    # embeddings by other models (enrichment's _apply), so this finds it missing again.
    with connection.cursor() as cursor:
        cursor.execute(_MISSING_SQL, [target.name, size])
        rows = cursor.fetchall()
    if not rows:
        return 0
    result = guarded_embed(
        items=[(user_id, text) for _, user_id, text, _ in rows], operation="reembed", spec=spec
    )
    stored = [(i, row) for i, row in enumerate(rows) if i in result.vectors]
    with connection.cursor() as cursor:
        cursor.execute(
            _UPSERT_SQL,
            [
                spec.model,
                spec.dimensions,
                [row[1] for _, row in stored],
                [row[0] for _, row in stored],
                [vector_literal(result.vectors[i]) for i, _ in stored],
                [row[3] for _, row in stored],
            ],
        )
    return len(rows)


def reembed_switch(*, target: EmbeddingModel) -> bool:
    """Make the complete target the active model; False while memories still miss it."""
    if reembed_progress(target=target).done < reembed_progress(target=target).total:
        return False
    with transaction.atomic():
        EmbeddingModel.objects.filter(state=EmbeddingModel.State.ACTIVE).update(
            state=EmbeddingModel.State.RETIRED
        )
        EmbeddingModel.objects.filter(pk=target.pk).update(
            state=EmbeddingModel.State.ACTIVE, switched_at=timezone.now()
        )
    logger.info("embedding model %s is active", target.name)
    return True


def drop_inactive_rows() -> int:
    """Delete embeddings by any model but the active one, a batch at a time; returns how many
    are left to delete (0: done)."""
    active = active_spec().model
    with connection.cursor() as cursor:
        cursor.execute(
            """
            DELETE FROM enrichment_embedding
            WHERE (user_id, memory_id, model) IN (
                SELECT user_id, memory_id, model FROM enrichment_embedding
                WHERE model <> %s LIMIT %s)
            """,
            [active, DROP_BATCH],
        )
        deleted = cursor.rowcount
    return DROP_BATCH if deleted == DROP_BATCH else 0
