from django.contrib import admin

from memories.models import Memory


@admin.register(Memory)
class MemoryAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "user",
        "kind",
        "enrichment_status",
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
    readonly_fields = ("id", "content_hash", "version", "created_at", "updated_at")
    date_hierarchy = "created_at"
    show_full_result_count = False  # counting millions of rows on every page view is slow
