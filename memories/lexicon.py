"""Typo tolerance for keyword search (DESIGN §4): a dictionary of the word stems found in
memories, matched against misspelt query words by trigram similarity (pg_trgm).

The dictionary (SearchLexeme) is filled from memories' tsvectors: each minute from the rows
changed since the last refresh (a BRIN index on updated_at finds them), and wholly by
`manage.py textsearch lexicon`. Stems are shared across users but never shown: they only
rewrite a query, whose results are the user's own memories.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection, transaction
from django.utils import timezone
from django_redis import get_redis_connection

logger = logging.getLogger(__name__)

# Words only: stems of letters, long enough for trigrams to mean something. Numbers, URLs and
# codes are not corrected.
_LEXEMES_SQL = """
INSERT INTO memories_searchlexeme (lexeme)
SELECT DISTINCT word
FROM memories_memory m, unnest(tsvector_to_array(m.search_vector)) AS word
WHERE m.deleted_at IS NULL {since}
  AND length(word) BETWEEN 3 AND 32 AND word ~ '^[[:alpha:]]+$'
ON CONFLICT DO NOTHING
"""
_WATERMARK_KEY = "search:lexicon:since"
# Rows are scanned from this long before the last refresh began, so a save committed late
# (its updated_at taken earlier) is still seen.
_OVERLAP = dt.timedelta(minutes=5)


def lexicon_refresh() -> int:
    """Add the stems of memories changed since the last refresh (all, the first time);
    returns how many were new. Called each minute by Celery beat."""
    redis = get_redis_connection("default")
    started = timezone.now()
    since = redis.get(_WATERMARK_KEY)
    with connection.cursor() as cursor:
        if since is None:
            cursor.execute(_LEXEMES_SQL.format(since=""))
        else:
            moment = dt.datetime.fromisoformat(since.decode()) - _OVERLAP
            cursor.execute(_LEXEMES_SQL.format(since="AND m.updated_at >= %s"), [moment])
        added = cursor.rowcount
    redis.set(_WATERMARK_KEY, started.isoformat())
    return added


def lexicon_rebuild() -> int:
    """The dictionary from every live memory, dropping stems no memory has any more (after
    deletions, or a change of text search configuration). Returns its size."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM memories_searchlexeme")
        cursor.execute(_LEXEMES_SQL.format(since=""))
        added = cursor.rowcount
    get_redis_connection("default").set(_WATERMARK_KEY, timezone.now().isoformat())
    return added


# For each query word that is a word of the configuration (not a stop word), the closest
# stems: pg_trgm's `%` (similarity above pg_trgm.similarity_threshold, 0.3 by default) finds
# them through the GIN index.
_SIMILAR_SQL = """
SELECT q.word, l.lexeme
FROM unnest(%(words)s::text[]) WITH ORDINALITY AS q(word, position)
CROSS JOIN LATERAL (
    SELECT lexeme FROM memories_searchlexeme
    WHERE lexeme %% q.word
    ORDER BY similarity(lexeme, q.word) DESC, lexeme
    LIMIT %(per_word)s
) l
WHERE length(q.word) >= 3 AND to_tsvector(%(config)s::regconfig, q.word) <> ''::tsvector
ORDER BY q.position
"""


def similar_lexemes(words: list[str], *, config: str, per_word: int = 3) -> dict[str, list[str]]:
    """The stems closest in spelling to each word (words with none are left out)."""
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            _SIMILAR_SQL,
            {"words": [w.lower() for w in words], "config": config, "per_word": per_word},
        )
        for word, lexeme in cursor.fetchall():
            found.setdefault(word, []).append(lexeme)
    return found


def corrected_tsquery(words: list[str], *, config: str) -> str | None:
    """A tsquery (raw syntax, for the 'simple' configuration, which keeps stems as they are)
    that asks for one of each word's closest stems; None when no word has any."""
    similar = similar_lexemes(words, config=config)
    if not similar:
        return None
    # The stems are letters only (see _LEXEMES_SQL): nothing to quote.
    return " & ".join("(" + " | ".join(stems) + ")" for stems in similar.values())
