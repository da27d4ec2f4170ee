"""IANA time zone names, from the tzdata package wherever the OS has no zone files."""

from __future__ import annotations

import functools
import zoneinfo


@functools.cache
def iana_time_zones() -> frozenset[str]:
    """Every IANA zone name ("Europe/Berlin", "UTC"), without the posix/ and right/ copies."""
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if not name.startswith(("posix/", "right/")) and name not in {"localtime", "Factory"}
    )


def is_time_zone(name: str) -> bool:
    return name in iana_time_zones()
