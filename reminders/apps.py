from django.apps import AppConfig


class RemindersConfig(AppConfig):
    """The reminder inbox (see DESIGN §6)."""

    name = "reminders"
    verbose_name = "Reminders"
