"""How content is normalized before hashing (exact-duplicate detection) and how tags are cleaned.

Two saves are the same memory when their normalized content and URL match:
- Unicode NFKC (full-width letters, ligatures and composed accents compare equal),
- every run of whitespace collapsed to one space, leading and trailing whitespace dropped,
- in the URL, scheme and host lower-cased (they are case-insensitive; path, query and fragment
  are not: `https://x.org/AbC` and `https://x.org/abc` are different pages).
Case is kept otherwise: "Hello" and "hello" are two memories. Title, kind and tags do not take
part. Changing any of this changes stored hashes: recompute them in a migration (0008).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_TAGS = 32
MAX_TAG_LENGTH = 64


def normalize_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


# A URL's scheme and authority (`scheme://user@host:port`), the case-insensitive part but
# for the user info.
_SCHEME_AND_AUTHORITY = re.compile(r"^([a-z][a-z0-9+.-]*:)//([^/?#]*)", re.IGNORECASE)


def normalize_url(url: str) -> str:
    """`url` as normalize_text leaves it, with its scheme and host lower-cased.

    Only case changes, nothing is re-encoded or dropped (not even an empty `?`): two URLs
    equal after this were equal under the former, case-folding normalization, which is what
    lets migration 0008 recompute the stored hashes without breaking the unique index."""
    url = normalize_text(url)
    match = _SCHEME_AND_AUTHORITY.match(url)
    if match is None:
        return url
    scheme, authority = match.groups()
    userinfo, at, host_and_port = authority.rpartition("@")
    return f"{scheme.lower()}//{userinfo}{at}{host_and_port.lower()}{url[match.end() :]}"


def content_hash(content: str, url: str = "") -> str:
    """sha256 of the normalized content and URL: equal for exact duplicates."""
    normalized = normalize_text(content) + "\x1f" + normalize_url(url)
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def clean_tags(tags: list[str]) -> list[str]:
    """Lower-cased, trimmed, de-duplicated tags in their first-seen order; blanks dropped."""
    cleaned: list[str] = []
    for tag in tags:
        tag = " ".join(unicodedata.normalize("NFKC", tag).lower().split())
        if tag and tag not in cleaned:
            cleaned.append(tag)
    return cleaned
