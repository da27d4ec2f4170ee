"""The API's default throttle: every unsafe request of a user counts toward their plan's
`writes_per_minute` (billing's atomic fixed-window counter; safe methods pass)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle


class WritesThrottle(BaseThrottle):
    """In REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES, so it guards every view that does not
    name throttles of its own. A refusal is billing's 429 rate_limited answer (limit,
    retry_after, Retry-After), like the search rate's."""

    def allow_request(self, request: Request, view: Any) -> bool:
        # Imported here: DRF imports this class with rest_framework.views, which billing's
        # own imports (core.problems) load while the app registry is still filling.
        from billing.limits import WRITES_PER_MINUTE, RateLimited, rate_problem
        from billing.services import rate_limit_hit

        user = request.user
        if request.method in SAFE_METHODS or user is None or not user.is_authenticated:
            return True
        try:
            rate_limit_hit(
                user_id=user.pk,
                limit_name=WRITES_PER_MINUTE.name,
                limit=getattr(user.plan, WRITES_PER_MINUTE.name),
            )
        except RateLimited as limited:
            raise rate_problem(limited) from limited
        return True
