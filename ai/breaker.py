"""A circuit breaker in Redis, shared by every web and worker process.

closed → open after AI_BREAKER_FAILURES failures within AI_BREAKER_WINDOW_SECONDS (or at once
for a spent provider quota) → half-open once the cool-down (or the provider's Retry-After)
has passed: one caller gets a probe → closed if the probe succeeds, open again if it fails.
An operator may force it open or closed from admin. When Redis does not answer, `allow`
says no: the guard fails safe and no AI call is made.
"""

from __future__ import annotations

import logging
import time
import uuid
from enum import StrEnum

from django.conf import settings

from core.alerts import BREAKER_CLOSED, BREAKER_OPEN, alert_raise, alert_resolve
from core.redis import state_redis

logger = logging.getLogger(__name__)


class State(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"
    UNKNOWN = "unknown"  # Redis unreachable: treated as open


class Forced(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Breaker:
    def __init__(self, name: str) -> None:
        self.name = name
        self._failures = f"breaker:{name}:failures"
        self._open_until = f"breaker:{name}:open_until"
        self._probe = f"breaker:{name}:probe"
        self._forced = f"breaker:{name}:forced"

    @staticmethod
    def _redis():
        return state_redis()

    def forced(self) -> Forced | None:
        """The operator's setting, or None when failures decide (or Redis does not answer)."""
        try:
            value = self._redis().get(self._forced)
        except Exception:
            return None
        return Forced(value.decode()) if value else None

    def force(self, value: Forced | None) -> None:
        """Force open (a kill switch) or closed, or None to let failures decide again."""
        redis = self._redis()
        if value is None:
            redis.delete(self._forced)
        else:
            redis.set(self._forced, value.value)
            if value is Forced.CLOSED:
                redis.delete(self._open_until, self._failures, self._probe)
        logger.warning("breaker %s forced %s", self.name, value or "automatic")

    def state(self) -> State:
        """The state every process sees now (UNKNOWN when Redis does not answer)."""
        try:
            forced, open_until = self._redis().mget(self._forced, self._open_until)
        except Exception:
            return State.UNKNOWN
        if forced:
            return State.OPEN if forced.decode() == Forced.OPEN else State.CLOSED
        if open_until is None:
            return State.CLOSED
        return State.OPEN if float(open_until) > time.time() else State.HALF_OPEN

    def open_until(self) -> float | None:
        """The end of the cool-down (a Unix time), or None when it is not open by failures."""
        try:
            value = self._redis().get(self._open_until)
        except Exception:
            return None
        return float(value) if value else None

    def allow(self) -> bool:
        """May a call be made now? In half-open, exactly one caller gets True (the probe)."""
        state = self.state()
        if state is State.CLOSED:
            return True
        if state is State.HALF_OPEN:
            try:
                cooldown = settings.AI_BREAKER_COOLDOWN_SECONDS
                return bool(self._redis().set(self._probe, 1, nx=True, ex=max(cooldown, 5)))
            except Exception:
                return False
        return False

    def record_success(self) -> None:
        """A call went through: close the breaker (announcing it if it was open)."""
        try:
            redis = self._redis()
            was_open = redis.delete(self._open_until)
            redis.delete(self._failures, self._probe)
        except Exception:
            return
        if was_open:
            logger.warning("breaker %s closed", self.name)
            alert_resolve(BREAKER_OPEN, scope=self.name)
            # One message per close: the scope is the moment it closed.
            alert_raise(BREAKER_CLOSED, scope=f"{self.name}:{int(time.time())}", breaker=self.name)

    def record_refusal(self) -> None:
        """The provider answered but refused the request's input (a 400): not a failure, it
        says nothing of the provider's health. A probe that gets this answer closes the
        breaker like a success (the provider is up), so the probe slot is not held until it
        expires; in closed, the failures counted so far stand.

        A success rather than a mere release of the slot: the half-open probe is the oldest
        pending memory, so if it is a bad one, a released slot would give it the next probe
        again and again, and the batch that would isolate it (a full one, in closed) never
        comes. A provider that refuses everything is still caught: the batch pipeline counts
        a batch refused whole as a failure (ai.guard.guarded_embed_many)."""
        try:
            probing = self._redis().exists(self._probe)
        except Exception:
            return
        if probing:
            self.record_success()

    def record_failure(self, *, retry_after: float | None = None, quota: bool = False) -> None:
        """Count a failure (5xx, timeout, 429); open at the threshold, at once for a spent
        quota or a failed probe. The cool-down is at least the provider's Retry-After."""
        now = time.time()
        cooldown = max(settings.AI_BREAKER_COOLDOWN_SECONDS, retry_after or 0)
        try:
            redis = self._redis()
            probing = redis.exists(self._open_until)
            with redis.pipeline(transaction=True) as pipe:
                # A member per failure, unique even for two at the same instant.
                pipe.zadd(self._failures, {f"{now}:{uuid.uuid4().hex}": now})
                pipe.zremrangebyscore(self._failures, 0, now - settings.AI_BREAKER_WINDOW_SECONDS)
                pipe.zcard(self._failures)
                pipe.expire(self._failures, settings.AI_BREAKER_WINDOW_SECONDS)
                _, _, failures, _ = pipe.execute()
            if quota:
                cooldown = max(cooldown, 3600)
            if quota or probing or failures >= settings.AI_BREAKER_FAILURES:
                redis.set(self._open_until, now + cooldown)
                redis.delete(self._probe)
        except Exception:
            logger.warning("breaker %s: failure not recorded (Redis unavailable)", self.name)
            return
        if quota or probing or failures >= settings.AI_BREAKER_FAILURES:
            reason = "the provider's quota is spent" if quota else f"{failures} failures"
            alert_raise(BREAKER_OPEN, scope=self.name, breaker=self.name, reason=reason)


ai_breaker = Breaker("ai")
