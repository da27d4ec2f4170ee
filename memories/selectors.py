"""Reads of memories. Every query starts from the user, so another user's memory is simply
not found (404), never forbidden."""

from __future__ import annotations

import uuid

from django.db.models import Func, QuerySet

from accounts.models import User
from memories.models import Memory


def memory_queryset(*, user: User) -> QuerySet[Memory]:
    """The user's live memories, without the (large, API-invisible) tsvector column."""
    return Memory.objects.live().filter(user=user).defer("search_vector")


def memory_list(*, user: User, kind: str | None = None, tag: str | None = None) -> QuerySet[Memory]:
    """The user's memories, filtered by kind and/or tag; the paginator orders them."""
    queryset = memory_queryset(user=user)
    if kind:
        queryset = queryset.filter(kind=kind)
    if tag:
        queryset = queryset.filter(tags__contains=[tag.strip().lower()])
    return queryset


def memory_get(*, user: User, memory_id: uuid.UUID) -> Memory:
    """One of the user's live memories; raises Memory.DoesNotExist otherwise."""
    return memory_queryset(user=user).get(pk=memory_id)


class _Unnest(Func):
    function = "unnest"


def memory_tags(*, user: User) -> list[str]:
    """Every tag the user has on a live memory, sorted."""
    tags = memory_queryset(user=user).annotate(tag=_Unnest("tags")).values_list("tag", flat=True)
    return sorted(set(tags))
