from django.contrib import admin
from django.db import transaction

from memories.enrichment import enrichment_kick, memories_retry_failed
from memories.models import Memory


@admin.register(Memory)
class MemoryAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "user",
        "kind",
        "enrichment_status",
        "enrichment_error",
        "version",
        "created_at",
        "deleted_at",
    )
    list_filter = (
        "kind",
        "enrichment_status",
        "created_at",
        ("deleted_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("title", "content", "url", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user", "duplicate_of")
    readonly_fields = (
        "id",
        "content_hash",
        "version",
        "enrichment_attempts",
        "enrichment_lease_until",
        "enrichment_error",
        "created_at",
        "updated_at",
        # Deleting goes through memories.services.memory_delete (the API), which also drops
        # the memory's embeddings; an edit here would leave them behind.
        "deleted_at",
    )
    date_hierarchy = "created_at"
    show_full_result_count = False  # counting millions of rows on every page view is slow
    actions = ["retry_enrichment"]

    @admin.action(
        description="Retry enrichment of the selected failed memories", permissions=["change"]
    )
    def retry_enrichment(self, request, queryset):
        """Failed memories (poison messages that used up their attempts) go back to
        pending with their attempts reset, and a worker is asked to enrich them."""
        selected = [str(pk) for pk in queryset.values_list("pk", flat=True)]
        retried = memories_retry_failed(memory_ids=selected)
        if retried:
            transaction.on_commit(enrichment_kick)
        skipped = len(selected) - retried
        self.message_user(
            request,
            f"{retried} failed memories will be enriched again"
            + (
                f"; {skipped} selected memories had not failed and were left alone."
                if skipped
                else "."
            ),
        )
