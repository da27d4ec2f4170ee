"""Finding memories again. Full-text (keyword) search for now; semantic and hybrid search
arrive with the embeddings of the enrichment pipeline, and until then answer from full-text
with `degraded: true`."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import F

from accounts.models import User
from memories.models import SEARCH_CONFIG, Memory
from memories.selectors import memory_queryset

# Sentinels ts_headline puts around matches; the snippet is HTML-escaped, then they become
# <mark> tags, so user text can never inject markup.
_START, _STOP = "\x02", "\x03"


@dataclass(frozen=True)
class SearchHit:
    memory: Memory
    score: float
    snippet: str


def _safe_snippet(raw: str) -> str:
    return html.escape(raw).replace(_START, "<mark>").replace(_STOP, "</mark>")


def memory_search_keyword(
    *,
    user: User,
    query: str,
    limit: int = 20,
    kind: str | None = None,
    tag: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> list[SearchHit]:
    """The user's memories matching `query` (web-search syntax: words, "phrases", -not, or),
    best first, with highlighted snippets. Title matches weigh more than content."""
    search = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    queryset = memory_queryset(user=user).filter(search_vector=search)
    if kind:
        queryset = queryset.filter(kind=kind)
    if tag:
        queryset = queryset.filter(tags__contains=[tag.strip().lower()])
    if since:
        queryset = queryset.filter(created_at__gte=since)
    if until:
        queryset = queryset.filter(created_at__lt=until)
    ranked = queryset.annotate(
        score=SearchRank(F("search_vector"), search),
        raw_snippet=SearchHeadline(
            "content",
            search,
            config=SEARCH_CONFIG,
            start_sel=_START,
            stop_sel=_STOP,
            max_words=35,
            min_words=12,
            max_fragments=2,
        ),
    ).order_by("-score", "-created_at")[:limit]
    return [SearchHit(m, float(m.score), _safe_snippet(m.raw_snippet)) for m in ranked]
