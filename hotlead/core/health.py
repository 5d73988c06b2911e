"""Health checks. Readiness (/health/ready, for load balancers): what THIS web process needs to serve a request —
the database answers, no migration of its code is pending, the cache round-trips. The job worker's heartbeat is
reported beside them but is not part of readiness: a stopped worker is not a reason to take every web server
out of the load balancer at once (which turns "e-mails are late" into "the site is down"); /health/worker
answers 503 for it instead, for the worker's own monitoring (ops.selectors.worker_check, the heartbeat's owner).

Each check answers {"ok": bool, ...}; a failure names the error's type, never its message
(which may carry a host name or credentials).
"""
from __future__ import annotations

import time
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


# A process's code never gains migrations while it runs: once none is pending, re-reading the migration
# graph (tens of milliseconds of disk and CPU) on every probe is waste. Re-checked after this many seconds.
MIGRATIONS_OK_CACHE_SECONDS = 60
_migrations_ok_at: list[float] = []


def _check_migrations() -> dict:
    if _migrations_ok_at and time.monotonic() - _migrations_ok_at[0] < MIGRATIONS_OK_CACHE_SECONDS:
        return {"ok": True, "pending": 0}
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}
    _migrations_ok_at[:] = [time.monotonic()] if not pending else []
    return {"ok": not pending, "pending": len(pending)}


def _check_cache() -> dict:
    key, token = "health:ping", uuid.uuid4().hex  # a unique value: another process's write cannot pass for ours
    try:
        cache.set(key, token, 10)
        return {"ok": cache.get(key) == token}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}


def readiness_checks() -> dict[str, dict]:
    """What a load balancer needs: can this process serve requests."""
    database = _check_database()
    return {
        "database": database,
        # without the database the migration state is unknown: not ready either way, and no slow retry
        "migrations": _check_migrations() if database["ok"] else {"ok": False, "error": "DatabaseUnavailable"},
        "cache": _check_cache(),
    }
