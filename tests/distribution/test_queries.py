"""Eligibility is decided in the database: the queries per lead do not grow with the number of providers.

Both engines: the Python one (SQLite's, and the reference) sends a fixed number of statements; on PostgreSQL
the whole sale is one statement (the function's own statements loop over levels and the few chosen
subscriptions, never over every subscription: tests/distribution/test_sale_sql.py holds it to the same results).
"""
from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from hotlead.distribution.services.engine import lead_distribute
from tests.distribution.conftest import approved_lead, seller

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[True, False], ids=["sql-sale", "python-engine"], autouse=True)
def in_database(request):
    with override_settings(HOTLEAD={**settings.HOTLEAD, "DISTRIBUTION_IN_DATABASE": request.param}):
        yield request.param


def _queries_for_one_lead() -> int:
    lead = approved_lead()
    with CaptureQueriesContext(connection) as captured:
        run = lead_distribute(lead_id=lead.pk, trigger="approval")
    assert run.buyers == 1
    # statements, not transaction control (the test's own transaction makes the run's a savepoint)
    return sum(1 for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT")))


def _market(level, *, eligible: int, ineligible: int, plumbing) -> None:
    for _ in range(eligible):
        seller(level, daily_cap=100)
    for i in range(ineligible):
        if i % 2:
            seller(level, categories=[plumbing])
        else:
            seller(level, areas=["10001"])


def test_queries_per_lead_do_not_grow_with_the_number_of_providers(roofing, plumbing, exclusive, semi,
                                                                  in_database):
    # given 5 providers (3 eligible at the exclusive level), then 50 (30 eligible)
    _market(exclusive, eligible=3, ineligible=2, plumbing=plumbing)
    small = _queries_for_one_lead()
    _market(exclusive, eligible=27, ineligible=18, plumbing=plumbing)
    large = _queries_for_one_lead()
    # then the same number of queries sells one lead
    assert large == small
    if in_database:
        assert small == 1  # the sale function, nothing else
    else:
        # a small, fixed number (lock, levels, eligibility, account locks and re-check, the charge, the sale's
        # rows, the funds sync, the lead, its history, the run, the cursor)
        assert small <= 20


def test_a_fall_through_costs_one_query_per_level_walked(roofing, plumbing, exclusive, semi):
    _market(semi, eligible=1, ineligible=0, plumbing=plumbing)
    _market(exclusive, eligible=0, ineligible=5, plumbing=plumbing)
    small = _queries_for_one_lead()
    _market(exclusive, eligible=0, ineligible=40, plumbing=plumbing)
    assert _queries_for_one_lead() == small
