"""Request throttles: atomic fixed-window counters in the non-evicting Redis (core.redis).

DRF's SimpleRateThrottle keeps a list of timestamps per client with a get then a set, so
concurrent requests overwrite each other's hits, and it uses the default cache, which may
evict them. Here one INCR counts a hit: of N concurrent requests exactly `limit` pass a window.
A refusal is DRF's Throttled, answered 429 rate_limited with Retry-After (core.problems).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from core.redis import state_redis

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """A rate like "30/min" as (30, 60): DRF's notation (s, m, h or d; the first letter
    counts). Raises ImproperlyConfigured for anything else."""
    try:
        count, period = rate.split("/")
        return int(count), _PERIODS[period.strip()[0]]
    except (ValueError, KeyError, IndexError) as exc:
        raise ImproperlyConfigured(f"{rate!r} is not a rate like '30/min'") from exc


def _window(window_seconds: int) -> tuple[int, int]:
    """(the current window's number, seconds until it ends)."""
    now = time.time()
    window = int(now // window_seconds)
    return window, max(1, math.ceil((window + 1) * window_seconds - now))


def window_end(window_seconds: int) -> int:
    """When the current window of `window_seconds` ends (a Unix time)."""
    return (int(time.time() // window_seconds) + 1) * window_seconds


def _key(name: str, ident: str, window_seconds: int, window: int) -> str:
    return f"throttle:{name}:{ident}:{window_seconds}:{window}"


def fixed_window_hit(*, name: str, ident: str, limit: int, window_seconds: int) -> int:
    """Count one hit of `ident`; 0 while within `limit` hits per window, else the seconds
    until the window ends (Retry-After). Atomic: SET NX with the expiry, then INCR, in one
    MULTI. Fails open when Redis does not answer: a throttle must not take logins down."""
    window, retry_after = _window(window_seconds)
    key = _key(name, ident, window_seconds, window)
    try:
        with state_redis().pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=window_seconds + 5, nx=True)
            pipe.incr(key)
            _, count = pipe.execute()
    except Exception:
        logger.warning("throttle %s not checked: Redis unavailable", name, exc_info=True)
        return 0
    return retry_after if count > limit else 0


def fixed_window_count(*, name: str, ident: str, window_seconds: int) -> tuple[int, int]:
    """(hits of `ident` counted this window, seconds until it ends), without counting one;
    0 hits when Redis does not answer."""
    window, retry_after = _window(window_seconds)
    try:
        count = int(state_redis().get(_key(name, ident, window_seconds, window)) or 0)
    except Exception:
        logger.warning("throttle %s not read: Redis unavailable", name, exc_info=True)
        return 0, retry_after
    return count, retry_after


def fixed_window_exceeded(*, name: str, ident: str, limit: int, window_seconds: int) -> int:
    """Like fixed_window_hit without counting: 0 while fewer than `limit` hits were counted
    this window, else the seconds until it ends."""
    count, retry_after = fixed_window_count(name=name, ident=ident, window_seconds=window_seconds)
    return retry_after if count >= limit else 0


def hashed_ident(*parts: str) -> str:
    """A fixed-length key part for values such as emails: no personal data in Redis keys."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def client_ip(request: Any) -> str:
    """The client's address: REMOTE_ADDR, or X-Forwarded-For as written by the number of
    trusted proxies in front of us (REST_FRAMEWORK["NUM_PROXIES"], TRUSTED_PROXY_COUNT). With
    none, a client's own X-Forwarded-For is ignored: anyone can write one."""
    return BaseThrottle().get_ident(request) or "unknown"


class FixedWindowThrottle(BaseThrottle):
    """A DRF throttle over fixed_window_hit. Subclasses give `name`, `rate_setting` (the
    name of the setting holding a rate like "30/min") and `throttle_ident` (what is counted;
    None: not throttled)."""

    name: str
    rate_setting: str

    def __init__(self) -> None:
        self.retry_after = 0

    def throttle_ident(self, request: Request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        ident = self.throttle_ident(request)
        if ident is None:
            return True
        limit, window_seconds = parse_rate(getattr(settings, self.rate_setting))
        self.retry_after = fixed_window_hit(
            name=self.name, ident=ident, limit=limit, window_seconds=window_seconds
        )
        return not self.retry_after

    def wait(self) -> float | None:
        return self.retry_after or None


class CredentialAttemptsPerIpThrottle(FixedWindowThrottle):
    """Every attempt at signup, login or token from one client address, answered or not:
    password hashing is slow on purpose, so a few clients must not occupy every worker."""

    name = "auth-ip"
    rate_setting = "AUTH_THROTTLE_IP_RATE"

    def throttle_ident(self, request: Request) -> str | None:
        return client_ip(request)


class ScopedUserThrottle(FixedWindowThrottle):
    """Per user, for views that name a `throttle_scope` (DRF's convention): the rate is the
    setting `<SCOPE>_THROTTLE_RATE`, e.g. `throttle_scope = "export"` and
    EXPORT_THROTTLE_RATE. In DEFAULT_THROTTLE_CLASSES; views without a scope pass."""

    name = "scope"

    def allow_request(self, request: Request, view: Any) -> bool:
        scope = getattr(view, "throttle_scope", None)
        if not scope:
            return True
        self.name = f"scope-{scope}"
        self.rate_setting = f"{scope.upper()}_THROTTLE_RATE"
        return super().allow_request(request, view)

    def throttle_ident(self, request: Request) -> str | None:
        user = request.user
        return str(user.pk) if user is not None and user.is_authenticated else None


def declare_scoped_throttles(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular postprocessing hook: an operation of a view with a `throttle_scope`
    may answer 429 (core.schema.problem_responses, after it, declares it as problem+json)."""
    paths = result.get("paths", {})
    for path, _regex, method, callback in generator.endpoints or []:
        if not getattr(getattr(callback, "cls", None), "throttle_scope", None):
            continue
        operation = paths.get(path, {}).get(method.lower())
        if operation is not None:
            operation.setdefault("responses", {}).setdefault(
                "429", {"description": "Too many requests: see Retry-After"}
            )
    return result
