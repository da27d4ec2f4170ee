"""What an AI call costs: Decimal USD from the price table in settings (AI_PRICES_PER_1K_TOKENS)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings


def ai_cost(*, model: str, input_tokens: int) -> Decimal:
    """The cost of `input_tokens` of `model`, to the 1e-8 dollar. Raises KeyError for a model
    without a price: no call is made at an unknown price."""
    price = settings.AI_PRICES_PER_1K_TOKENS.get(model)
    if price is None:
        raise KeyError(f"no price for model {model!r} in AI_PRICES_PER_1K_TOKENS")
    return (price * input_tokens / 1000).quantize(Decimal("0.00000001"))
