"""Writes on memories. Views and tasks call these; nothing else writes a Memory."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from billing.services import usage_consume, usage_release
from memories.models import Memory
from memories.normalization import clean_tags, content_hash
from memories.selectors import memory_get, memory_queryset

EDITABLE_FIELDS = ("kind", "title", "content", "url", "tags")


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


@dataclass(frozen=True)
class SaveResult:
    memory: Memory
    created: bool  # False: the same content was already saved; `memory` is that one


def _live_duplicate(*, user: User, hashed: str) -> Memory | None:
    return memory_queryset(user=user).filter(content_hash=hashed).first()


def memory_create(
    *,
    user: User,
    content: str,
    title: str = "",
    url: str = "",
    kind: str = Memory.Kind.NOTE,
    tags: list[str] | None = None,
) -> SaveResult:
    """Save a new memory for `user`, pending enrichment, or find the one with the same content.

    Exact duplicates (same normalized content and URL, see normalization.py) return the live
    memory that has it and count nothing. Otherwise the save counts against the plan's
    `saves_per_day` and `max_memories` in the same transaction as the INSERT, so a refused or
    rolled-back save uses no quota. Raises billing.services.QuotaExceeded.

    The partial unique index on (user, content_hash) settles races: of two concurrent saves
    of the same content one INSERT fails, its transaction (quota included) rolls back, and it
    returns the winner's memory.
    """
    hashed = content_hash(content, url)
    existing = _live_duplicate(user=user, hashed=hashed)
    if existing is not None:
        return SaveResult(existing, created=False)
    plan = user.plan
    try:
        with transaction.atomic():
            usage_consume(user_id=user.pk, limit_name="saves_per_day", limit=plan.saves_per_day)
            usage_consume(user_id=user.pk, limit_name="max_memories", limit=plan.max_memories)
            memory = Memory.objects.create(
                user=user,
                content=content,
                title=title,
                url=url,
                kind=kind,
                tags=clean_tags(tags or []),
                content_hash=hashed,
            )
    except IntegrityError as exc:
        winner = _live_duplicate(user=user, hashed=hashed)
        if winner is None or "memory_unique_live_content" not in str(exc):
            raise
        return SaveResult(winner, created=False)
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
    return memory_get(user=user, memory_id=memory_id)


def memory_delete(*, user: User, memory_id: uuid.UUID) -> None:
    """Soft-delete: the row stays (for undo and audit) but no API answer shows it again.

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
        usage_release(user_id=user.pk, limit_name="max_memories")
