"""What every AI provider offers, and the errors they raise. Only ai.guard calls a provider.

The providers themselves are in this package, one module each, listed by name in
ai.providers.registry: adding one is a module and a line there (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol


class ProviderError(Exception):
    """A failed call that is not worth retrying (a bad request, a refused key).

    `quota`: the account's quota is spent (opens the breaker at once); `retry_after`: seconds
    the provider asked for; `invalid_request`: the provider refused what was sent (400, 413,
    422), not the call itself: it says nothing about the provider's health, so the breaker
    does not count it, and a batch refused so may be split to find the bad input.
    `transient` is False here and True on TransientProviderError.
    """

    transient: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        quota: bool = False,
        retry_after: float | None = None,
        invalid_request: bool = False,
    ):
        super().__init__(message)
        self.quota, self.retry_after = quota, retry_after
        self.invalid_request = invalid_request


class TransientProviderError(ProviderError):
    """A failed call worth retrying later: 5xx, a timeout, a throttle, a lost connection.
    Celery tasks retry on it (`autoretry_for`); the breaker counts it."""

    transient: ClassVar[bool] = True


def provider_error(
    message: str,
    *,
    transient: bool,
    quota: bool = False,
    retry_after: float | None = None,
    invalid_request: bool = False,
) -> ProviderError:
    """The error class that matches `transient`."""
    cls = TransientProviderError if transient else ProviderError
    return cls(message, quota=quota, retry_after=retry_after, invalid_request=invalid_request)


@dataclass(frozen=True)
class ModelSpec:
    """An embedding model: who serves it, its name (stored on every embedding row) and size."""

    provider: str  # a name of ai.providers.registry.PROVIDERS
    model: str
    dimensions: int


@dataclass(frozen=True)
class Embeddings:
    vectors: list[list[float]]
    input_tokens: list[int]  # per text


class Provider(Protocol):
    """One provider serving one model. The class methods let the registry build and check
    specs without an instance."""

    name: ClassVar[str]
    model: str
    dimensions: int

    @classmethod
    def configured_spec(cls) -> ModelSpec:
        """The model the settings name for this provider."""
        ...

    @classmethod
    def check(cls, spec: ModelSpec) -> None:
        """Raise ValueError when this provider cannot serve `spec`."""
        ...

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> Provider: ...

    @classmethod
    def settings_key(cls) -> tuple[object, ...]:
        """The settings an instance depends on: a change builds a new instance."""
        ...

    def estimate_tokens(self, text: str) -> int:
        """Input tokens `text` costs as `embed` sends it (cut to the model's input limit);
        never less than the provider will count."""
        ...

    def embed(self, texts: list[str], *, timeout: float | None = None) -> Embeddings: ...
