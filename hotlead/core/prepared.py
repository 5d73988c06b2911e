"""A cursor for statements whose planning costs about as much as running them, and whose text never varies.

On PostgreSQL it binds server-side and prepares: psycopg keeps one prepared statement per text per connection,
so each is planned once per connection instead of once per call. Elsewhere (SQLite, the demo) a plain cursor.
"""
from __future__ import annotations

import psycopg
from django.db import connection


class _PreparingCursor(psycopg.Cursor):
    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def prepared_cursor():
    """A cursor of the default connection that prepares what it executes (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.ensure_connection()
    raw = _PreparingCursor(connection.connection)
    # Django's wrappers keep error translation and query logging (assertNumQueries, debug toolbar)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
