"""Feature flags per user: django-waffle's flags (admin, `manage.py waffle_flag`), read for a
user rather than a request, so an API token or the PWA on another device sees the same answer.

waffle buckets a flag's percentage by a cookie, which API clients do not carry; here a user's
bucket is a hash of the flag's name and the user's id: the same in every request and process,
and independent between flags.
"""

from __future__ import annotations

import hashlib

from waffle import get_waffle_flag_model
from waffle.utils import get_setting


def user_bucket(flag_name: str, user_id: int) -> float:
    """Where the user falls in 0 ≤ bucket < 100 for this flag."""
    digest = hashlib.sha256(f"{flag_name}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 / 100


def flag_active_for_user(flag_name: str, user) -> bool:
    """Whether `flag_name` is on for `user`: everyone on or off first, then waffle's user
    rules (authenticated, staff, superusers, listed users and groups), then the percentage by
    user_bucket. A flag that does not exist is WAFFLE_FLAG_DEFAULT (off)."""
    flag = get_waffle_flag_model().get(flag_name)  # cached by waffle
    if not flag.pk:
        return bool(get_setting("FLAG_DEFAULT"))
    if flag.everyone is not None:  # waffle's user check lets "everyone: no" fall through
        return flag.everyone
    decided = flag.is_active_for_user(user)
    if decided is not None:
        return bool(decided)
    return flag.percent is not None and user_bucket(flag_name, user.pk) < float(flag.percent)
