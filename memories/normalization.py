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
from urllib.parse import parse_qsl, urlencode, urlsplit

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


# Query parameters that say how someone came to a page, not which page it is.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid",
        "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "_hsenc", "_hsmi", "mkt_tok", "si",
        "spm", "vero_id", "oly_anon_id", "oly_enc_id", "__s", "s_cid", "cmpid",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def link_key(url: str) -> str:
    """What makes two links the same page for near-duplicate detection: host without `www.`
    and default port, path without a trailing slash, query without tracking parameters and in
    order; the scheme (http or https) and a plain fragment (`#section`) do not count, a
    fragment route (`#/inbox`, `#!`) does. "" for no URL.

    Looser than normalize_url (exact duplicates): https://www.x.org/a/?utm_source=m and
    http://x.org/a are one page here, two saves there.
    """
    url = normalize_text(url)
    if not url:
        return ""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").removeprefix("www.")
    port_number: int | str | None
    try:
        port_number = parts.port
    except ValueError:  # not a number: keep it as written, it names no other page
        port_number = parts.netloc.rpartition(":")[2]
    port = (
        f":{port_number}" if port_number and str(port_number) != _DEFAULT_PORTS.get(scheme) else ""
    )
    path = parts.path.rstrip("/")
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if name.lower() not in TRACKING_PARAMETERS
        and not name.lower().startswith(_TRACKING_PREFIXES)
    )
    fragment = parts.fragment if parts.fragment.startswith(("/", "!")) else ""
    key = f"{host}{port}{path}"
    if query:
        key += "?" + urlencode(query)
    if fragment:
        key += "#" + fragment
    return key
