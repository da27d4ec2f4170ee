"""The full-text configuration (language) of keyword search.

The memories' tsvector is a generated column, so the configuration it was generated with is
part of the table; queries must use the same one. `settings.SEARCH_TEXT_CONFIG` says which
the operator wants; `manage.py textsearch apply` regenerates the column with it, and a
database check (run by `migrate`) warns while the two differ.
"""

from __future__ import annotations

import re
import time

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core import checks
from django.db import connection, models, transaction

from memories.models import Memory, search_vector_expression

_COLUMN_EXPRESSION_SQL = """
SELECT pg_get_expr(d.adbin, d.adrelid)
FROM pg_attrdef d
JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE d.adrelid = 'memories_memory'::regclass AND a.attname = 'search_vector'
"""
_CONFIG_IN_EXPRESSION = re.compile(r"'([^']+)'::regconfig")
_CACHE_SECONDS = 60.0
_cached: tuple[float, str] | None = None


def column_text_config() -> str:
    """The configuration the tsvector column is generated with, read from the catalog."""
    with connection.cursor() as cursor:
        cursor.execute(_COLUMN_EXPRESSION_SQL)
        row = cursor.fetchone()
    found = _CONFIG_IN_EXPRESSION.search(row[0]) if row else None
    if found is None:
        raise RuntimeError(f"no text search configuration in the search_vector column: {row}")
    return found.group(1).removeprefix("pg_catalog.")


def search_text_config() -> str:
    """What queries use: the column's configuration, looked up at most once a minute per
    process (a process running when the column changes catches up within the minute)."""
    global _cached
    now = time.monotonic()
    if _cached is None or now - _cached[0] > _CACHE_SECONDS:
        _cached = (now, column_text_config())
    return _cached[1]


class UnknownTextConfig(ValueError):
    pass


def text_config_apply(config: str) -> bool:
    """Regenerate the tsvector column (and its index) with `config`; False if it already is.
    Rewrites the table under an exclusive lock: minutes at a million memories."""
    global _cached
    with connection.cursor() as cursor:
        cursor.execute("SELECT cfgname FROM pg_ts_config WHERE cfgname = %s", [config])
        if cursor.fetchone() is None:
            cursor.execute("SELECT string_agg(cfgname, ', ' ORDER BY cfgname) FROM pg_ts_config")
            raise UnknownTextConfig(
                f"no text search configuration {config!r} in this database; "
                f"it has: {cursor.fetchone()[0]}"
            )
    if column_text_config() == config:
        return False
    _regenerate_column(config)
    _cached = None
    return True


def _regenerate_column(config: str) -> None:
    """Drop the generated column and add it again with the model's expression in `config`
    (a generated column's expression cannot be altered), then its GIN index."""
    old = Memory._meta.get_field("search_vector")
    new = models.GeneratedField(
        expression=search_vector_expression(config),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    # Bound to the model as contribute_to_class would, without adding it to Memory's fields.
    new.set_attributes_from_name(old.name)
    new.model, new._query = Memory, old._query
    index = next(i for i in Memory._meta.indexes if i.name == "memory_search_vector")
    with transaction.atomic(), connection.schema_editor(atomic=False) as editor:
        # Deferred foreign-key checks of the transaction, if any, must run first: ALTER TABLE
        # refuses to run with them pending.
        editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        editor.remove_field(Memory, old)  # drops its index with it
        editor.add_field(Memory, new)
        editor.add_index(Memory, index)


@checks.register(checks.Tags.database)
def check_text_config(app_configs=None, databases=None, **kwargs) -> list[checks.CheckMessage]:
    """A system check: the search column's configuration is the one SEARCH_TEXT_CONFIG names."""
    if not databases or "default" not in databases:
        return []
    try:
        column = column_text_config()
    except Exception:  # not migrated yet
        return []
    wanted = settings.SEARCH_TEXT_CONFIG
    if column == wanted:
        return []
    return [
        checks.Warning(
            f"SEARCH_TEXT_CONFIG is {wanted!r} but memories are indexed with {column!r}; "
            "keyword search uses the latter.",
            hint="Run `manage.py textsearch apply` to regenerate the index with the setting.",
            id="memories.W001",
        )
    ]
