"""Reads of memories. Every query starts from the user, so another user's memory is simply
not found (404), never forbidden."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Func, Q, QuerySet

from accounts.models import User
from memories.models import Memory


@dataclass(frozen=True)
class MemoryFilters:
    """What a list or a search can narrow memories by: the one definition, for the ORM (`q`)
    and for raw SQL over memories_memory (`sql`)."""

    kind: str | None = None
    tag: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @property
    def normalized_tag(self) -> str | None:
        """The tag as tags are stored (memories.normalization.clean_tags: trimmed, lower)."""
        return self.tag.strip().lower() if self.tag else None

    def __bool__(self) -> bool:
        return any((self.kind, self.tag, self.since, self.until))

    def q(self) -> Q:
        """The filters as a Q on Memory."""
        q = Q()
        if self.kind:
            q &= Q(kind=self.kind)
        if self.tag:
            q &= Q(tags__contains=[self.normalized_tag])
        if self.since:
            q &= Q(created_at__gte=self.since)
        if self.until:
            q &= Q(created_at__lt=self.until)
        return q

    def sql(self, alias: str) -> tuple[list[str], dict[str, Any]]:
        """SQL conditions on the memories table aliased `alias`, with their named parameters."""
        conditions, params = [], {}
        if self.kind:
            conditions.append(f"{alias}.kind = %(kind)s")
            params["kind"] = self.kind
        if self.tag:
            conditions.append(f"{alias}.tags @> ARRAY[%(tag)s]::varchar[]")
            params["tag"] = self.normalized_tag
        if self.since:
            conditions.append(f"{alias}.created_at >= %(since)s")
            params["since"] = self.since
        if self.until:
            conditions.append(f"{alias}.created_at < %(until)s")
            params["until"] = self.until
        return conditions, params


def memory_queryset(*, user: User) -> QuerySet[Memory]:
    """The user's live memories, without the (large, API-invisible) tsvector column."""
    return Memory.objects.live().filter(user=user).defer("search_vector")


def memory_list(*, user: User, filters: MemoryFilters) -> QuerySet[Memory]:
    """The user's memories, narrowed by `filters`; the paginator orders them."""
    return memory_queryset(user=user).filter(filters.q())


def memory_get(*, user: User, memory_id: uuid.UUID) -> Memory:
    """One of the user's live memories; raises Memory.DoesNotExist otherwise."""
    return memory_queryset(user=user).get(pk=memory_id)


class _Unnest(Func):
    function = "unnest"


def memory_tags(*, user: User) -> list[str]:
    """Every tag the user has on a live memory, sorted."""
    tags = memory_queryset(user=user).annotate(tag=_Unnest("tags")).values_list("tag", flat=True)
    return sorted(set(tags))
