"""Replay: the range's leads offered again to the market as it stood at the start (SPEC §10.1)."""
from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from hotlead.billing.services.ledger import deposit_post
from hotlead.distribution.enums import RunTrigger
from hotlead.distribution.models import Assignment
from hotlead.distribution.services.engine import lead_distribute
from hotlead.leads.enums import LeadStatus
from hotlead.simulator.services.simulate import simulate_replay
from tests.distribution.conftest import approved_lead, seller
from tests.factories.leads import CategoryFactory
from tests.simulator.conftest import row_counts

pytestmark = pytest.mark.django_db


def _sell(at, **fields):
    lead = approved_lead(approved_at=at, **fields)
    lead_distribute(lead_id=lead.pk, trigger=RunTrigger.APPROVAL, now=at)
    return lead


@pytest.fixture
def history(exclusive, semi, shared):
    """Two days of a small market: sales before the range, in it (with a mid-range deposit and a retried unsold
    lead) and after it; balances that run out, a daily cap, rotation at every level."""
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    plumbing = CategoryFactory(slug="plumbing", name="Plumbing")
    t0 = timezone.now().replace(microsecond=0) + timedelta(minutes=5)
    sellers = [
        seller(exclusive, balance=30_000),  # two exclusive leads, then out of funds for exclusive
        seller(exclusive, balance=500_000, daily_cap=3),
        seller(semi, balance=20_000, categories=[roofing, plumbing]),
        seller(semi, balance=200_000, categories=[roofing, plumbing]),
        seller(semi, balance=7_000),  # one semi-exclusive lead, then only shared
        seller(shared, balance=5_000),
        seller(shared, balance=100_000, areas=("941*",)),
    ]
    seller(shared, provider=sellers[4].provider)
    # identical exclusive sellers of 94112: who is next is least-recently-served, then the level's rotation
    x1, x2, x3 = (seller(exclusive, balance=b, areas=("94112",)) for b in (0, 300_000, 300_000))
    before = [_sell(t0 + timedelta(hours=1)), _sell(t0 + timedelta(hours=2), postal_code="94112")]  # x2: x1 is broke
    with mock.patch("django.utils.timezone.now", return_value=t0 + timedelta(hours=2, minutes=30)):
        deposit_post(provider_id=x1.provider_id, amount_cents=300_000, key="x1-funded")
    before.append(_sell(t0 + timedelta(hours=3), category=plumbing))  # the cursor of exclusive stays on x2
    assert Assignment.objects.get(lead=before[1]).provider_id == x2.provider_id
    start = t0 + timedelta(hours=6)
    end = start + timedelta(hours=24)
    in_range = []
    for i in range(18):
        at = start + timedelta(minutes=40 * i + 1)
        if i == 9:  # a top-up in the middle of the range: it reactivates the exhausted seller
            with mock.patch("django.utils.timezone.now", return_value=at - timedelta(minutes=1)):
                deposit_post(provider_id=sellers[0].provider_id, amount_cents=24_000, key="mid-range-top-up")
        fields = {"postal_code": "94112"} if i % 3 == 0 else {}
        if i % 5 == 3:
            fields = {"category": plumbing, "postal_code": "94110"}
        if i % 7 == 6:
            fields = {"postal_code": "10001"}  # nobody serves it: unsold
        in_range.append(_sell(at, **fields))
    # an unsold lead of the range sold later by the schedule's retry, once a provider covers its area
    retry = in_range[6]
    assert retry.postal_code == "10001"
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(hours=19)):
        seller(shared, balance=50_000, areas=("10001",))
    lead_distribute(lead_id=retry.pk, trigger=RunTrigger.SCHEDULE, now=start + timedelta(hours=20))
    after = [_sell(end + timedelta(hours=h)) for h in (1, 2)]
    return {"start": start, "end": end, "before": before, "in_range": in_range, "after": after, "retry": retry}


def _real(leads):
    out = {}
    for a in Assignment.objects.filter(lead__in=leads).select_related("level", "charge_entry"):
        out.setdefault(a.lead_id, []).append((a.provider_id, a.level.slug, -a.charge_entry.amount_cents))
    return {k: sorted(v) for k, v in out.items()}


def test_replay_without_overrides_reproduces_history_lead_by_lead(history):
    # given: the real assignments and charges of the range, lead by lead
    leads = history["in_range"]
    real = _real(leads)
    assert len(real) >= 12 and any(len(v) > 1 for v in real.values())  # a real mix: shared sales, unsold leads
    assert Assignment.objects.filter(lead=history["retry"]).exists()
    # when
    result = simulate_replay(start=history["start"], end=history["end"])
    # then: the same buyers, at the same level, charged the same, for every lead; the same outcome per lead
    assert result.baseline.assignments_by_lead() == real
    for lead in leads:
        lead.refresh_from_db()
        assert result.baseline.leads[lead.pk][0] == lead.status
    assert set(result.baseline.leads) == {lead.pk for lead in leads}
    assert result.report["baseline"]["revenue_cents"] == sum(c for rows in real.values() for *_, c in rows)
    # and an empty scenario is the baseline
    assert result.report["scenario"] == result.report["baseline"]


def test_replay_writes_nothing(history):
    before = row_counts()
    simulate_replay(start=history["start"], end=history["end"],
                    scenario={"levels": {"shared": {"max_recipients": 1, "price_cents": 9_000}}})
    assert row_counts() == before
    assert Assignment.objects.filter(lead__in=history["after"]).count() > 0  # history after the range untouched


def test_replay_scenario_one_buyer_everywhere(history):
    scenario = {"levels": {slug: {"max_recipients": 1} for slug in ("exclusive", "semi-exclusive", "shared")}}
    result = simulate_replay(start=history["start"], end=history["end"], scenario=scenario)
    sold = result.scenario.assignments_by_lead()
    assert sold and all(len(buyers) == 1 for buyers in sold.values())
    assert any(len(buyers) > 1 for buyers in result.baseline.assignments_by_lead().values())
    side = result.report["scenario"]
    assert side["assignments"] == side["sold"] and side["avg_buyers_per_lead"] == 1.0


def test_replay_reports_the_observed_return_rate(history):
    first = Assignment.objects.filter(lead__in=history["in_range"]).order_by("id").first()
    Assignment.objects.filter(pk=first.pk).update(status="refunded")
    total = Assignment.objects.filter(lead__in=history["in_range"]).count()
    report = simulate_replay(start=history["start"], end=history["end"]).report["baseline"]
    assert report["return_rate"] == round(1 / total, 4)
    assert report["refunds_cents"] == round(report["revenue_cents"] / total)


def test_replay_leads_are_the_range_only(history):
    result = simulate_replay(start=history["start"], end=history["end"])
    keys = set(result.baseline.leads)
    assert not keys & {lead.pk for lead in history["before"] + history["after"]}
    assert result.baseline.leads[history["retry"].pk][0] == LeadStatus.DISTRIBUTED
