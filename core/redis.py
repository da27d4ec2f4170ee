"""The two Redis roles (settings.CACHES): "default" is a cache that may evict under memory
pressure; "state" holds what must never be evicted (breaker, AI budget reservations, rate-limit
counters, alert claims, the enrichment kick flag, the lexicon watermark)."""

from __future__ import annotations

from django_redis import get_redis_connection
from redis import Redis


def state_redis() -> Redis:
    """The connection for state that must not be evicted."""
    return get_redis_connection("state")
