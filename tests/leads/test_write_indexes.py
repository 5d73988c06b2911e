"""What a submission writes besides its rows: index entries (leads 0006, notifications 0004). Every index of the
tables a submission writes is written by every submission; these tests hold the list to what queries use."""
from __future__ import annotations

import pytest
from django.db import connection

from hotlead.leads.models import Lead
from hotlead.leads.services.intake import lead_submit
from hotlead.leads.validation import LeadSubmission
from tests.factories.leads import CategoryFactory

pytestmark = pytest.mark.django_db

TABLES = ("leads_lead", "leads_leadevent", "leads_leadverification", "notifications_emailevent")


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)", [list(TABLES)])
        return dict(cursor.fetchall())


def test_no_text_column_of_a_submission_has_a_like_twin():
    # nothing searches these tables with LIKE 'prefix%' (the console's icontains uses no b-tree)
    assert [name for name, definition in _indexes().items() if "pattern_ops" in definition] == []


def test_columns_empty_on_a_new_lead_are_indexed_only_where_set():
    partial = {name: definition.split(" WHERE ")[1]
               for name, definition in _indexes().items() if " WHERE " in definition}
    assert partial == {
        "lead_possible_duplicate_idx": "possible_duplicate",
        "lead_duplicate_of_idx": "(duplicate_of_id IS NOT NULL)",
        "lead_reviewed_by_idx": "(reviewed_by_id IS NOT NULL)",
        "lead_lead_source_idx": "(lead_source_id IS NOT NULL)",
        "leadevent_actor_idx": "(actor_id IS NOT NULL)",
    }


def test_a_partial_index_still_serves_the_lookup_of_a_value():
    # given leads, one of them a duplicate of another
    category = CategoryFactory(slug="roofing")
    first = lead_submit(submission=_submission(category, "pat@example.com"), ip="203.0.113.5")
    second = lead_submit(submission=_submission(category, "pat@example.com"), ip="203.0.113.5")
    assert second.duplicate_of_id == first.pk
    # when the later duplicates of a lead are looked up (the plan of the query, without scans forced off)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT id FROM leads_lead WHERE duplicate_of_id = %s", [first.pk])
        plan = " ".join(row[0] for row in cursor.fetchall())
    # then the index where set is the one used, and the rows are found
    assert "lead_duplicate_of_idx" in plan
    assert list(Lead.objects.filter(duplicate_of=first).values_list("pk", flat=True)) == [second.pk]


def _submission(category, email):
    return LeadSubmission(name="Pat Index", email=email, phone="+14155550100", postal_code="94110",
                          category=category.slug, description="Our roof leaks over the kitchen.", consent=True)
