"""Writes on memories. Views and tasks call these; nothing else writes a Memory."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from billing.limits import MAX_MEMORIES, SAVES_PER_DAY
from billing.services import (
    Consumption,
    CounterCorrection,
    usage_consume,
    usage_consumption,
    usage_counters_reconcile,
    usage_release,
)
from core.db import default_connection, execute_prepared
from memories.embeddings import embeddings_forget
from memories.enrichment import enrichment_kick
from memories.models import Memory
from memories.normalization import clean_tags, content_hash
from memories.selectors import memory_get, memory_queryset

EDITABLE_FIELDS = ("kind", "title", "content", "url", "tags")

# How long a deleted memory can be brought back (API.md: POST /memories/{id}/restore).
RESTORE_WINDOW = dt.timedelta(days=30)


class DuplicateRace(Exception):
    """Saves and deletes of the same content kept interleaving; the client should retry."""


class DuplicateContent(Exception):
    """An edit would give the memory the same content as another live memory."""

    def __init__(self, existing: Memory) -> None:
        super().__init__(f"same content as memory {existing.pk}")
        self.existing = existing


class VersionConflict(Exception):
    """The client edited an old version; `current` is the server's copy."""

    def __init__(self, current: Memory) -> None:
        super().__init__(f"memory {current.pk} is at version {current.version}")
        self.current = current


def _enrichment_kick() -> None:
    enrichment_kick(debounced=True)


@dataclass(frozen=True)
class SaveResult:
    memory: Memory
    created: bool  # False: the same content was already saved; `memory` is that one


def _live_duplicate(*, user: User, hashed: str) -> Memory | None:
    return memory_queryset(user=user).filter(content_hash=hashed).first()


# What a new memory's INSERT sends; every other column takes its database default (NULL, or
# the db_default its model field declares, equal to the Python default). Fewer parameters to
# prepare and send on the save path; test_services checks the stored row against the instance.
_INSERTED_FIELDS = (
    "id", "user", "kind", "title", "content", "url", "tags", "content_hash", "created_at",
    "updated_at",
)  # fmt: skip


@functools.cache
def _insert_sql() -> tuple[str, tuple[Any, ...]]:
    fields = tuple(Memory._meta.get_field(name) for name in _INSERTED_FIELDS)
    # Concrete model fields by name: get_field returns no reverse relation for them, and each
    # has a column (the stubs allow both).
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)  # type: ignore[union-attr, arg-type]
    placeholders = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {Memory._meta.db_table} ({columns}) VALUES ({placeholders}) "  # noqa: S608 (names from the model)
        # The partial unique index memory_unique_live_content is the arbiter.
        "ON CONFLICT (user_id, content_hash) WHERE deleted_at IS NULL DO NOTHING RETURNING 1"
    )
    return sql, fields


def _insert_and_count(memory: Memory, consumption: Consumption) -> dict[str, int] | None:
    """INSERT the new memory unless a live one has its content, and count it against the
    plan, in one statement; the counts, or None for a duplicate (nothing counted).

    ON CONFLICT DO NOTHING instead of catching an IntegrityError: no savepoint, and no
    aborted transaction when two saves of the same content race. The counting upsert runs
    only if the INSERT returned a row, so a duplicate counts nothing.
    """
    insert_sql, fields = _insert_sql()
    db = default_connection()  # not the proxy: one lookup instead of one per field
    values = [f.get_db_prep_save(f.pre_save(memory, add=True), db) for f in fields]
    sql = (
        f"WITH inserted AS ({insert_sql}), counted AS ({consumption.sql}) "  # noqa: S608 (our own SQL)
        "SELECT EXISTS (SELECT FROM inserted), "
        "ARRAY(SELECT limit_name FROM counted), ARRAY(SELECT count FROM counted)"
    )
    # A SELECT without FROM: always one row, never None.
    inserted, names, counts = execute_prepared(sql, [*values, *consumption.params]).fetchone()  # type: ignore[misc]
    if not inserted:
        return None
    memory._state.adding = False
    return dict(zip(names, counts, strict=True))


def memory_create(
    *,
    user: User,
    content: str,
    title: str = "",
    url: str = "",
    kind: str = Memory.Kind.NOTE,
    tags: list[str] | None = None,
    created_at: dt.datetime | None = None,
) -> SaveResult:
    """Save a new memory for `user`, pending enrichment, or find the one with the same content.

    `created_at` is when the user saved it (a save queued offline arrives later), default
    now; `updated_at` is always now, so the changes feed sends the memory whenever it comes.

    Exact duplicates (same normalized content and URL, see normalization.py) return the live
    memory that has it and count nothing. A new memory counts against the plan's
    `saves_per_day` and `max_memories` in the statement of its INSERT; if a limit is reached
    the memory is deleted again and the counts given back in the same transaction, so a
    refused save stores and counts nothing. Raises billing.limits.QuotaExceeded.

    The partial unique index on (user, content_hash) settles races: of two concurrent saves of
    the same content one INSERT does nothing, and that save returns the winner's memory.
    """
    memory = Memory(
        user=user,
        content=content,
        title=title,
        url=url,
        kind=kind,
        tags=clean_tags(tags or []),
        content_hash=content_hash(content, url),
        created_at=created_at or timezone.now(),
    )
    plan = user.plan
    consumption = usage_consumption(
        user_id=user.pk,
        limits={
            SAVES_PER_DAY.name: plan.saves_per_day,
            MAX_MEMORIES.name: plan.max_memories,
        },
        gate="EXISTS (SELECT FROM inserted)",
    )
    # No savepoint: nothing in here raises, and a refusal is undone by hand below, so a
    # caller's transaction stays usable. The common path is one statement.
    with transaction.atomic(savepoint=False):
        for _attempt in range(3):
            counted = _insert_and_count(memory, consumption)
            if counted is not None:
                break
            existing = _live_duplicate(user=user, hashed=memory.content_hash)
            if existing is not None:
                return SaveResult(existing, created=False)
            # The live copy was deleted between the two statements: try the INSERT again.
        else:
            raise DuplicateRace(memory.content_hash)
        refusal = consumption.settle(counted)
        if refusal:
            Memory.objects.filter(pk=memory.pk).delete()
    if refusal:
        raise refusal
    transaction.on_commit(_enrichment_kick)
    return SaveResult(memory, created=True)


def memory_update(
    *, user: User, memory_id: uuid.UUID, expected_version: int, changes: dict[str, Any]
) -> Memory:
    """Apply `changes` if the memory is still at `expected_version`.

    The version check and the write are one conditional UPDATE, so two clients editing the
    same version cannot both win: the second gets VersionConflict with the server's copy.
    Raises Memory.DoesNotExist for a missing, deleted or foreign memory, and DuplicateContent
    when the new content is that of another live memory.
    """
    current = memory_get(user=user, memory_id=memory_id)
    fields = {name: value for name, value in changes.items() if name in EDITABLE_FIELDS}
    if "tags" in fields:
        fields["tags"] = clean_tags(fields["tags"])
    if "content" in fields or "url" in fields:
        fields["content_hash"] = content_hash(
            fields.get("content", current.content), fields.get("url", current.url)
        )
    if "content" in fields and fields["content"] != current.content:
        fields["enrichment_status"] = Memory.EnrichmentStatus.PENDING
        fields["enrichment_attempts"] = 0
    try:
        with transaction.atomic():
            updated = (
                Memory.objects.live()
                .filter(user=user, pk=memory_id, version=expected_version)
                .update(**fields, version=F("version") + 1, updated_at=timezone.now())
            )
    except IntegrityError as exc:
        existing = _live_duplicate(user=user, hashed=fields.get("content_hash", ""))
        if existing is None or "memory_unique_live_content" not in str(exc):
            raise
        raise DuplicateContent(existing) from exc
    if not updated:
        raise VersionConflict(memory_get(user=user, memory_id=memory_id))
    if fields.get("enrichment_status") == Memory.EnrichmentStatus.PENDING:
        transaction.on_commit(_enrichment_kick)
    return memory_get(user=user, memory_id=memory_id)


def memory_delete(*, user: User, memory_id: uuid.UUID) -> None:
    """Soft-delete: the row stays (for undo and audit) but no API answer shows it again; its
    slot of `max_memories` is given back and its embeddings dropped, in one transaction.

    Raises Memory.DoesNotExist for a missing, already deleted or foreign memory.
    """
    now = timezone.now()
    with transaction.atomic():
        deleted = (
            Memory.objects.live()
            .filter(user=user, pk=memory_id)
            .update(deleted_at=now, updated_at=now, version=F("version") + 1)
        )
        if not deleted:
            raise Memory.DoesNotExist(memory_id)
        usage_release(user_id=user.pk, limit_name=MAX_MEMORIES.name)
        embeddings_forget(user_id=user.pk, memory_id=memory_id)


def memory_restore(*, user: User, memory_id: uuid.UUID) -> Memory:
    """Undo a delete made within RESTORE_WINDOW: the memory is live again, one version on.

    It takes a `max_memories` slot again (QuotaExceeded when none is left) and is enriched
    anew, since its embeddings went with the delete. Raises Memory.DoesNotExist for a live,
    foreign, missing or too old memory, and DuplicateContent when another live memory has
    its content now (saved again after the delete).
    """
    now = timezone.now()
    with transaction.atomic():
        deleted = Memory.objects.filter(
            user=user, pk=memory_id, deleted_at__gte=now - RESTORE_WINDOW
        ).select_for_update()
        memory = deleted.get()  # locked: two restores of one memory count one slot
        usage_consume(user_id=user.pk, limit_name=MAX_MEMORIES.name, limit=user.plan.max_memories)
        try:
            with transaction.atomic():
                deleted.update(
                    deleted_at=None,
                    duplicate_of=None,
                    updated_at=now,
                    version=F("version") + 1,
                    enrichment_status=Memory.EnrichmentStatus.PENDING,
                    enrichment_attempts=0,
                    enrichment_lease_until=None,
                )
        except IntegrityError as exc:
            existing = _live_duplicate(user=user, hashed=memory.content_hash)
            if existing is None or "memory_unique_live_content" not in str(exc):
                raise
            raise DuplicateContent(existing) from exc
    transaction.on_commit(_enrichment_kick)
    return memory_get(user=user, memory_id=memory_id)


def memory_merge_into(*, user: User, kept_id: uuid.UUID, merged_id: uuid.UUID) -> list[str]:
    """Merge one live memory into another (near-duplicates): `kept` gets the tags of
    `merged` it lacks (one version on), and `merged` is soft-deleted as memory_delete does,
    with `duplicate_of` = kept. Both rows are locked in id order, so two merges of one pair
    cannot both go through. Returns the tags added to `kept`, for an undo. Raises
    Memory.DoesNotExist when either is not the user's live memory."""
    now = timezone.now()
    with transaction.atomic():
        rows = {
            memory.pk: memory
            for memory in Memory.objects.live()
            .filter(user=user, pk__in=[kept_id, merged_id])
            .order_by("pk")
            .select_for_update()
        }
        if kept_id == merged_id or len(rows) != 2:
            raise Memory.DoesNotExist(merged_id)
        kept, merged = rows[kept_id], rows[merged_id]
        added = [tag for tag in merged.tags if tag not in kept.tags]
        if added:
            Memory.objects.filter(pk=kept_id).update(
                tags=[*kept.tags, *added], version=F("version") + 1, updated_at=now
            )
        Memory.objects.filter(pk=merged_id).update(
            deleted_at=now, duplicate_of=kept_id, updated_at=now, version=F("version") + 1
        )
        usage_release(user_id=user.pk, limit_name=MAX_MEMORIES.name)
        embeddings_forget(user_id=user.pk, memory_id=merged_id)
    return added


def memory_unmerge(
    *, user: User, kept_id: uuid.UUID, merged_id: uuid.UUID, added_tags: list[str]
) -> None:
    """Undo memory_merge_into: `merged` is restored as memory_restore does (a slot taken
    again, enriched anew) and the tags the merge added to `kept` are taken off it, those the
    user has not removed since. Raises what memory_restore raises."""
    with transaction.atomic():
        memory_restore(user=user, memory_id=merged_id)
        kept = Memory.objects.live().filter(user=user, pk=kept_id).select_for_update().first()
        if kept is None or not set(added_tags) & set(kept.tags):
            return
        Memory.objects.filter(pk=kept_id).update(
            tags=[tag for tag in kept.tags if tag not in added_tags],
            version=F("version") + 1,
            updated_at=timezone.now(),
        )


def memories_usage_reconcile() -> list[CounterCorrection]:
    """Put each user's `max_memories` counter back to their live memories, where it drifted
    (nightly: enrichment's reconcile job); returns the corrections."""
    live = Memory.objects.live()
    return usage_counters_reconcile(
        limit_name=MAX_MEMORIES.name,
        user_ids=live.order_by().values_list("user_id", flat=True).distinct(),
        count=lambda user_id: live.filter(user_id=user_id).count(),
    )
