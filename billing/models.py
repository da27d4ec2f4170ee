from __future__ import annotations

from django.conf import settings
from django.db import models

from billing.limits import LIMITS


class Plan(models.Model):
    """A tier of service. Limits are data, editable in admin; an empty limit means unlimited."""

    name = models.SlugField(max_length=32, unique=True)
    display_name = models.CharField(max_length=64, blank=True)
    max_memories = models.PositiveIntegerField(null=True, blank=True)
    saves_per_day = models.PositiveIntegerField(null=True, blank=True)
    enrichments_per_month = models.PositiveIntegerField(null=True, blank=True)
    ai_budget_usd_per_month = models.DecimalField(
        max_digits=10, decimal_places=4, null=True, blank=True
    )
    searches_per_minute = models.PositiveIntegerField(null=True, blank=True)
    writes_per_minute = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # One field per limit of billing.limits.LIMITS, named as the limit.
    LIMIT_FIELDS = tuple(LIMITS)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_name or self.name

    @property
    def limits(self) -> dict[str, object]:
        return {field: getattr(self, field) for field in self.LIMIT_FIELDS}


class UsageCounter(models.Model):
    """How much of one limit a user has used in one period (a day, a month, or for good).

    Incremented by one conditional upsert (billing.services.usage_consume_many), so concurrent
    requests can never take a user past a limit.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    limit_name = models.CharField(max_length=32)
    period_start = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "limit_name", "period_start"], name="usage_counter_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.limit_name} {self.period_start}: {self.count}"


class AiLedgerEntry(models.Model):
    """What one provider call cost, for one user's share of it.

    A batched call for several users writes one row per user with the same `request_id`, so
    spend per user is a plain sum. Written only by the AI guard (ai.guard), after the call.
    """

    request_id = models.UUIDField(db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=100)
    operation = models.CharField(max_length=32)
    items = models.PositiveIntegerField(default=1)
    input_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=8)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "AI ledger entry"
        verbose_name_plural = "AI ledger"
        indexes = [models.Index(fields=["user", "created_at"], name="ai_ledger_user_time")]

    def __str__(self) -> str:
        return f"{self.operation} {self.model} ${self.cost_usd}"
