"""Feature flags per user: django-waffle's flags (admin, `manage.py waffle_flag`), read for a
user rather than a request, so an API token or the PWA on another device sees the same answer.

waffle buckets a flag's percentage by a cookie, which API clients do not carry; here a user's
bucket is a hash of the flag's name and the user's id: the same in every request and process,
and independent between flags.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from waffle import get_waffle_flag_model
from waffle.models import AbstractUserFlag
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


def flag_active_user_ids(flag_name: str, user_ids: Iterable[int]) -> set[int]:
    """Which of `user_ids` the flag is on for, as flag_active_for_user decides. Users are
    loaded only for rules about who they are (staff, superusers, groups): a flag that is off,
    on for everyone, or rolled out by percentage or listed users costs no query (waffle
    caches the flag and its user list)."""
    ids = set(user_ids)
    flag = get_waffle_flag_model().get(flag_name)
    if not flag.pk:
        return ids if get_setting("FLAG_DEFAULT") else set()
    if flag.everyone is not None:
        return ids if flag.everyone else set()
    if flag.authenticated:  # every user the pipeline sees is signed up
        return ids
    percent = float(flag.percent) if flag.percent is not None else 0.0
    active = {uid for uid in ids if user_bucket(flag_name, uid) < percent}
    # The user rules below are a user flag's: waffle.Flag, the WAFFLE_FLAG_MODEL in use.
    assert isinstance(flag, AbstractUserFlag)
    active |= ids & flag._get_user_ids()  # waffle's cached list of the flag's users
    undecided = ids - active
    if undecided and (flag.staff or flag.superusers or flag._get_group_ids()):
        for user in get_user_model().objects.filter(pk__in=undecided):
            if flag_active_for_user(flag_name, user):
                active.add(user.pk)
    return active


def flag_add_user(flag_name: str, user) -> None:
    """List `user` on the flag (waffle's "users"), whatever its percentage says. Raises
    the flag model's DoesNotExist for a flag that is not there."""
    flag = get_waffle_flag_model().objects.get(name=flag_name)
    flag.users.add(user)
    flag.flush()  # waffle caches the flag's users
