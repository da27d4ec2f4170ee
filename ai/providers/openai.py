"""The OpenAI SDK, also for any OpenAI-compatible server (OPENAI_BASE_URL). The SDK's own
retries are off: the Celery task is the one retry owner. Errors are classified here:
transient (5xx, 408, 409, 429, timeouts, lost connections) or permanent (other 4xx; 400, 413
and 422 refuse the request's input, not the call: `invalid_request`). Inputs are cut to the
model's input limit (OPENAI_MAX_INPUT_TOKENS, counted offline: ai.providers.tokens)."""

from __future__ import annotations

import functools
from typing import ClassVar

from django.conf import settings

from ai.providers import Embeddings, ModelSpec, provider_error
from ai.providers.tokens import fit_to_tokens

# Statuses by which the provider refuses what was sent rather than the call.
INVALID_REQUEST_STATUSES = (400, 413, 422)


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
        return (
            settings.OPENAI_BASE_URL,
            settings.OPENAI_API_KEY,
            settings.OPENAI_TIMEOUT_SECONDS,
            settings.OPENAI_MAX_INPUT_TOKENS,
        )

    @functools.cached_property
    def _client(self):
        from openai import OpenAI

        return OpenAI(
            api_key=settings.OPENAI_API_KEY or "unset",
            base_url=settings.OPENAI_BASE_URL,
            timeout=settings.OPENAI_TIMEOUT_SECONDS,
            max_retries=0,
        )

    def _fit(self, text: str) -> tuple[str, int]:
        return fit_to_tokens(text, max_tokens=settings.OPENAI_MAX_INPUT_TOKENS)

    def estimate_tokens(self, text: str) -> int:
        return self._fit(text)[1]

    def embed(self, texts: list[str], *, timeout: float | None = None) -> Embeddings:
        import openai

        client = self._client.with_options(timeout=timeout) if timeout else self._client
        texts = [self._fit(text)[0] for text in texts]
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
                str(exc),
                transient=exc.status_code >= 500 or exc.status_code in (408, 409),
                invalid_request=exc.status_code in INVALID_REQUEST_STATUSES,
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
