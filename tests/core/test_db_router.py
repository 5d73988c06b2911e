"""Report reads go to DATABASE_REPLICA_URL when it is set; everything else (and every write) to the primary."""
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections, router

from hotlead.core.db_router import ReplicaRouter, report_db_alias, reports_reading
from hotlead.leads.models import Lead
from tests.factories.leads import LeadFactory

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def replica_alias():
    """A "replica" connection to the test database (what a streaming replica would hold), like production's."""
    connections.settings["replica"] = {**connections["default"].settings_dict}
    from django.conf import settings

    databases = settings.DATABASES
    settings.DATABASES = {**databases, "replica": connections.settings["replica"]}
    connections["replica"].connect()  # opened here: the test case only guards connections it knew at its start
    try:
        yield
    finally:
        settings.DATABASES = databases
        if hasattr(connections._connections, "replica"):
            connections["replica"].close()
            delattr(connections._connections, "replica")
        del connections.settings["replica"]


@contextmanager
def statements(alias: str):
    seen: list[str] = []

    def record(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(record):
        yield seen


def test_without_a_replica_report_reads_use_the_primary():
    assert report_db_alias() == "default"
    with reports_reading() as alias:
        assert alias == "default"
        assert router.db_for_read(Lead) == "default"


@pytest.mark.django_db(transaction=True)
def test_with_a_replica_report_reads_go_there_and_writes_stay_on_the_primary():
    LeadFactory.create_batch(3)
    with replica_alias():
        assert report_db_alias() == "replica"
        with statements("replica") as on_replica, statements("default") as on_primary:
            # a report's reads
            with reports_reading():
                assert Lead.objects.count() == 3
                assert len(list(Lead.objects.filter(status="pending_review"))) == 3
                # a write inside a report (an export record, say) still goes to the primary
                Lead.objects.filter(pk=Lead.objects.first().pk).update(name="Renamed")
            # explicit alias, outside the block
            assert Lead.objects.using(report_db_alias()).filter(name="Renamed").count() == 1
            # an ordinary read, outside: the primary
            assert Lead.objects.count() == 3
        assert sum("leads_lead" in sql and sql.lstrip().upper().startswith("SELECT") for sql in on_replica) == 4
        assert not any(sql.lstrip().upper().startswith("UPDATE") for sql in on_replica)
        assert any(sql.lstrip().upper().startswith("UPDATE") for sql in on_primary)
        assert any("COUNT" in sql.upper() for sql in on_primary)


def test_migrations_never_run_on_the_replica():
    assert ReplicaRouter().allow_migrate("replica", "leads") is False
    assert ReplicaRouter().allow_migrate("default", "leads") is True


def test_database_replica_url_adds_a_mirrored_replica_alias():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "hotlead.settings",
           "DATABASE_REPLICA_URL": "postgres://reader@replica.internal:5432/hotlead", "HOTLEAD_ALLOW_DEV_SECRET": "1"}
    code = ("import django, json; django.setup(); from django.conf import settings; "
            "r = settings.DATABASES['replica']; "
            "print(json.dumps([r['HOST'], r['USER'], r['TEST']['MIRROR'], settings.DATABASE_ROUTERS]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [
        "replica.internal", "reader", "default", ["hotlead.core.db_router.ReplicaRouter"]]
