"""Issue 14: the migration that adds `Lead.reference` gives every existing lead its own reference."""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from hotlead.leads.references import REFERENCE_ALPHABET

BEFORE, AFTER = [("leads", "0001_initial")], [("leads", "0002_lead_reference")]


@pytest.mark.django_db(transaction=True)
def test_existing_leads_get_distinct_references_when_the_column_arrives():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        category = old.get_model("leads", "Category").objects.create(slug="roofing", name="Roofing")
        Lead = old.get_model("leads", "Lead")
        Lead.objects.bulk_create([
            Lead(name=f"Old {i}", email=f"old{i}@example.org", phone="+14155550100", postal_code="94110",
                 category=category, description="A lead from before issue 14.", consent_text_version="2026-01",
                 consent_at=timezone.now())
            for i in range(300)])
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)

        new = executor.loader.project_state(AFTER).apps
        references = list(new.get_model("leads", "Lead").objects.values_list("reference", flat=True))
        assert len(references) == 300 == len(set(references))
        assert all(re.fullmatch(rf"HL-[{REFERENCE_ALPHABET}]{{5}}", r) for r in references)
    finally:
        # back to the latest schema of every app (later migrations, of leads and of apps that depend on it,
        # were unapplied by the step back): the tests after this one need it
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
