"""Indexes the report aggregates read (issue 12), owned by the reports app so the domain apps' models stay as
they are: leads by creation time with their status and buyers (index-only KPI/funnel counts), ledger entries
by posting time with kind and amount (index-only money sums, and the ledger export's range scan).

PostgreSQL only (INCLUDE columns); the SQLite demo gets plain indexes on the same columns."""
from django.db import migrations

INDEXES = [
    ("report_lead_created_idx", "leads_lead", "created_at", "status, buyers_count"),
    ("report_ledger_created_idx", "billing_ledgerentry", "created_at", "kind, amount_cents"),
]


def create(apps, schema_editor):
    for name, table, key, include in INDEXES:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS {name} ON "{table}" ({key}) INCLUDE ({include})')
        else:
            schema_editor.execute(f'CREATE INDEX IF NOT EXISTS {name} ON "{table}" ({key}, {include})')


def drop(apps, schema_editor):
    for name, *_ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_export_jobs"),
        ("leads", "0001_initial"),
        ("billing", "0002_ledger_append_only"),
    ]

    operations = [migrations.RunPython(create, drop)]
