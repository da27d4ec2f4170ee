"""Typo tolerance for keyword search (DESIGN §4): each user's dictionary of the word stems
found in their memories, matched against their misspelt query words by trigram similarity
(pg_trgm, with btree_gist for the per-user index).

The dictionary (SearchLexeme) is filled from memories' tsvectors: each minute from the rows
changed since the last refresh (a BRIN index on updated_at finds them), and rebuilt wholly
each night and by `manage.py textsearch lexicon` (dropping stems of deleted memories).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from core.redis import state_redis

logger = logging.getLogger(__name__)

# Words only: stems of letters, long enough for trigrams to mean something. Numbers, URLs and
# codes are not corrected.
_LEXEMES_SQL = """
INSERT INTO memories_searchlexeme (user_id, lexeme)
SELECT DISTINCT m.user_id, word
FROM memories_memory m, unnest(tsvector_to_array(m.search_vector)) AS word
WHERE m.deleted_at IS NULL {since}
  AND length(word) BETWEEN 3 AND 32 AND word ~ '^[[:alpha:]]+$'
ON CONFLICT DO NOTHING
"""
_WATERMARK_KEY = "search:lexicon:since"
# Rows are scanned from this long before the last refresh began, so a save committed late
# (its updated_at taken earlier) is still seen.
_OVERLAP = dt.timedelta(minutes=5)


# One refresh or rebuild at a time (a transaction-scoped advisory lock): a slow full scan
# must not have the next minute's run start beside it.
_LOCK_SQL = "SELECT pg_try_advisory_xact_lock(hashtext('memories.lexicon'))"


def lexicon_refresh() -> int | None:
    """Add the stems of memories changed since the last refresh (all, the first time);
    returns how many were new, or None if another refresh or rebuild is running. Called each
    minute by Celery beat."""
    redis = state_redis()
    started = timezone.now()
    since = redis.get(_WATERMARK_KEY)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL)
        if not cursor.fetchone()[0]:
            return None
        if since is None:
            cursor.execute(_LEXEMES_SQL.format(since=""))
        else:
            # bytes: the state connection does not decode responses (redis types allow str).
            watermark = since.decode() if isinstance(since, bytes) else since
            moment = dt.datetime.fromisoformat(watermark) - _OVERLAP
            cursor.execute(_LEXEMES_SQL.format(since="AND m.updated_at >= %s"), [moment])
        added = cursor.rowcount
    redis.set(_WATERMARK_KEY, started.isoformat())
    return added


def lexicon_rebuild() -> int | None:
    """The dictionaries from every live memory, dropping stems no memory has any more (after
    deletions, or a change of text search configuration); their size, or None if a refresh
    is running. Searches meanwhile see the old dictionaries (no table lock)."""
    started = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL)
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("DELETE FROM memories_searchlexeme")
        cursor.execute(_LEXEMES_SQL.format(since=""))
        added = cursor.rowcount
    state_redis().set(_WATERMARK_KEY, started.isoformat())
    return added


# For each query word that is a word of the configuration (not a stop word), the user's
# closest stems: pg_trgm's `%` (similarity above pg_trgm.similarity_threshold, 0.3 by
# default) and `<->` (distance) through the GiST index on (user, lexeme); the user id is
# cast to bigint, as btree_gist has no cross-type `=` and would otherwise filter, not search.
_SIMILAR_SQL = """
SELECT q.word, l.lexeme
FROM unnest(%(words)s::text[]) WITH ORDINALITY AS q(word, position)
CROSS JOIN LATERAL (
    SELECT lexeme FROM memories_searchlexeme
    WHERE user_id = %(user_id)s::bigint AND lexeme %% q.word
    ORDER BY lexeme <-> q.word, lexeme
    LIMIT %(per_word)s
) l
WHERE length(q.word) >= 3 AND to_tsvector(%(config)s::regconfig, q.word) <> ''::tsvector
ORDER BY q.position
"""


def similar_lexemes(
    words: list[str], *, user_id: int, config: str, per_word: int = 3
) -> dict[str, list[str]]:
    """The user's stems closest in spelling to each word (words with none are left out)."""
    found: dict[str, list[str]] = {}
    params: dict[str, Any] = {
        "words": [w.lower() for w in words],
        "user_id": user_id,
        "config": config,
        "per_word": per_word,
    }
    with connection.cursor() as cursor:
        cursor.execute(_SIMILAR_SQL, params)
        for word, lexeme in cursor.fetchall():
            found.setdefault(word, []).append(lexeme)
    return found


def corrected_tsquery(words: list[str], *, user_id: int, config: str) -> str | None:
    """A tsquery (raw syntax, for the 'simple' configuration, which keeps stems as they are)
    that asks for one of each word's closest stems; None when no word has any."""
    similar = similar_lexemes(words, user_id=user_id, config=config)
    if not similar:
        return None
    # The stems are letters only (see _LEXEMES_SQL): nothing to quote.
    return " & ".join("(" + " | ".join(stems) + ")" for stems in similar.values())
