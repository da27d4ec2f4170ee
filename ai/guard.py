"""The only way to reach an AI provider (DESIGN §2):

breaker check → budget reservation (estimated cost, per user and global, atomic in Redis)
→ call → ledger entry (real tokens and Decimal cost, one row per user share, one request id
per call) → budget settled to the real cost → breaker update.

guarded_embed_many is the batch pipeline's way in: it keeps each call under the provider's
tokens per request and, when the provider refuses a batch for its input (a 400), splits it
in halves until the refused items are found, so one bad item does not sink the others.
"""

from __future__ import annotations

import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

from ai.breaker import ai_breaker
from ai.prices import ai_cost
from ai.providers import Embeddings, ModelSpec, Provider, ProviderError, TransientProviderError
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
    # guarded_embed_many only: items the provider refused for their input ({index: error}),
    # and items left unjudged when the search for refused items stopped (see there).
    rejected: dict[int, str] = field(default_factory=dict)
    undecided: set[int] = field(default_factory=set)


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
        if exc.invalid_request:  # a refused input says nothing of the provider's health
            ai_breaker.record_refusal()
        else:
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


def guarded_embed_many(
    *,
    items: list[tuple[int | None, str]],
    operation: str,
    timeout: float | None = None,
    spec: ModelSpec | None = None,
    call: Callable[..., GuardedEmbeddings] | None = None,
) -> GuardedEmbeddings:
    """Embed `items` like guarded_embed, in as many calls as AI_MAX_TOKENS_PER_REQUEST needs
    (each made by `call`, default guarded_embed: callers pass the one they import, so the
    per-call step stays theirs to time or wrap).

    A call the provider refuses for its input (ProviderError.invalid_request) is split in
    halves and each half tried again, down to single items: those refused alone are in
    `rejected`, the rest is embedded. After `_max_refusals` refused calls the search stops
    and the items not yet judged are `undecided`.

    If nothing at all went through, the first refusal is raised instead and counted as a
    breaker failure: a provider that refuses everything (a wrong setting) must not get every
    memory marked bad, and is stopped like one that is down. The halves are tried breadth
    first, and once _BLIND_REFUSALS calls in a row were refused with none through (the
    whole request, both halves, their four quarters) the batch is given up as refused
    whole; up to three bad items are still isolated (a quarter at least goes through).

    Raises AiUnavailable or ProviderError (any other failure; vectors of earlier calls are
    then dropped, their cost stays in the ledger).
    """
    provider = get_provider(spec)
    call = call or guarded_embed
    merged: GuardedEmbeddings | None = None
    groups = deque(_request_groups(provider, items))
    refusals_left = _max_refusals(len(items))
    blind_refusals_left = _BLIND_REFUSALS
    first_refusal: ProviderError | None = None
    rejected: dict[int, str] = {}
    undecided: set[int] = set()
    while groups:
        group = groups.popleft()
        try:
            part = call(
                items=[items[i] for i in group], operation=operation, timeout=timeout, spec=spec
            )
        except ProviderError as exc:
            if not exc.invalid_request:
                raise
            first_refusal = first_refusal or exc
            if merged is None or not merged.vectors:
                blind_refusals_left -= 1
                if blind_refusals_left <= 0:  # refused whole: no call more is worth it
                    undecided.update(index for rest in (group, *groups) for index in rest)
                    groups.clear()
                    continue
            if len(group) == 1:
                rejected[group[0]] = str(exc)
            elif refusals_left <= 0:
                undecided.update(group)
            else:
                refusals_left -= 1
                middle = len(group) // 2
                groups.extend([group[:middle], group[middle:]])
            continue
        if merged is None:
            merged = GuardedEmbeddings(request_id=part.request_id, model=part.model)
        merged.vectors.update({group[i]: vector for i, vector in part.vectors.items()})
        merged.refused.update(group[i] for i in part.refused)
    if first_refusal is not None and (merged is None or not merged.vectors):
        ai_breaker.record_failure()  # one per batch refused whole
        raise first_refusal
    if merged is None:  # no items
        return GuardedEmbeddings(request_id=uuid.uuid4(), model=provider.model)
    merged.rejected, merged.undecided = rejected, undecided
    return merged


def _request_groups(provider: Provider, items: list[tuple[int | None, str]]) -> list[list[int]]:
    """Indexes of `items` in consecutive groups of at most AI_MAX_TOKENS_PER_REQUEST tokens."""
    groups: list[list[int]] = []
    tokens = 0
    for index, (_, text) in enumerate(items):
        cost = provider.estimate_tokens(text)
        if not groups or tokens + cost > settings.AI_MAX_TOKENS_PER_REQUEST:
            groups.append([])
            tokens = 0
        groups[-1].append(index)
        tokens += cost
    return groups


# Refused calls, none through, after which a batch counts as refused whole: the request, its
# two halves and their four quarters.
_BLIND_REFUSALS = 7


def _max_refusals(size: int) -> int:
    # Enough to isolate two bad items by halving (two paths of log2(size) refusals), and a
    # bound on the calls wasted on a batch where something goes through (_BLIND_REFUSALS
    # bounds those where nothing does).
    return 2 * size.bit_length() + 2


def _budget_user(user_id: int | None) -> int:
    # Calls on no user's behalf (category prototypes) count against the global budgets only:
    # user id 0 has no plan, so no monthly limit of its own.
    return user_id or 0
