"""A memory's embeddings (DESIGN §5): the one place that reads and writes the embeddings table
and the record of embedding models. The enrichment pipeline computes vectors and stores them
here; search reads the nearest ones here.

The table is hash-partitioned by user with an HNSW index per partition and vector size
(docs/decisions/0004-hash-partitions-for-embeddings.md). A deleted memory keeps no
embeddings, so search without filters on the memory reads the embeddings alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ai.providers import ModelSpec
from ai.providers.registry import configured_spec
from core.db import raw_connection
from memories.models import EmbeddingModel
from memories.selectors import MemoryFilters

logger = logging.getLogger(__name__)

PARTITIONS = 16
DROP_BATCH = 5000


def vector_literal(vector) -> str:
    """A vector as pgvector's text input ('[0.1,0.2,…]'), to pass as a query parameter."""
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


def embedding_text(title: str, content: str, url: str) -> str:
    """The text a memory is embedded from: its title, content and URL, one per line (the
    empty ones left out). The one definition, for fresh enrichment and re-embedding alike."""
    return "\n".join(part for part in (title, content, url) if part)


# ---------------------------------------------------------------------------------------------
# Which model embeds memories


def active_spec() -> ModelSpec:
    """The model search and enrichment use now: the active EmbeddingModel, or the one the
    settings name while no re-embedding has ever switched models."""
    row = EmbeddingModel.objects.filter(state=EmbeddingModel.State.ACTIVE).first()
    return embedding_model_spec(row) if row else configured_spec()


def embedding_model_spec(row: EmbeddingModel) -> ModelSpec:
    """The ModelSpec an EmbeddingModel row records."""
    return ModelSpec(row.provider, row.name, row.dimensions)


def embedding_model_building() -> EmbeddingModel | None:
    """The model a re-embedding is filling, if one is under way."""
    return EmbeddingModel.objects.filter(state=EmbeddingModel.State.BUILDING).first()


def embedding_model_add(*, spec: ModelSpec) -> EmbeddingModel:
    """Record `spec` as the building model (the unique constraint allows one at a time)."""
    return EmbeddingModel.objects.create(
        provider=spec.provider, name=spec.model, dimensions=spec.dimensions
    )


def embedding_model_activate(*, target: EmbeddingModel) -> None:
    """Make `target` the active model and retire the one before it, in one transaction."""
    with transaction.atomic():
        EmbeddingModel.objects.filter(state=EmbeddingModel.State.ACTIVE).update(
            state=EmbeddingModel.State.RETIRED
        )
        EmbeddingModel.objects.filter(pk=target.pk).update(
            state=EmbeddingModel.State.ACTIVE, switched_at=timezone.now()
        )


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


# ---------------------------------------------------------------------------------------------
# Writes


@dataclass(frozen=True)
class EmbeddingRow:
    user_id: int
    memory_id: str
    content_hash: str  # of the text that was embedded
    vector: Sequence[float]


# Only for memories still live and with the text that was embedded, whose rows it locks: a
# delete or edit committing meanwhile either came first (the memory is skipped, to be found
# missing again) or waits, then drops the new row (embeddings_forget, memory enrichment).
_STORE_SQL = """
INSERT INTO enrichment_embedding (user_id, memory_id, model, dimensions, embedding)
SELECT r.u, r.mid, %s, %s, r.e::vector
FROM unnest(%s::bigint[], %s::uuid[], %s::text[], %s::text[]) AS r(u, mid, e, hash)
JOIN memories_memory m ON m.id = r.mid AND m.deleted_at IS NULL AND m.content_hash = r.hash
FOR SHARE OF m
ON CONFLICT (user_id, memory_id, model)
    DO UPDATE SET embedding = EXCLUDED.embedding, dimensions = EXCLUDED.dimensions,
                  created_at = now()
"""


def embeddings_store(*, model: str, dimensions: int, rows: Sequence[EmbeddingRow]) -> None:
    """Store each row's vector by `model`, replacing an older one by the same model; a row
    whose memory was deleted or edited since its text was read is skipped. The one way an
    embedding is written."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _STORE_SQL,
            [
                model,
                dimensions,
                [row.user_id for row in rows],
                [row.memory_id for row in rows],
                [vector_literal(row.vector) for row in rows],
                [row.content_hash for row in rows],
            ],
        )


def embeddings_drop_other_models(*, memory_ids: Sequence[str], model: str) -> None:
    """Drop these memories' embeddings by any model but `model`: a memory enriched again
    (edited) keeps none by other models, so a re-embedding under way finds it missing and
    embeds the new text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM enrichment_embedding WHERE memory_id = ANY(%s::uuid[]) AND model <> %s",
            [list(memory_ids), model],
        )


def embeddings_forget(*, user_id: int, memory_id) -> None:
    """Drop a deleted memory's embeddings (every model's), in the caller's transaction: a
    deleted memory is never a search result, so semantic search needs no join to skip it."""
    with connection.cursor() as cursor:
        cursor.execute(  # the user picks the partition
            "DELETE FROM enrichment_embedding WHERE user_id = %s AND memory_id = %s",
            [user_id, memory_id],
        )


def embeddings_drop_inactive() -> int:
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


# ---------------------------------------------------------------------------------------------
# Reads


@dataclass(frozen=True)
class MissingEmbedding:
    memory_id: str
    user_id: int
    text: str  # embedding_text
    content_hash: str


_MISSING_SQL = """
SELECT m.id, m.user_id, m.title, m.content, m.url, m.content_hash
FROM memories_memory m
WHERE m.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM enrichment_embedding e
                  WHERE e.user_id = m.user_id AND e.memory_id = m.id AND e.model = %s)
ORDER BY m.id
LIMIT %s
"""


def embeddings_missing(*, model: str, limit: int) -> list[MissingEmbedding]:
    """Up to `limit` live memories without an embedding by `model`, in id order."""
    with connection.cursor() as cursor:
        cursor.execute(_MISSING_SQL, [model, limit])
        rows = cursor.fetchall()
    return [
        MissingEmbedding(str(memory_id), user_id, embedding_text(title, content, url), hashed)
        for memory_id, user_id, title, content, url, hashed in rows
    ]


@dataclass(frozen=True)
class Progress:
    done: int
    total: int


def embeddings_progress(*, model: str) -> Progress:
    """How many live memories have an embedding by `model`, of how many."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*), count(e.memory_id)
            FROM memories_memory m
            LEFT JOIN enrichment_embedding e
                   ON e.user_id = m.user_id AND e.memory_id = m.id AND e.model = %s
            WHERE m.deleted_at IS NULL
            """,
            [model],
        )
        total, done = cursor.fetchone()
    return Progress(done=done, total=total)


@dataclass(frozen=True)
class VectorHit:
    memory_id: str
    similarity: float


def nearest_memories(
    *,
    user_id: int,
    model: str,
    vector: Sequence[float],
    limit: int,
    filters: MemoryFilters | None = None,
) -> list[VectorHit]:
    """The user's live memories nearest to `vector` (embedded by `model`), most similar
    first, narrowed by `filters`. `hnsw.iterative_scan` keeps scanning the index until `limit`
    rows pass the filters, so a filter never starves the result."""
    sql, params = nearest_memories_sql(
        user_id=user_id, model=model, vector=vector, limit=limit, filters=filters
    )
    # Setting the index's options and the query go in one psycopg pipeline: one network
    # round trip, no transaction (Django's cursor has no pipeline mode). The options are the
    # session's, set before every semantic query, so no other query depends on them.
    raw = raw_connection()
    with connection.wrap_database_errors:
        with raw.pipeline():
            psycopg.Cursor(raw).execute(
                "SELECT set_config('hnsw.ef_search', %s, false),"
                " set_config('hnsw.iterative_scan', 'relaxed_order', false)",
                [str(settings.SEARCH_HNSW_EF_SEARCH)],
            )
            nearest = psycopg.Cursor(raw)
            # Custom plans (no prepared statement): the user's partition is pruned at planning.
            nearest.execute(sql, params, prepare=False)
        rows = nearest.fetchall()
    # relaxed_order may return near-ties slightly out of order: put them straight.
    rows.sort(key=lambda row: row[1], reverse=True)
    return [VectorHit(str(memory_id), float(similarity)) for memory_id, similarity in rows]


def nearest_memories_sql(
    *,
    user_id: int,
    model: str,
    vector: Sequence[float],
    limit: int,
    filters: MemoryFilters | None = None,
) -> tuple[str, dict]:
    """The statement nearest_memories runs (to be run with the HNSW settings it sets)."""
    dimensions = len(vector)  # an int: safe to put in the SQL (typmods take no params)
    vector_type = f"vector({int(dimensions)})"
    conditions, params = (filters or MemoryFilters()).sql("m")
    params.update(
        {"user_id": user_id, "model": model, "limit": limit, "query": vector_literal(vector)}
    )
    distance = f"(e.embedding::{vector_type}) <=> %(query)s::{vector_type}"
    # Deleted memories have no embeddings (embeddings_forget), so without filters on the
    # memory the embeddings alone answer: for a user of a few hundred memories, Postgres
    # scans them all in the user's partition, and a join per row would cost 5x the scan.
    join = (
        "JOIN memories_memory m ON m.id = e.memory_id AND m.deleted_at IS NULL"
        if conditions
        else ""
    )
    # Only ints and fixed fragments are formatted in; every value is a parameter.
    sql = f"""
        SELECT e.memory_id, 1 - ({distance}) AS similarity
        FROM enrichment_embedding e {join}
        WHERE e.user_id = %(user_id)s AND e.model = %(model)s
          AND e.dimensions = {int(dimensions)}
          {"".join(" AND " + condition for condition in conditions)}
        ORDER BY {distance}
        LIMIT %(limit)s
    """  # noqa: S608
    return sql, params


# ---------------------------------------------------------------------------------------------
# Neighbours of memories (near-duplicates)


@dataclass(frozen=True)
class EmbeddedMemory:
    """A memory and the vector it was just embedded as (by the model named alongside)."""

    user_id: int
    memory_id: str
    vector: Sequence[float]


@dataclass(frozen=True)
class Neighbour:
    memory_id: str
    neighbour_id: str
    similarity: float


# Up to this many embeddings a user's neighbours are found by an exact scan of their rows
# (a few ms, and exact); above it, through the HNSW index with iterative scan.
EXACT_SCAN_MAX = 2000

_SIZES_SQL = """
SELECT u.id, (SELECT count(*) FROM (
    SELECT 1 FROM enrichment_embedding e
    WHERE e.user_id = u.id AND e.model = %(model)s LIMIT %(cap)s) AS capped)
FROM unnest(%(users)s::bigint[]) AS u(id)
"""

# `+ 0` makes the order an expression no index serves: Postgres reads the user's rows by
# the primary key (user_id leads it) and sorts them exactly, instead of walking a
# partition-wide HNSW index that mostly holds other users' vectors.
_EXACT_NEIGHBOURS_SQL = """
WITH src AS MATERIALIZED (  -- each vector parsed once, not once per row it is compared to
    SELECT user_id, memory_id, vector::{vector_type} AS vector
    FROM unnest(%(users)s::bigint[], %(ids)s::uuid[], %(vectors)s::text[])
         AS given(user_id, memory_id, vector)
)
SELECT src.memory_id, n.memory_id, n.similarity
FROM src
CROSS JOIN LATERAL (
    SELECT e.memory_id,
           1 - (e.embedding::{vector_type} <=> src.vector) AS similarity
    FROM enrichment_embedding e
    WHERE e.user_id = src.user_id AND e.model = %(model)s AND e.dimensions = {dimensions}
      AND e.memory_id <> src.memory_id
    ORDER BY (e.embedding::{vector_type} <=> src.vector) + 0
    LIMIT %(limit)s
) AS n
WHERE n.similarity >= %(min_similarity)s
"""


def embedding_neighbours(
    *, model: str, memories: Sequence[EmbeddedMemory], limit: int, min_similarity: float
) -> list[Neighbour]:
    """Each memory's `limit` nearest live memories of its own user, embedded by `model`,
    that are at least `min_similarity` alike (cosine). Users with up to EXACT_SCAN_MAX
    embeddings: one exact statement for all of them; bigger users: the search's HNSW query
    with iterative scan, one per memory."""
    if not memories:
        return []
    dimensions = len(memories[0].vector)
    users = sorted({m.user_id for m in memories})
    with connection.cursor() as cursor:
        cursor.execute(_SIZES_SQL, {"model": model, "cap": EXACT_SCAN_MAX + 1, "users": users})
        sizes = dict(cursor.fetchall())
    small = [m for m in memories if sizes[m.user_id] <= EXACT_SCAN_MAX]
    found: list[Neighbour] = []
    if small:
        sql = _EXACT_NEIGHBOURS_SQL.format(
            vector_type=f"vector({int(dimensions)})", dimensions=int(dimensions)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                {
                    "users": [m.user_id for m in small],
                    "ids": [m.memory_id for m in small],
                    "vectors": [vector_literal(m.vector) for m in small],
                    "model": model,
                    "limit": limit,
                    "min_similarity": min_similarity,
                },
            )
            found += [Neighbour(str(a), str(b), float(s)) for a, b, s in cursor.fetchall()]
    for memory in memories:
        if sizes[memory.user_id] <= EXACT_SCAN_MAX:
            continue
        hits = nearest_memories(
            user_id=memory.user_id, model=model, vector=memory.vector, limit=limit + 1
        )
        found += [
            Neighbour(memory.memory_id, hit.memory_id, hit.similarity)
            for hit in hits
            if hit.memory_id != memory.memory_id and hit.similarity >= min_similarity
        ][:limit]
    return found


def embeddings_of_memories(
    *, model: str, after: tuple[int, str] | None, user_ids: Sequence[int] | None, limit: int
) -> list[EmbeddedMemory]:
    """Up to `limit` stored embeddings by `model`, in (user, memory) order after `after`, of
    `user_ids` only if given: what a backfill walks."""
    after_user, after_memory = after or (0, "00000000-0000-0000-0000-000000000000")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT e.user_id, e.memory_id, e.embedding::text FROM enrichment_embedding e
            WHERE e.model = %(model)s AND (e.user_id, e.memory_id) > (%(user)s, %(memory)s::uuid)
              AND (%(users)s::bigint[] IS NULL OR e.user_id = ANY(%(users)s::bigint[]))
            ORDER BY e.user_id, e.memory_id
            LIMIT %(limit)s
            """,
            {
                "model": model,
                "user": after_user,
                "memory": after_memory,
                "users": list(user_ids) if user_ids is not None else None,
                "limit": limit,
            },
        )
        rows = cursor.fetchall()
    return [
        EmbeddedMemory(user_id, str(memory_id), [float(x) for x in text.strip("[]").split(",")])
        for user_id, memory_id, text in rows
    ]


def embedding_similarities(
    *, model: str, pairs: Sequence[tuple[int, str, str]]
) -> list[tuple[str, str, float]]:
    """The cosine similarity of each pair of one user's memories (user id, memory, memory),
    embedded by `model`; a pair where either has no such embedding is left out."""
    if not pairs:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.a, p.b, 1 - (a.embedding <=> b.embedding)
            FROM unnest(%s::bigint[], %s::uuid[], %s::uuid[]) AS p(user_id, a, b)
            JOIN enrichment_embedding a
              ON a.user_id = p.user_id AND a.memory_id = p.a AND a.model = %s
            JOIN enrichment_embedding b
              ON b.user_id = p.user_id AND b.memory_id = p.b AND b.model = %s
            WHERE a.dimensions = b.dimensions
            """,
            [
                [user_id for user_id, _, _ in pairs],
                [a for _, a, _ in pairs],
                [b for _, _, b in pairs],
                model,
                model,
            ],
        )
        return [(str(a), str(b), float(s)) for a, b, s in cursor.fetchall()]
