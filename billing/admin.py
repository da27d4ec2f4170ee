from django.contrib import admin

from billing.models import Plan


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("name", "display_name", *Plan.LIMIT_FIELDS)
    search_fields = ("name", "display_name")
    readonly_fields = ("created_at", "updated_at")
