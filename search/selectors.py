"""Finding memories again (DESIGN §4): keyword (full-text), semantic (embeddings) and hybrid
(reciprocal rank fusion of both). Degrade, never fail: when the query cannot be embedded
(breaker open, budget spent, provider failing or slow), full-text answers, flagged degraded.
"""

from __future__ import annotations

import functools
import html
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import F, Func, IntegerField
from django.db.models.functions import Left

from accounts.models import User
from ai.guard import AiUnavailable
from ai.providers import ProviderError
from ai.query import query_embedding
from memories.embeddings import VectorHit, active_spec, nearest_memories
from memories.lexicon import corrected_tsquery
from memories.models import Memory
from memories.selectors import MemoryFilters, memory_queryset
from memories.text_config import search_text_config

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

logger = logging.getLogger(__name__)

# Sentinels ts_headline puts around matches; the snippet is HTML-escaped, then they become
# <mark> tags, so user text can never inject markup.
_START, _STOP = "\x02", "\x03"
# Snippets are cut from this much of the start of a memory: ts_headline parses all the text
# it is given, and a memory may hold 100,000 characters. A match further in still ranks (the
# tsvector covers everything); its snippet is then the start of the text.
SNIPPET_SOURCE_CHARS = 10_000


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
    filters: MemoryFilters | None = None,
    typos: bool = True,
    whole: bool = True,
) -> list[SearchHit]:
    """The user's memories matching `query` (web-search syntax: words, "phrases", -not, or),
    best first, with highlighted snippets. Title matches weigh more than content. When the
    words match nothing, they are tried as prefixes ("garde" finds "garden"): a query typed
    as you go still finds something; then, with `typos`, each word as the stems closest to
    it in spelling ("tomatos soop" finds "tomato soup", see memories.lexicon). Without
    `whole`, the hits' memories come without their content (candidates of a hybrid search,
    most of which are not answered)."""
    config = search_text_config()
    search = functools.partial(
        _keyword,
        user=user,
        config=config,
        limit=limit,
        filters=filters or MemoryFilters(),
        whole=whole,
    )
    hits = search(SearchQuery(query, search_type="websearch", config=config))
    words = _WORD.findall(query)
    if hits or not words or len(words) > 8:
        return hits
    prefixes = " & ".join(f"{word}:*" for word in words)  # letters and digits only
    hits = search(SearchQuery(prefixes, search_type="raw", config=config))
    if hits or not typos:
        return hits
    corrected = corrected_tsquery(words, user_id=user.pk, config=config)
    if corrected is None:
        return []
    # 'simple' keeps the stems as they are (the configuration would stem them again).
    return search(SearchQuery(corrected, search_type="raw", config="simple"))


_WORD = re.compile(r"[^\W_]+")  # letters and digits


class OwnerQuery(SearchQuery):
    """The tsquery of a user's owner lexeme (memories.models.OwnerLexeme), as a literal: a
    configuration would drop the '#'."""

    def __init__(self, user_id: int) -> None:
        self.literal = f"'#{int(user_id)}'"
        super().__init__(self.literal)

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, tuple[str, ...]]:
        return "%s::tsquery", (self.literal,)


def _keyword(
    search: SearchQuery,
    *,
    user: User,
    config: str,
    limit: int,
    filters: MemoryFilters,
    whole: bool,
) -> list[SearchHit]:
    # The owner's lexeme ANDed in: the GIN index itself keeps to the user's memories. A query
    # of stop words only is empty, and must then match nothing rather than all of them.
    queryset = (
        memory_queryset(user=user)
        .alias(query_nodes=Func(search, function="numnode", output_field=IntegerField()))
        .filter(query_nodes__gt=0, search_vector=search & OwnerQuery(user.pk))
        .filter(filters.q())
    )
    if not whole:
        queryset = queryset.defer("content")
    ranked = queryset.annotate(
        score=SearchRank(F("search_vector"), search),
        raw_snippet=SearchHeadline(
            Left("content", SNIPPET_SOURCE_CHARS),
            search,
            config=config,
            start_sel=_START,
            stop_sel=_STOP,
            max_words=35,
            min_words=12,
            max_fragments=2,
        ),
    ).order_by("-score", "-created_at")[:limit]
    return [SearchHit(m, float(m.score), _safe_snippet(m.raw_snippet)) for m in ranked]


@dataclass
class SearchAnswer:
    mode_used: str  # hybrid | semantic | keyword
    degraded: bool
    results: list[SearchHit] = field(default_factory=list)


# Each list of a hybrid search is this many times the page, so fusion has enough to rank.
_CANDIDATES_PER_RESULT = 3


def memory_search(
    *,
    user: User,
    query: str,
    mode: str = "auto",
    limit: int = 20,
    filters: MemoryFilters | None = None,
) -> SearchAnswer:
    """Search the user's memories, narrowed by `filters`. `auto` is hybrid. When the query
    cannot be embedded, full-text answers and the answer says it is degraded."""
    mode = "hybrid" if mode == "auto" else mode
    filters = filters or MemoryFilters()
    keyword = functools.partial(memory_search_keyword, user=user, query=query, filters=filters)
    if mode == "keyword":
        return SearchAnswer("keyword", False, keyword(limit=limit))
    try:
        vector = query_embedding(user_id=user.pk, query=query, spec=active_spec())
    except (AiUnavailable, ProviderError) as exc:
        logger.info("search degraded to keyword: %s", exc)
        return SearchAnswer("keyword", True, keyword(limit=limit))
    wanted = limit if mode == "semantic" else limit * _CANDIDATES_PER_RESULT
    nearest = nearest_memories(
        user_id=user.pk, model=vector.model, vector=vector.vector, limit=wanted, filters=filters
    )
    if mode == "semantic":
        return SearchAnswer("semantic", False, _semantic_hits(user, nearest, query))
    # No typo correction here: the semantic list already forgives misspellings, and words
    # that match nothing are the rule for queries phrased in other words.
    by_words = keyword(limit=wanted, typos=False, whole=False)
    return SearchAnswer("hybrid", False, _fuse(user, nearest, by_words, query, limit))


def _semantic_hits(user: User, nearest: list[VectorHit], query: str) -> list[SearchHit]:
    memories = _by_id(user, [hit.memory_id for hit in nearest])
    return [
        SearchHit(memories[hit.memory_id], hit.similarity, _plain_snippet(memories[hit.memory_id]))
        for hit in nearest
        if hit.memory_id in memories
    ]


def _fuse(
    user: User, nearest: list[VectorHit], by_words: list[SearchHit], query: str, limit: int
) -> list[SearchHit]:
    """Reciprocal rank fusion: score = sum over the lists of 1 / (k + rank)."""
    k = settings.SEARCH_RRF_K
    scores: dict[str, float] = {}
    for rank, hit in enumerate(nearest, start=1):
        scores[hit.memory_id] = scores.get(hit.memory_id, 0.0) + 1 / (k + rank)
    snippets: dict[str, SearchHit] = {}
    for rank, word_hit in enumerate(by_words, start=1):
        memory_id = str(word_hit.memory.pk)
        scores[memory_id] = scores.get(memory_id, 0.0) + 1 / (k + rank)
        snippets[memory_id] = word_hit
    best = sorted(scores, key=lambda memory_id: scores[memory_id], reverse=True)[:limit]
    # Whole memories for the answer only: the keyword candidates came without content.
    memories = _by_id(user, best)
    results = []
    for memory_id in best:
        memory = memories.get(memory_id)
        if memory is None:
            continue
        snippet = snippets[memory_id].snippet if memory_id in snippets else _plain_snippet(memory)
        results.append(SearchHit(memory, scores[memory_id], snippet))
    return results


def _by_id(user: User, ids: list[str]) -> dict[str, Memory]:
    if not ids:
        return {}
    return {str(pk): memory for pk, memory in memory_queryset(user=user).in_bulk(ids).items()}


def _plain_snippet(memory: Memory, words: int = 35) -> str:
    """For a hit found by meaning, not words: the summary, or the start of the text."""
    text = memory.summary or memory.content[:SNIPPET_SOURCE_CHARS]
    head = text.split()
    return html.escape(" ".join(head[:words]) + (" …" if len(head) > words else ""))
