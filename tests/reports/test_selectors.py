"""Every report figure against the hand-built market of conftest.py, to the cent."""
from __future__ import annotations

from datetime import date

import pytest
from django.db.models import Sum

from hotlead.billing.models import LedgerEntry
from reports import selectors
from reports.ranges import DateRange, report_range
from tests.reports.conftest import DATE_FROM, DATE_TO, EXPECTED_KPIS

pytestmark = pytest.mark.django_db
RNG = DateRange(DATE_FROM, DATE_TO)


def _jsonish(d: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in d.items()}


def test_kpis_every_field(market):
    assert _jsonish(selectors.kpis(rng=RNG)) == EXPECTED_KPIS


def test_kpis_money_agrees_with_the_ledger(market):
    # given the ledger's own sums over the range
    in_range = LedgerEntry.objects.filter(created_at__gte=RNG.start, created_at__lt=RNG.end)
    charges = -in_range.filter(kind="charge").aggregate(s=Sum("amount_cents"))["s"]
    refunds = in_range.filter(kind="refund").aggregate(s=Sum("amount_cents"))["s"]
    # then
    k = selectors.kpis(rng=RNG)
    assert (k["revenue_cents"], k["refunds_cents"], k["net_cents"]) == (charges, refunds, charges - refunds)


def test_empty_range_has_zero_ratios(db):
    k = selectors.kpis(rng=DateRange(date(2020, 1, 1), date(2020, 1, 2)))
    assert k["sell_through"] == 0 and k["avg_buyers_per_lead"] == 0 and k["submitted"] == 0


def test_funnel_counts_and_conversions(market):
    steps = selectors.funnel(rng=RNG)["steps"]
    assert steps == [
        {"step": "submitted", "count": 9, "conversion": 1.0},
        {"step": "verified", "count": 7, "conversion": 0.7778},
        {"step": "confirmed", "count": 6, "conversion": 0.8571},
        {"step": "approved", "count": 4, "conversion": 0.6667},
        {"step": "distributed", "count": 2, "conversion": 0.5},
    ]


def test_funnel_conversion_is_zero_after_an_empty_step(db):
    steps = selectors.funnel(rng=DateRange(date(2020, 1, 1), date(2020, 1, 1)))["steps"]
    assert [s["conversion"] for s in steps] == [1.0, 0, 0, 0, 0]


def test_revenue_by_level(market):
    report = selectors.revenue(rng=RNG, group_by="level")
    assert report["rows"] == [
        {"key": "exclusive", "assignments": 1, "charges_cents": 12000, "refunds_cents": 0, "net_cents": 12000},
        {"key": "semi", "assignments": 0, "charges_cents": 0, "refunds_cents": 6000, "net_cents": -6000},
        {"key": "shared", "assignments": 2, "charges_cents": 5000, "refunds_cents": 2500, "net_cents": 2500},
    ]
    assert report["total"] == {"assignments": 3, "charges_cents": 17000, "refunds_cents": 8500, "net_cents": 8500}


def test_revenue_by_category(market):
    report = selectors.revenue(rng=RNG, group_by="category")
    assert report["rows"] == [
        {"key": "plumbing", "assignments": 0, "charges_cents": 0, "refunds_cents": 6000, "net_cents": -6000},
        {"key": "roofing", "assignments": 3, "charges_cents": 17000, "refunds_cents": 2500, "net_cents": 14500},
    ]


def test_revenue_by_lead_source(market):
    """Issue 15: a partner's leads (posted with its key) show as the source's own row; our own form's as (direct)."""
    from hotlead.distribution.models import Assignment
    from hotlead.leads.models import Lead
    from hotlead.sources.services import lead_source_create

    source, _key = lead_source_create(name="Acme Leads")
    exclusive_sale = Assignment.objects.get(level__slug="exclusive", assigned_at__date=date(2026, 3, 10))
    Lead.objects.filter(pk=exclusive_sale.lead_id).update(lead_source=source)

    report = selectors.revenue(rng=RNG, group_by="source")

    assert report["rows"] == [
        {"key": "(direct)", "assignments": 2, "charges_cents": 5000, "refunds_cents": 8500, "net_cents": -3500},
        {"key": "Acme Leads", "assignments": 1, "charges_cents": 12000, "refunds_cents": 0, "net_cents": 12000},
    ]
    assert report["total"] == {"assignments": 3, "charges_cents": 17000, "refunds_cents": 8500, "net_cents": 8500}


def test_revenue_by_day_covers_every_day_with_zeros(market):
    rows = selectors.revenue(rng=RNG, group_by="day")["rows"]
    assert [r["key"] for r in rows] == [f"2026-03-{d:02d}" for d in range(1, 11)]
    by_day = {r["key"]: (r["assignments"], r["charges_cents"], r["refunds_cents"]) for r in rows}
    assert by_day["2026-03-03"] == (2, 5000, 0)
    assert by_day["2026-03-05"] == (0, 0, 6000)
    assert by_day["2026-03-06"] == (0, 0, 2500)
    assert by_day["2026-03-10"] == (1, 12000, 0)  # 23:30 UTC is still the 10th in the site's time zone
    assert by_day["2026-03-01"] == (0, 0, 0)


@pytest.mark.parametrize("group_by", ["day", "level", "category", "source"])
def test_revenue_rows_sum_to_total_and_total_is_the_kpis_money(market, group_by):
    report = selectors.revenue(rng=RNG, group_by=group_by)
    for field in ("assignments", "charges_cents", "refunds_cents", "net_cents"):
        assert sum(r[field] for r in report["rows"]) == report["total"][field]
    k = selectors.kpis(rng=RNG)
    assert (report["total"]["charges_cents"], report["total"]["refunds_cents"]) == (k["revenue_cents"],
                                                                                  k["refunds_cents"])


def test_days_follow_the_site_time_zone(market, settings):
    # 2026-03-11 00:00 UTC (L11's charge) is 2026-03-10 19:00 in New York: it joins the range on the 10th
    settings.TIME_ZONE = "America/New_York"
    rows = {r["key"]: r for r in selectors.revenue(rng=RNG, group_by="day")["rows"]}
    assert rows["2026-03-10"]["charges_cents"] == 12000 + 12000


@pytest.mark.parametrize(("date_from", "date_to", "field"), [
    (date(2026, 3, 10), date(2026, 3, 9), "date_to"),
    (date(2024, 1, 1), date(2026, 1, 1), "date_from"),
])
def test_bad_ranges_name_the_field(date_from, date_to, field):
    from hotlead.core.exceptions import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        report_range(date_from=date_from, date_to=date_to)
    assert caught.value.details["fields"][0]["field"] == field


def test_range_defaults_to_the_last_30_days():
    rng = report_range(today=date(2026, 3, 30))
    assert (rng.date_from, rng.date_to) == (date(2026, 3, 1), date(2026, 3, 30))
    assert len(report_range(date_from=date(2024, 1, 1), date_to=date(2025, 12, 31)).days) == 731
