"""What the detection tests share: Berlin, local times written as "YYYY-MM-DD HH:MM", and the
local time detection finds in a phrase said at a given moment."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from reminders.detection import detect_reminder

BERLIN = ZoneInfo("Europe/Berlin")


def wall_clock(text: str | None) -> datetime | None:
    """ "2026-03-06 09:00" as a naive wall-clock datetime (None stays None)."""
    return None if text is None else datetime.strptime(text, "%Y-%m-%d %H:%M")


def local_time_found(text: str, said_at: datetime, zone: ZoneInfo = BERLIN) -> datetime | None:
    """The wall-clock time detection finds in `text` said at `said_at` (naive: on `zone`'s
    clock), or None when it finds no reminder."""
    created_at = said_at if said_at.tzinfo else said_at.replace(tzinfo=zone)
    found = detect_reminder(text, created_at=created_at, time_zone=zone)
    return None if found is None else found.local_time
