from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.db import models


class IdempotencyKey(models.Model):
    """The stored answer of one user's request made with an Idempotency-Key.

    Written in the same transaction as the request's own writes, so a key is stored if and
    only if its work committed. Rows live for IDEMPOTENCY_TTL_HOURS; an hourly beat job
    deletes expired ones.
    """

    # No index of its own: the unique (user, key) index serves lookups by user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="sha256 of method, path and body")
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=2048)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.BinaryField()
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user"),
        ]
        # Rows are written in expiry order (a fixed TTL), so a BRIN index finds the expired
        # ones for the hourly purge at a fraction of a B-tree's upkeep on every keyed request.
        indexes = [BrinIndex(fields=["expires_at"], name="idempotency_expires_brin")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class IdempotencyKeyCount(models.Model):
    """How many Idempotency-Key rows a user has stored, for IDEMPOTENCY_MAX_KEYS_PER_USER.

    Raised by the same statement that stores a key, as an upsert whose WHERE keeps it under
    the cap: concurrent stores of one user queue on this row (until their COMMIT, which
    follows at once), so no burst of requests can store past the cap. Lowered by the purge
    and when a request replaces its own expired key (the `idempotency_claim` function).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    stored = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.stored}"
