"""The only way to reach an AI provider (DESIGN §2):

breaker check → budget reservation (estimated cost, per user and global, atomic in Redis)
→ call → ledger entry (real tokens and Decimal cost, one row per user share, one request id
per call) → budget settled to the real cost → breaker update.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from ai.breaker import ai_breaker
from ai.prices import ai_cost
from ai.providers import Embeddings, ModelSpec, ProviderError, TransientProviderError
from ai.providers.registry import get_provider
from billing.ai_budget import (
    BudgetExhausted,
    BudgetUnavailable,
    UserShare,
    ai_ledger_record,
    budget_reserve,
    budget_settle,
)


class AiUnavailable(Exception):
    """No call was made: `reason` is breaker_open, budget_spent or redis_unavailable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class GuardedEmbeddings:
    """Vectors for the items that were embedded, in order; items of users whose own budget
    is spent are left out (their indexes are in `refused`)."""

    request_id: uuid.UUID
    model: str
    vectors: dict[int, list[float]] = field(default_factory=dict)
    refused: set[int] = field(default_factory=set)


def guarded_embed(
    *,
    items: list[tuple[int | None, str]],
    operation: str,
    timeout: float | None = None,
    spec: ModelSpec | None = None,
) -> GuardedEmbeddings:
    """Embed `items` ([(user id or None, text)]) in one provider call (`timeout`: seconds, for
    callers that must answer fast). Raises AiUnavailable (nothing called) or ProviderError
    (called and failed; the breaker has counted it)."""
    provider = get_provider(spec)
    if not ai_breaker.allow():
        raise AiUnavailable("breaker_open")
    tokens_by_user: dict[int | None, int] = defaultdict(int)
    for user_id, text in items:
        tokens_by_user[user_id] += provider.estimate_tokens(text)
    estimates = {
        _budget_user(user_id): ai_cost(model=provider.model, input_tokens=tokens)
        for user_id, tokens in tokens_by_user.items()
    }
    try:
        reservation = budget_reserve(estimates=estimates)
    except BudgetExhausted as exc:
        raise AiUnavailable("budget_spent") from exc
    except BudgetUnavailable as exc:
        raise AiUnavailable("redis_unavailable") from exc
    result = GuardedEmbeddings(request_id=uuid.uuid4(), model=provider.model)
    wanted = [
        index
        for index, (user_id, _) in enumerate(items)
        if _budget_user(user_id) not in reservation.refused_users
    ]
    result.refused = set(range(len(items))) - set(wanted)
    if not wanted:
        budget_settle(reservation, actual={})
        return result
    try:
        embeddings: Embeddings = provider.embed(
            [items[index][1] for index in wanted], timeout=timeout
        )
    except ProviderError as exc:
        budget_settle(reservation, actual={})
        ai_breaker.record_failure(retry_after=exc.retry_after, quota=exc.quota)
        raise
    except Exception as exc:
        budget_settle(reservation, actual={})
        ai_breaker.record_failure()
        raise TransientProviderError(f"{type(exc).__name__}: {exc}") from exc
    shares: dict[int | None, list[int]] = defaultdict(lambda: [0, 0])
    for position, index in enumerate(wanted):
        result.vectors[index] = embeddings.vectors[position]
        share = shares[items[index][0]]
        share[0] += 1
        share[1] += embeddings.input_tokens[position]
    ledger = {
        user_id: UserShare(
            items=count,
            input_tokens=tokens,
            cost_usd=ai_cost(model=provider.model, input_tokens=tokens),
        )
        for user_id, (count, tokens) in shares.items()
    }
    ai_ledger_record(
        request_id=result.request_id,
        provider=provider.name,
        model=provider.model,
        operation=operation,
        shares=ledger,
    )
    budget_settle(
        reservation,
        actual={_budget_user(user_id): share.cost_usd for user_id, share in ledger.items()},
    )
    ai_breaker.record_success()
    return result


def _budget_user(user_id: int | None) -> int:
    # Calls on no user's behalf (category prototypes) count against the global budgets only:
    # user id 0 has no plan, so no monthly limit of its own.
    return user_id or 0
