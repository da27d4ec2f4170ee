from django.urls import path

from reminders.api.views import (
    InboxView,
    MemoryRemindersView,
    ReminderDetailView,
    ReminderDismissView,
    ReminderDoneView,
    ReminderListView,
    ReminderSnoozeView,
)

urlpatterns = [
    path(
        "memories/<str:memory_id>/reminders", MemoryRemindersView.as_view(), name="memory-reminders"
    ),
    path("reminders", ReminderListView.as_view(), name="reminders"),
    path("reminders/inbox", InboxView.as_view(), name="reminders-inbox"),
    path("reminders/<str:reminder_id>", ReminderDetailView.as_view(), name="reminder-detail"),
    path("reminders/<str:reminder_id>/done", ReminderDoneView.as_view(), name="reminder-done"),
    path(
        "reminders/<str:reminder_id>/dismiss",
        ReminderDismissView.as_view(),
        name="reminder-dismiss",
    ),
    path(
        "reminders/<str:reminder_id>/snooze", ReminderSnoozeView.as_view(), name="reminder-snooze"
    ),
]
