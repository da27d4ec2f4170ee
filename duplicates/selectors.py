"""Reads of near-duplicate pairs, always of one user."""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet

from accounts.models import User
from core.flags import flag_active_for_user
from duplicates.models import Pair

FLAG = "near_duplicates"  # the waffle flag that lets a user have near-duplicates


def _live_pairs(*, user: User) -> QuerySet[Pair]:
    """The user's pairs whose two memories are both live."""
    return Pair.objects.filter(
        user=user, first__deleted_at__isnull=True, second__deleted_at__isnull=True
    ).select_related("first", "second")


def pairs_open(*, user: User) -> QuerySet[Pair]:
    """The user's near-duplicate candidates still to decide, most alike first; none for a
    user outside the flag (and no query made)."""
    if not flag_active_for_user(FLAG, user):
        return Pair.objects.none()
    return (
        _live_pairs(user=user)
        .filter(state=Pair.State.OPEN, band=Pair.Band.DUPLICATE)
        .order_by("-similarity", "id")
    )


def pair_get(*, user: User, pair_id: uuid.UUID) -> Pair:
    """One of the user's near-duplicate pairs (in any state). Raises Pair.DoesNotExist."""
    return (
        Pair.objects.select_related("first", "second")
        .filter(band=Pair.Band.DUPLICATE)
        .get(user=user, pk=pair_id)
    )


def related_of(
    *, user: User, memory_id: uuid.UUID, limit: int = 10
) -> list[tuple[Pair, uuid.UUID]]:
    """The memories found alike to this one, most alike first, each as (pair, the other
    memory's id): open pairs of either band, and pairs the user chose to keep both of (not
    the same thing, still alike); none outside the flag."""
    if not flag_active_for_user(FLAG, user):
        return []
    pairs = (
        _live_pairs(user=user)
        .filter(
            Q(first_id=memory_id) | Q(second_id=memory_id),
            state__in=[Pair.State.OPEN, Pair.State.DISMISSED],
        )
        .order_by("-similarity", "id")[:limit]
    )
    return [
        (pair, pair.second_id if pair.first_id == memory_id else pair.first_id) for pair in pairs
    ]
