"""Writes on accounts. Every account change goes through these functions."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import ApiToken, User, normalize_email
from billing.models import Plan
from billing.selectors import plan_default, plan_get
from billing.signals import plan_limits_changed
from core.throttles import (
    client_ip,
    fixed_window_exceeded,
    fixed_window_hit,
    hashed_ident,
    parse_rate,
)

# Leaked tokens are recognisable (secret scanners, logs) by this prefix.
TOKEN_PREFIX = "mc_"  # noqa: S105 (a prefix, not a secret)
# last_used_at is written at most this often per token: not on every request.
TOKEN_LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class EmailTaken(Exception):
    pass


class InvalidCredentials(Exception):
    pass


class TooManyFailures(Exception):
    """Too many wrong passwords for this email lately: answered 429 with Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry in {retry_after}s")
        self.retry_after = retry_after


def user_create(
    *,
    email: str,
    password: str,
    plan: Plan | None = None,
    is_staff: bool = False,
) -> User:
    """Create an account. Raises EmailTaken, or django ValidationError for a weak password.

    The case-insensitive unique constraint on email settles a signup race: the loser gets
    EmailTaken, never an IntegrityError.
    """
    email = normalize_email(email)
    candidate = User(email=email)
    validate_password(password, user=candidate)
    try:
        with transaction.atomic():
            return User.objects.create_user(
                email,
                password,
                plan=plan or plan_default(),
                is_staff=is_staff,
                is_superuser=is_staff,
            )
    except IntegrityError as exc:
        raise EmailTaken(email) from exc


def user_set_plan(*, user: User, plan_name: str) -> User:
    """Move `user` to the plan called `plan_name`; raises Plan.DoesNotExist. Work waiting for
    the old plan's limits hears of it through billing's plan_limits_changed signal."""
    user.plan = plan_get(name=plan_name)
    user.save(update_fields=["plan"])
    plan_limits_changed.send(sender=User, plan_id=None, user_ids=[user.pk])
    return user


def user_set_time_zone(*, user: User, time_zone: str) -> User:
    """Set the zone `user`'s reminders are read in (an IANA name the caller validated); set
    reminders keep their instant."""
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])
    return user


def token_digest(secret: str) -> str:
    """What is stored of a token: its SHA-256. The secrets are 256 random bits, so a fast hash
    is as safe as a password hash here and costs a request nothing (decision 0006)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


class TooManyTokens(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def token_create(*, user: User, name: str) -> NewToken:
    """A new named API token for `user`; its secret exists only in the answer.

    Raises TooManyTokens when the user holds API_TOKENS_PER_USER already (a script that asks
    /auth/token on every run would otherwise pile up live credentials). The user's row is
    locked while counting, so parallel requests cannot pass the cap together."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).exists()
        if ApiToken.objects.filter(user=user).count() >= settings.API_TOKENS_PER_USER:
            raise TooManyTokens(settings.API_TOKENS_PER_USER)
        token = ApiToken.objects.create(user=user, name=name, key_digest=token_digest(secret))
    return NewToken(token=token, secret=secret)


def token_delete(*, user: User, token_id: int) -> None:
    """Revoke one of `user`'s tokens at once; raises ApiToken.DoesNotExist for a token that
    is not theirs."""
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if not deleted:
        raise ApiToken.DoesNotExist


def tokens_revoke_all(*, user_id: int) -> int:
    """Revoke every token of a user (their password changed); returns how many."""
    deleted, _ = ApiToken.objects.filter(user_id=user_id).delete()
    return deleted


def token_mark_used(*, token: ApiToken, now: dt.datetime | None = None) -> None:
    """Record that `token` was used, at most once per TOKEN_LAST_USED_RESOLUTION.

    The loaded row tells whether a write is due, so most requests write nothing; the UPDATE's
    condition lets only one of several concurrent requests write.
    """
    now = now or timezone.now()
    stale = now - TOKEN_LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now


def _failure_limits(email: str, ip: str) -> list[tuple[str, str, int, int]]:
    """(counter name, ident, limit, window) of the wrong-password counters for an attempt:
    per (email, IP), tight, so the owner elsewhere is never locked out by one guesser; and
    per email across IPs, looser, against guessing spread over many addresses (README)."""
    pair_limit, pair_window = parse_rate(settings.AUTH_THROTTLE_FAILURES_RATE)
    email_limit, email_window = parse_rate(settings.AUTH_THROTTLE_EMAIL_FAILURES_RATE)
    return [
        ("auth-fail-pair", hashed_ident(email, ip), pair_limit, pair_window),
        ("auth-fail-email", hashed_ident(email), email_limit, email_window),
    ]


def user_authenticate(*, request: Any, email: str, password: str) -> User:
    """The active account with this email and password; raises InvalidCredentials, or
    TooManyFailures while this email has had too many wrong passwords lately.

    The failure counters are read before the password is hashed and counted after a wrong
    one, so concurrent guesses may pass a limit by as many as are in flight; the per-IP
    throttle of the endpoints bounds those.
    """
    email = normalize_email(email)
    limits = _failure_limits(email, client_ip(request))
    for name, ident, limit, window in limits:
        if retry_after := fixed_window_exceeded(
            name=name, ident=ident, limit=limit, window_seconds=window
        ):
            raise TooManyFailures(retry_after)
    user = authenticate(request, username=email, password=password)
    if user is None:
        for name, ident, limit, window in limits:
            fixed_window_hit(name=name, ident=ident, limit=limit, window_seconds=window)
        raise InvalidCredentials(email)
    return user
