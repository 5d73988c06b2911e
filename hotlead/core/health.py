"""Readiness checks: database, migrations applied, cache, a job worker seen recently."""
from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return {"ok": False, "error": type(exc).__name__}


def _check_migrations() -> dict:
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        return {"ok": not pending, "pending": len(pending)}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}


def _check_cache() -> dict:
    try:
        cache.set("health:ping", "1", 10)
        return {"ok": cache.get("health:ping") == "1"}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}


def _check_worker() -> dict:
    from hotlead.ops.selectors import worker_last_seen_seconds

    try:
        age = worker_last_seen_seconds()
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": age is not None and age <= 120, "last_seen_seconds": age}


def readiness_checks() -> dict[str, dict]:
    return {
        "database": _check_database(),
        "migrations": _check_migrations(),
        "cache": _check_cache(),
        "worker": _check_worker(),
    }
