"""Reads of memories. Every query starts from the user, so another user's memory is simply
not found (404), never forbidden."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import BooleanField, Func, Q, QuerySet
from django.db.models.expressions import RawSQL

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
        conditions: list[str] = []
        params: dict[str, Any] = {}
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


# The position before every row: a cursor at (t, NIL_ID) includes every row stamped t.
NIL_ID = uuid.UUID(int=0)


@dataclass(frozen=True)
class ChangesCursor:
    """Where a client is in the changes feed: after the row at (updated_at, id). The API
    hands it out opaque (memories.api.serializers.changes_cursor_encode)."""

    updated_at: dt.datetime
    id: uuid.UUID
    # When the first page of this run of pages (pages answered with more=true, then the last
    # one) was read: the last page's cursor is capped by it (see memory_changes). It is also
    # the cursor's age for CHANGES_CURSOR_MAX_AGE_DAYS.
    run_started_at: dt.datetime
    # Issued on a full page (more=true): the next request continues the run.
    more: bool = False
    # ... a run that began without `since` (a full sync), which sends no memory deleted
    # before the run began: the client never had it.
    full_sync: bool = False


@dataclass(frozen=True)
class ChangesPage:
    changes: list[Memory]  # live memories, in (updated_at, id) order
    deleted: list[uuid.UUID]  # soft-deleted ones (deletes, near-duplicate merges)
    cursor: ChangesCursor
    more: bool


def memory_changes(
    *, user: User, since: ChangesCursor | None, limit: int, now: dt.datetime
) -> ChangesPage:
    """One page of the changes feed: without `since`, the user's live memories (a full sync);
    with it, the user's memories written after its position, live ones in `changes` and
    soft-deleted ones in `deleted`; `limit` rows in all, in (updated_at, id) order, which
    the index memory_user_changes reads as a range. The later pages of a full sync send
    deletes from when it began (a memory sent on an earlier page may be deleted meanwhile).

    A full page (more=true) ends at its last row, so a busy user still moves on. The last
    page's cursor is never later than CHANGES_SETTLE_SECONDS before the run's first read:
    a transaction that stamped its rows earlier may commit after that read, and a cursor past
    its stamp would skip them for good. Rows of those seconds are sent again next time, which
    is harmless (clients upsert by id and version).
    """
    continues_run = since is not None and since.more
    run_started_at = since.run_started_at if since is not None and continues_run else now
    full_sync = since is None or (continues_run and since.full_sync)
    settled = run_started_at - dt.timedelta(seconds=settings.CHANGES_SETTLE_SECONDS)
    rows = Memory.objects.filter(user=user).defer("search_vector")
    if since is None:
        rows = rows.filter(deleted_at__isnull=True)
    else:
        if full_sync:
            rows = rows.filter(Q(deleted_at__isnull=True) | Q(updated_at__gt=settled))
        table = Memory._meta.db_table
        rows = rows.filter(
            # A row comparison, which Postgres reads as one range of the index; the ORM's
            # Q(updated_at__gt=…) | Q(updated_at=…, id__gt=…) would filter a larger scan.
            # The table name is the model's; the values are parameters.
            RawSQL(  # noqa: S611
                f'("{table}"."updated_at", "{table}"."id") > (%s, %s)',
                (since.updated_at, since.id),
                output_field=BooleanField(),
            )
        )
    page = list(rows.order_by("updated_at", "id")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    if page:
        position = (page[-1].updated_at, page[-1].id)
    elif since is not None:
        position = (since.updated_at, since.id)
    else:
        position = (now, NIL_ID)
    if not more:
        position = min(position, (settled, NIL_ID))
    return ChangesPage(
        changes=[memory for memory in page if memory.deleted_at is None],
        deleted=[memory.pk for memory in page if memory.deleted_at is not None],
        cursor=ChangesCursor(
            *position, run_started_at=run_started_at, more=more, full_sync=more and full_sync
        ),
        more=more,
    )
