"""The problems reminder writes answer, wherever they are made (a memory's save too)."""

from rest_framework.exceptions import ValidationError

from core.problems import Problem


def too_many_reminders() -> Problem:
    return Problem(
        status_code=409,
        code="too_many_reminders",
        detail="This memory has as many pending reminders as it may have; remove one first.",
    )


def time_in_the_past(field: str, error: Exception) -> ValidationError:
    return ValidationError({field: [str(error)]})
