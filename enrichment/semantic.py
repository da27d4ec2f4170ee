"""Semantic search over the embeddings table (DESIGN §5): the query embedded through the guard
(and cached in Redis), then cosine top-k in the user's partition with HNSW.

`hnsw.iterative_scan` keeps scanning the index until `limit` rows pass the filters (the user,
the model, deleted memories, kind, tag, dates), so a filter never starves the result.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass

import numpy as np
import psycopg
from django.conf import settings
from django.db import connection
from django_redis import get_redis_connection

from core.db import raw_connection
from enrichment.guard import AiUnavailable, guarded_embed
from enrichment.models import vector_literal
from enrichment.reembed import active_spec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryVector:
    model: str
    vector: list[float]
    cached: bool


def _cache_key(model: str, dimensions: int, query: str) -> str:
    digest = hashlib.sha256(query.encode()).hexdigest()
    return f"search:qemb:{model}:{dimensions}:{digest}"


def query_embedding(*, user_id: int, query: str) -> QueryVector:
    """The query's embedding with the active model, from the Redis cache or through the guard
    (which raises AiUnavailable or ProviderError: the caller degrades to keyword search)."""
    spec = active_spec()
    key = _cache_key(spec.model, spec.dimensions, query)
    redis = None
    try:
        redis = get_redis_connection("default")
        raw = redis.get(key)
        if raw:
            return QueryVector(spec.model, np.frombuffer(raw, dtype=np.float32).tolist(), True)
    except Exception:
        logger.warning("query embedding cache unavailable", exc_info=True)
    result = guarded_embed(
        items=[(user_id, query)],
        operation="search_query",
        timeout=settings.SEARCH_QUERY_EMBED_TIMEOUT_SECONDS,
        spec=spec,
    )
    vector = result.vectors.get(0)
    if vector is None:  # the user's own AI budget is spent
        raise AiUnavailable("budget_spent")
    if redis is not None:
        try:
            redis.set(
                key,
                np.asarray(vector, dtype=np.float32).tobytes(),
                ex=settings.SEARCH_QUERY_CACHE_SECONDS,
            )
        except Exception:
            logger.warning("query embedding not cached", exc_info=True)
    return QueryVector(result.model, vector, False)


@dataclass(frozen=True)
class VectorHit:
    memory_id: str
    similarity: float


def nearest_memories(*, user_id: int, query: QueryVector, limit: int, **filters) -> list[VectorHit]:
    """The user's live memories nearest to the query vector, most similar first; `filters`
    are nearest_memories_sql's (kind, tag, since, until)."""
    sql, params = nearest_memories_sql(user_id=user_id, query=query, limit=limit, **filters)
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
    query: QueryVector,
    limit: int,
    kind: str | None = None,
    tag: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> tuple[str, dict]:
    """The statement nearest_memories runs (to be run with the HNSW settings it sets)."""
    dimensions = len(query.vector)  # an int: safe to put in the SQL (typmods take no params)
    vector_type = f"vector({int(dimensions)})"
    filters, params = [], {"user_id": user_id, "model": query.model, "limit": limit}
    if kind:
        filters.append("m.kind = %(kind)s")
        params["kind"] = kind
    if tag:
        filters.append("m.tags @> ARRAY[%(tag)s]::varchar[]")
        params["tag"] = tag.strip().lower()
    if since:
        filters.append("m.created_at >= %(since)s")
        params["since"] = since
    if until:
        filters.append("m.created_at < %(until)s")
        params["until"] = until
    params["query"] = vector_literal(query.vector)
    distance = f"(e.embedding::{vector_type}) <=> %(query)s::{vector_type}"
    # Deleted memories have no embeddings (embeddings_forget), so without filters on the
    # memory the embeddings alone answer: for a user of a few hundred memories, Postgres
    # scans them all in the user's partition, and a join per row would cost 5x the scan.
    join = (
        "JOIN memories_memory m ON m.id = e.memory_id AND m.deleted_at IS NULL" if filters else ""
    )
    # Only ints and fixed fragments are formatted in; every value is a parameter.
    sql = f"""
        SELECT e.memory_id, 1 - ({distance}) AS similarity
        FROM enrichment_embedding e {join}
        WHERE e.user_id = %(user_id)s AND e.model = %(model)s
          AND e.dimensions = {int(dimensions)}
          {"".join(" AND " + f for f in filters)}
        ORDER BY {distance}
        LIMIT %(limit)s
    """  # noqa: S608
    return sql, params
