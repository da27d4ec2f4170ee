"""How content is normalized before hashing (exact-duplicate detection) and how tags are cleaned.

Two saves are the same memory when their normalized content and URL match:
- Unicode NFKC (full-width letters, ligatures and composed accents compare equal),
- case folded (`Straße` = `STRASSE`),
- every run of whitespace collapsed to one space, leading and trailing whitespace dropped.
Title, kind and tags do not take part.
"""

from __future__ import annotations

import hashlib
import unicodedata

MAX_TAGS = 32
MAX_TAG_LENGTH = 64


def normalize_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def content_hash(content: str, url: str = "") -> str:
    normalized = normalize_text(content) + "\x1f" + normalize_text(url)
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def clean_tags(tags: list[str]) -> list[str]:
    """Lower-cased, trimmed, de-duplicated tags in their first-seen order; blanks dropped."""
    cleaned: list[str] = []
    for tag in tags:
        tag = " ".join(unicodedata.normalize("NFKC", tag).lower().split())
        if tag and tag not in cleaned:
            cleaned.append(tag)
    return cleaned
