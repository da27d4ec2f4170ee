"""Counting and cutting texts by a model's tokens, offline.

OpenAI's embedding models (text-embedding-3-*, ada-002) use the cl100k_base byte-level BPE.
tiktoken downloads its BPE files on first use, which a server without internet cannot do;
bpe-openai ships them in the wheel. If it cannot be loaded, texts are counted by their UTF-8
bytes: a byte-level BPE token is at least one byte, so that bound never under-counts.

Inputs over the limit are cut, not split into chunks whose vectors are averaged: a memory is
found by what it starts with (title, first paragraphs), an average of chunks blurs that, and
chunking would multiply the cost of the longest memories.
"""

from __future__ import annotations

import functools
import logging

logger = logging.getLogger(__name__)

# bpe-openai refuses texts of more tokens than this; we never hand it more bytes than that.
_TOKENIZER_MAX_BYTES = 190_000


@functools.cache
def _encoding(name: str):
    try:
        from bpe_openai import get_encoding

        return get_encoding(name)
    except Exception:
        logger.warning("tokenizer %s unavailable: counting UTF-8 bytes instead", name)
        return None


def _cut_bytes(text: str, size: int) -> str:
    return text.encode()[:size].decode("utf-8", "ignore")


@functools.lru_cache(maxsize=512)
def fit_to_tokens(text: str, *, max_tokens: int, encoding: str = "cl100k_base") -> tuple[str, int]:
    """`text` cut to at most `max_tokens` tokens of `encoding`, and its token count."""
    size = len(text.encode())
    if size <= max_tokens:  # fewer bytes than the limit: fewer tokens too
        return text, _count(text, encoding, size)
    tokenizer = _encoding(encoding)
    if tokenizer is None:
        cut = _cut_bytes(text, max_tokens)
        return cut, len(cut.encode())
    head = _cut_bytes(text, _TOKENIZER_MAX_BYTES)
    ids = tokenizer.encode_ordinary(head)
    if len(ids) <= max_tokens:
        return head, len(ids)
    # The cut may split a character: drop its partial bytes and count again, shorter if need be.
    keep = max_tokens
    while True:
        cut = tokenizer.decode_bytes(ids[:keep]).decode("utf-8", "ignore")
        count = len(tokenizer.encode_ordinary(cut))
        if count <= max_tokens:
            return cut, count
        keep -= count - max_tokens


def _count(text: str, encoding: str, size: int) -> int:
    tokenizer = _encoding(encoding)
    if tokenizer is None or size > _TOKENIZER_MAX_BYTES:
        return max(1, size)
    return max(1, len(tokenizer.encode_ordinary(text)))
