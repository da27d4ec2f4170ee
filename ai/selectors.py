"""Reads of the AI gateway for operators."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ai.breaker import Forced, State, ai_breaker


@dataclass(frozen=True)
class BreakerStatus:
    state: State
    forced: Forced | None  # set by an operator; None when failures decide
    open_until: dt.datetime | None  # the end of the cool-down after failures


def ai_breaker_status() -> BreakerStatus:
    """The AI breaker as every process sees it (read from Redis; UNKNOWN when Redis does
    not answer, which the guard treats as open)."""
    open_until = ai_breaker.open_until()
    return BreakerStatus(
        state=ai_breaker.state(),
        forced=ai_breaker.forced(),
        open_until=dt.datetime.fromtimestamp(open_until, dt.UTC) if open_until else None,
    )
