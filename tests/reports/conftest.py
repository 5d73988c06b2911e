"""A hand-built market for the report tests: every figure below is worked out by hand in `EXPECTED`.

Range under test: 2026-03-01 .. 2026-03-10 (site time zone UTC). Leads created in the range:
  L1 pending_verification · L2 verified · L3 pending_review · L4 rejected · L5 approved · L6 distributed (2 buyers,
  Shared $25 each, sold 03-03; P2's copy refunded 03-06) · L7 distributed (1 buyer, Exclusive $120, sold
  03-10 23:30) · L8 unsold · L9 expired.
Outside the range: L0 (created and sold 02-28 at Semi $60 in "plumbing", refunded 03-05 — its refund is money
posted in the range) and L11 (created and sold 03-11 00:00 — excluded entirely). Deposits never count.
"""
from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.utils import timezone

from hotlead.billing.services.ledger import deposit_post, refund_post
from hotlead.leads.models import Lead
from tests.factories.distribution import make_assignment
from tests.factories.leads import CategoryFactory, LeadFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory

DATE_FROM, DATE_TO = date(2026, 3, 1), date(2026, 3, 10)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@contextlib.contextmanager
def at(moment: datetime):
    """Everything created inside carries `moment` as its created_at (auto_now_add reads timezone.now)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def lead_at(moment: datetime, status: str, **fields) -> Lead:
    with at(moment):
        return LeadFactory(status=status, **fields)


EXPECTED_KPIS = {
    "date_from": "2026-03-01", "date_to": "2026-03-10",
    "submitted": 9, "verified": 7, "approved": 4, "rejected": 1, "distributed": 2, "unsold": 1,
    "sell_through": 0.6667, "avg_buyers_per_lead": 1.5,
    "revenue_cents": 17000, "refunds_cents": 8500, "net_cents": 8500,
}


@pytest.fixture
def market(db):
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    plumbing = CategoryFactory(slug="plumbing", name="Plumbing")
    exclusive = LevelFactory(slug="exclusive", name="Exclusive", rank=1, price_cents=12000)
    semi = LevelFactory(slug="semi", name="Semi-exclusive", rank=2, price_cents=6000, max_recipients=3)
    shared = LevelFactory(slug="shared", name="Shared", rank=3, price_cents=2500, max_recipients=5)
    p1 = ProviderFactory(company_name="=HYPERLINK(\"http://evil\")")
    p2 = ProviderFactory(company_name="Beta Roofing")
    with at(utc(2026, 2, 1)):
        deposit_post(provider_id=p1.pk, amount_cents=100_000, key="dep-p1")
        deposit_post(provider_id=p2.pk, amount_cents=100_000, key="dep-p2")

    def verified(**extra):
        return {"verified_at": utc(2026, 3, 2), **extra}

    confirmed = {"confirmed_at": utc(2026, 3, 2)}
    lead_at(utc(2026, 3, 1, 0, 0), "pending_verification", category=roofing)
    lead_at(utc(2026, 3, 2), "verified", category=roofing, **verified())
    lead_at(utc(2026, 3, 2), "pending_review", category=roofing, **verified(**confirmed))
    lead_at(utc(2026, 3, 2), "rejected", category=roofing, reject_reason="spam", **verified(**confirmed))
    lead_at(utc(2026, 3, 3), "approved", category=roofing, approved_at=utc(2026, 3, 3), **verified(**confirmed))
    l6 = lead_at(utc(2026, 3, 3), "distributed", category=roofing, approved_at=utc(2026, 3, 3), buyers_count=2,
                 name="-2+3", description="@SUM(A1:A2)", **verified(**confirmed))
    l7 = lead_at(utc(2026, 3, 10, 12), "distributed", category=roofing, approved_at=utc(2026, 3, 10),
                 buyers_count=1, **verified(**confirmed))
    lead_at(utc(2026, 3, 4), "unsold", category=roofing, approved_at=utc(2026, 3, 4), **verified(**confirmed))
    lead_at(utc(2026, 3, 5), "expired", category=roofing)
    l0 = lead_at(utc(2026, 2, 28), "distributed", category=plumbing, buyers_count=1, **verified(**confirmed))
    l11 = lead_at(utc(2026, 3, 11), "distributed", category=roofing, buyers_count=1, **verified(**confirmed))

    with at(utc(2026, 2, 28, 12)):
        a0 = make_assignment(lead=l0, provider=p2, level=semi, assigned_at=timezone.now(), fund=False)
    with at(utc(2026, 3, 3, 9)):
        make_assignment(lead=l6, provider=p1, level=shared, assigned_at=timezone.now(), fund=False)
        a6b = make_assignment(lead=l6, provider=p2, level=shared, assigned_at=timezone.now(), fund=False)
    with at(utc(2026, 3, 10, 23, 30)):
        make_assignment(lead=l7, provider=p1, level=exclusive, assigned_at=timezone.now(), fund=False)
    with at(utc(2026, 3, 11, 0, 0)):
        make_assignment(lead=l11, provider=p2, level=exclusive, assigned_at=timezone.now(), fund=False)
    with at(utc(2026, 3, 5, 8)):
        refund_post(charge=a0.charge_entry, memo="bad lead")
    with at(utc(2026, 3, 6, 8)):
        refund_post(charge=a6b.charge_entry, memo="=1+1")
    return {"p1": p1, "p2": p2, "levels": (exclusive, semi, shared), "categories": (roofing, plumbing)}
