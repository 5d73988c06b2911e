"""Shared helpers of the simulator's tests."""
from __future__ import annotations

import pytest
from django.db import connection


def row_counts() -> dict[str, int]:
    """Every table's row count: a simulation must leave each one as it found it."""
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - names from the catalogue
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.fixture
def counts():
    return row_counts


from tests.distribution.conftest import exclusive, semi, shared  # noqa: E402, F401 - the engine's market fixtures
