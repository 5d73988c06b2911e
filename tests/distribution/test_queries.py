"""Eligibility is decided in the database: the queries per lead do not grow with the number of providers."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hotlead.distribution.services.engine import lead_distribute
from tests.distribution.conftest import approved_lead, seller

pytestmark = pytest.mark.django_db


def _queries_for_one_lead() -> int:
    lead = approved_lead()
    with CaptureQueriesContext(connection) as captured:
        run = lead_distribute(lead_id=lead.pk, trigger="approval")
    assert run.buyers == 1
    return len(captured)


def _market(level, *, eligible: int, ineligible: int, plumbing) -> None:
    for _ in range(eligible):
        seller(level, daily_cap=100)
    for i in range(ineligible):
        if i % 2:
            seller(level, categories=[plumbing])
        else:
            seller(level, areas=["10001"])


def test_queries_per_lead_do_not_grow_with_the_number_of_providers(roofing, plumbing, exclusive, semi):
    # given 5 providers (3 eligible at the exclusive level), then 50 (30 eligible)
    _market(exclusive, eligible=3, ineligible=2, plumbing=plumbing)
    small = _queries_for_one_lead()
    _market(exclusive, eligible=27, ineligible=18, plumbing=plumbing)
    large = _queries_for_one_lead()
    # then the same number of queries sells one lead
    assert large == small
    # and it is a small, fixed number (lock, levels, eligibility, account locks and re-check, the charge,
    # the sale's rows, the funds sync, the lead, its history, the run, the cursor)
    assert small <= 20


def test_a_fall_through_costs_one_query_per_level_walked(roofing, plumbing, exclusive, semi):
    _market(semi, eligible=1, ineligible=0, plumbing=plumbing)
    _market(exclusive, eligible=0, ineligible=5, plumbing=plumbing)
    small = _queries_for_one_lead()
    _market(exclusive, eligible=0, ineligible=40, plumbing=plumbing)
    assert _queries_for_one_lead() == small
