"""Report reads go to the read replica when DATABASE_REPLICA_URL is set (docs/operations.md, "Production topology").

Two ways for report code (reports/) to read from the replica, both falling back to the primary when no
replica is configured:

    from hotlead.core.db_router import report_db_alias, reports_reading

    Lead.objects.using(report_db_alias()).filter(...)      # explicit alias
    with reports_reading():                                 # every ORM read inside the block
        rows = list(Assignment.objects.filter(...))

`ReplicaRouter` (settings.DATABASE_ROUTERS) sends a read to "replica" inside `reports_reading()` and for
models of the `reports` app; every write, and every read elsewhere, goes to "default" (a replica lags and is
read-only). Migrations run on "default" only: the replica follows it by streaming replication.
"""
from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

REPLICA = "replica"
_reports_reading: contextvars.ContextVar[bool] = contextvars.ContextVar("reports_reading", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def report_db_alias() -> str:
    """The alias report queries should read from: the replica when there is one."""
    return REPLICA if replica_configured() else "default"


@contextmanager
def reports_reading() -> Iterator[str]:
    """ORM reads inside the block go to the replica (when configured); yields the alias used."""
    token = _reports_reading.set(True)
    try:
        yield report_db_alias()
    finally:
        _reports_reading.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if replica_configured() and (_reports_reading.get() or model._meta.app_label == "reports"):
            return REPLICA
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
