"""The OpenAI SDK, also for any OpenAI-compatible server (OPENAI_BASE_URL). The SDK's own
retries are off: the Celery task is the one retry owner. Errors are classified here:
transient (5xx, 408, 409, 429, timeouts, lost connections) or permanent (other 4xx)."""

from __future__ import annotations

import functools
from typing import ClassVar

from django.conf import settings

from ai.providers import Embeddings, ModelSpec, provider_error


class OpenAIProvider:
    name: ClassVar[str] = "openai"

    def __init__(self, model: str, dimensions: int) -> None:
        self.model = model
        self.dimensions = dimensions

    @classmethod
    def configured_spec(cls) -> ModelSpec:
        return ModelSpec(cls.name, settings.OPENAI_EMBEDDING_MODEL, settings.EMBEDDING_DIMENSIONS)

    @classmethod
    def check(cls, spec: ModelSpec) -> None:
        """Any model name: an OpenAI-compatible server may serve models we do not know."""

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> OpenAIProvider:
        return cls(spec.model, spec.dimensions)

    @classmethod
    def settings_key(cls) -> tuple[object, ...]:
        return (settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY, settings.OPENAI_TIMEOUT_SECONDS)

    @functools.cached_property
    def _client(self):
        from openai import OpenAI

        return OpenAI(
            api_key=settings.OPENAI_API_KEY or "unset",
            base_url=settings.OPENAI_BASE_URL,
            timeout=settings.OPENAI_TIMEOUT_SECONDS,
            max_retries=0,
        )

    def estimate_tokens(self, text: str) -> int:
        return max(1, len(text) // 3)  # on the high side of ~4 characters per token

    def embed(self, texts: list[str], *, timeout: float | None = None) -> Embeddings:
        import openai

        client = self._client.with_options(timeout=timeout) if timeout else self._client
        try:
            response = client.embeddings.create(
                model=self.model, input=texts, dimensions=self.dimensions
            )
        except openai.RateLimitError as exc:
            body = exc.body if isinstance(exc.body, dict) else {}
            code = body.get("code") or (body.get("error") or {}).get("code")
            raise provider_error(
                str(exc),
                transient=True,
                quota=code == "insufficient_quota",
                retry_after=_retry_after(exc.response),
            ) from exc
        except openai.APIStatusError as exc:
            raise provider_error(
                str(exc), transient=exc.status_code >= 500 or exc.status_code in (408, 409)
            ) from exc
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise provider_error(str(exc), transient=True) from exc
        vectors = [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
        if len(vectors) != len(texts):
            raise provider_error(
                f"asked for {len(texts)} embeddings, got {len(vectors)}", transient=True
            )
        total = response.usage.prompt_tokens if response.usage else 0
        return Embeddings(vectors=vectors, input_tokens=_spread(total, texts))


def _retry_after(response) -> float | None:
    try:
        return float(response.headers.get("retry-after"))
    except (TypeError, ValueError, AttributeError):
        return None


def _spread(total: int, texts: list[str]) -> list[int]:
    """Split a call's token count over its texts by length (for per-user ledger shares)."""
    lengths = [max(1, len(text)) for text in texts]
    whole = sum(lengths)
    shares = [total * length // whole for length in lengths]
    shares[0] += total - sum(shares)
    return shares
