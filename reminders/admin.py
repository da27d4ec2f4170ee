from django.contrib import admin

from reminders.models import Reminder


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """Operators look and filter; the schedule is the user's (their times, their zone), so
    every field is read-only here and changes go through the API."""

    list_display = ("id", "user", "state", "source", "remind_at", "time_zone", "recurrence")
    list_filter = ("state", "source", "remind_at")
    search_fields = ("user__email", "phrase", "memory__title")
    list_select_related = ("user",)
    raw_id_fields = ("user", "memory")
    date_hierarchy = "remind_at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
