"""Django admin for plans and the AI ledger. The AI cost console, which looks across apps
(spend, the breaker, the enrichment backlog), is the enrichment pipeline's (enrichment.admin)."""

from __future__ import annotations

import uuid

from django.contrib import admin

from billing.models import AiLedgerEntry, Plan
from billing.signals import plan_limits_changed


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "display_name", *Plan.LIMIT_FIELDS)
    search_fields = ("name", "display_name")
    readonly_fields = ("created_at", "updated_at")

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if change and set(form.changed_data) & set(Plan.LIMIT_FIELDS):
            plan_limits_changed.send(sender=Plan, plan_id=obj.pk, user_ids=None)


@admin.register(AiLedgerEntry)
class AiLedgerEntryAdmin(admin.ModelAdmin):
    """The AI ledger, read-only: rows are written by the AI guard alone."""

    list_display = (
        "created_at",
        "user",
        "provider",
        "model",
        "operation",
        "items",
        "input_tokens",
        "cost_usd",
        "request_id",
    )
    list_filter = ("provider", "model", "operation", "created_at")
    search_fields = ("user__email",)
    search_help_text = "A user's email, or the request id of one provider call."
    list_select_related = ("user",)
    ordering = ("-created_at", "-id")
    show_full_result_count = False  # the ledger grows by a row per user per call

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_search_results(self, request, queryset, search_term):
        # A request id is matched exactly, on its index; anything else is an email.
        try:
            request_id = uuid.UUID(search_term.strip())
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(request_id=request_id), False
