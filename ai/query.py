"""A search query's embedding: from the Redis cache, or through the guard (DESIGN §4)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django_redis import get_redis_connection

from ai.guard import AiUnavailable, guarded_embed
from ai.providers import ModelSpec

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryVector:
    model: str
    vector: list[float]
    cached: bool


def _cache_key(user_id: int, model: str, dimensions: int, query: str) -> str:
    # Per user: with one shared entry, a user could tell from a fast answer that someone
    # else searched for the same words (a timing side channel).
    digest = hashlib.sha256(query.encode()).hexdigest()
    return f"search:qemb:{user_id}:{model}:{dimensions}:{digest}"


def query_embedding(*, user_id: int, query: str, spec: ModelSpec) -> QueryVector:
    """The query's embedding by `spec`, from the Redis cache or through the guard (on
    `user_id`'s budget, within SEARCH_QUERY_EMBED_TIMEOUT_SECONDS). Raises AiUnavailable or
    ProviderError: the caller degrades to keyword search."""
    key = _cache_key(user_id, spec.model, spec.dimensions, query)
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
