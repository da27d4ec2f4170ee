"""Writes on memories. Views and tasks call these; nothing else writes a Memory."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import F
from django.utils import timezone

from accounts.models import User
from memories.models import Memory
from memories.normalization import clean_tags, content_hash
from memories.selectors import memory_get

EDITABLE_FIELDS = ("kind", "title", "content", "url", "tags")


class VersionConflict(Exception):
    """The client edited an old version; `current` is the server's copy."""

    def __init__(self, current: Memory) -> None:
        super().__init__(f"memory {current.pk} is at version {current.version}")
        self.current = current


def memory_create(
    *,
    user: User,
    content: str,
    title: str = "",
    url: str = "",
    kind: str = Memory.Kind.NOTE,
    tags: list[str] | None = None,
) -> Memory:
    """Save a new memory for `user`, pending enrichment."""
    return Memory.objects.create(
        user=user,
        content=content,
        title=title,
        url=url,
        kind=kind,
        tags=clean_tags(tags or []),
        content_hash=content_hash(content, url),
    )


def memory_update(
    *, user: User, memory_id: uuid.UUID, expected_version: int, changes: dict[str, Any]
) -> Memory:
    """Apply `changes` if the memory is still at `expected_version`.

    The version check and the write are one conditional UPDATE, so two clients editing the
    same version cannot both win: the second gets VersionConflict with the server's copy.
    Raises Memory.DoesNotExist for a missing, deleted or foreign memory.
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
    updated = (
        Memory.objects.live()
        .filter(user=user, pk=memory_id, version=expected_version)
        .update(**fields, version=F("version") + 1, updated_at=timezone.now())
    )
    if not updated:
        raise VersionConflict(memory_get(user=user, memory_id=memory_id))
    return memory_get(user=user, memory_id=memory_id)


def memory_delete(*, user: User, memory_id: uuid.UUID) -> None:
    """Soft-delete: the row stays (for undo and audit) but no API answer shows it again.

    Raises Memory.DoesNotExist for a missing, already deleted or foreign memory.
    """
    now = timezone.now()
    deleted = (
        Memory.objects.live()
        .filter(user=user, pk=memory_id)
        .update(deleted_at=now, updated_at=now, version=F("version") + 1)
    )
    if not deleted:
        raise Memory.DoesNotExist(memory_id)
