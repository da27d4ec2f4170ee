"""Helpers of the near-duplicate tests."""

from django.core.cache import caches
from waffle import get_waffle_flag_model
from waffle.utils import get_setting

from enrichment.services import enrich_batch
from memories.services import memory_create


def uncache_flags() -> None:
    """waffle caches flags in Redis, which outlives a test's rolled-back rows."""
    caches[get_setting("CACHE_NAME")].delete_pattern("*waffle*")


def set_flag(**fields) -> None:
    flag = get_waffle_flag_model().objects.get(name="near_duplicates")
    for name, value in fields.items():
        setattr(flag, name, value)
    flag.save()
    uncache_flags()


def save(user, content: str, **fields):
    return memory_create(user=user, content=content, **fields).memory


def enrich_all() -> None:
    """Enrich everything pending with the local model, as a worker would."""
    while enrich_batch().claimed:
        pass
