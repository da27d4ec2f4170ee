import contextlib

from django.contrib import admin
from django.db import transaction

from memories.enrichment import enrichment_kick, memories_retry_failed
from memories.models import Memory
from memories.services import memory_delete

# What the user wrote and whose it is are theirs: an edit here would bypass the service
# (content hash, duplicates, version, enrichment). The URL is part of the content hash.
USER_OWNED_FIELDS = ("user", "content", "url")


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

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return (*fields, *USER_OWNED_FIELDS) if obj is not None else fields

    def delete_model(self, request, obj: Memory) -> None:
        """A soft delete through the service: the plan's slot is given back and the
        embeddings dropped, as when the user deletes it."""
        with contextlib.suppress(Memory.DoesNotExist):  # deleted already: nothing to give back
            memory_delete(user=obj.user, memory_id=obj.pk)

    def delete_queryset(self, request, queryset) -> None:
        for memory in queryset.filter(deleted_at__isnull=True).select_related("user"):
            self.delete_model(request, memory)

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
