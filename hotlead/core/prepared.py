"""A cursor for statements whose planning costs about as much as running them, and whose text never varies.

On PostgreSQL it binds server-side and prepares: psycopg keeps one prepared statement per text per connection,
so each is planned once per connection instead of once per call. Elsewhere (SQLite, the demo) a plain cursor.
"""
from __future__ import annotations

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from psycopg._queries import PostgresQuery, _query2pg  # the pinned psycopg (tests/core/test_rows.py checks it)

_ONLY_WHEN_ASKED = 2**31 - 1


class _FixedTextQuery(PostgresQuery):
    """psycopg leaves statements over 4 KB or 50 parameters out of its cache of converted texts (ORM-made ones are
    rarely repeated) and parses them on every call; this cursor's texts are few and fixed, so they always use it."""

    def convert(self, query, vars):
        if vars is None or not isinstance(query, (str, bytes)):
            return super().convert(query, vars)
        self.query, self._want_formats, self._order, self._parts = _query2pg(
            self._ensure_bytes(query), self._tx.encoding)
        self.dump(vars)
        return None


class _PreparingCursor(psycopg.Cursor):
    _query_cls = _FixedTextQuery

    def _convert_query(self, query, params=None):
        # kept for Django's query log (it reads `_query`, which psycopg sets only for statements not yet prepared)
        self._query = converted = super()._convert_query(query, params)
        return converted

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def prepared_cursor():
    """A cursor of the default connection that prepares what it executes (PostgreSQL)."""
    db = connections[DEFAULT_DB_ALIAS]  # looked up once: each use of the `connection` proxy looks it up again
    if db.vendor != "postgresql":
        return db.cursor()
    db.ensure_connection()
    if db.connection.prepare_threshold is None:
        # Django opens psycopg connections with preparing switched off (prepare_threshold=None), which also
        # ignores prepare=True. Its own cursors bind client-side and never prepare, so a threshold no statement
        # reaches switches preparing on for this cursor's statements only.
        db.connection.prepare_threshold = _ONLY_WHEN_ASKED
    raw = _PreparingCursor(db.connection)
    # Django's wrappers keep error translation and query logging (assertNumQueries, debug toolbar)
    return db.make_debug_cursor(raw) if db.queries_logged else db.make_cursor(raw)
