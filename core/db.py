"""Statements on hot paths that Django's cursor cannot send the cheap way.

Django's PostgreSQL cursor binds parameters on the client (it inlines them into the SQL
text), so Postgres parses and plans every statement again. The save path runs the same few
statements thousands of times a minute on each persistent connection; as server-side
prepared statements they are parsed once per connection (and planned once, when Postgres
settles on a generic plan). These helpers use the psycopg
connection under Django's, inside Django's transaction, with Django's error wrapping.

Like the pipelined semantic search, they bypass Django's execute_wrapper and query logging,
and prepared statements do not survive a transaction-mode pooler (see
docs/enrichment-and-search.md, "Connection poolers").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper


def default_connection() -> BaseDatabaseWrapper:
    """Django's default connection wrapper itself, connected. Not django.db.connection: each
    attribute read through that proxy looks the connection up again (a few microseconds
    apiece on a hot path)."""
    wrapper = connections[DEFAULT_DB_ALIAS]
    wrapper.ensure_connection()
    return wrapper


def raw_connection() -> psycopg.Connection:
    """The open psycopg connection under Django's default connection."""
    return default_connection().connection


def execute_prepared(sql: str, params: Sequence[Any] | Mapping[str, Any]) -> psycopg.Cursor:
    """Run `sql` as a prepared statement (server-side binding); returns the cursor to fetch.

    Parameters are typed by psycopg, not inlined: cast in the SQL where Postgres cannot infer
    a type (e.g. `%s::jsonb` for a JSON string, `%s::integer[]` for a list of None).
    """
    wrapper = default_connection()
    cursor = psycopg.Cursor(wrapper.connection)
    with wrapper.wrap_database_errors:
        cursor.execute(sql, params, prepare=True)
    return cursor
