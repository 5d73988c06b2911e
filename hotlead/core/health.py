"""Readiness checks: database, migrations applied, cache, a job worker seen recently.

Each check answers {"ok": bool, ...}; a failure names the error's type, never its message
(which may carry a host name or credentials).
"""
from __future__ import annotations

import uuid

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
    key, token = "health:ping", uuid.uuid4().hex  # a unique value: another process's write cannot pass for ours
    try:
        cache.set(key, token, 10)
        return {"ok": cache.get(key) == token}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}


def _check_worker() -> dict:
    from hotlead.ops.selectors import worker_heartbeat_max_age_seconds, worker_last_seen_seconds

    max_age = worker_heartbeat_max_age_seconds()
    try:
        age = worker_last_seen_seconds()
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}
    result = {"ok": age is not None and age <= max_age, "last_seen_seconds": None if age is None else round(age),
              "max_age_seconds": max_age}
    if not result["ok"]:
        result["hint"] = "Is a job worker (manage.py qcluster) running, with schedules_sync applied?"
    return result


def readiness_checks() -> dict[str, dict]:
    return {
        "database": _check_database(),
        "migrations": _check_migrations(),
        "cache": _check_cache(),
        "worker": _check_worker(),
    }
