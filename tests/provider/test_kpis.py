"""GET /provider/reports/kpis: exact figures on a known data set, bucketed in the provider's time zone."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from hotlead.distribution.services.assignments import assignment_accept, assignment_reject
from hotlead.refunds.models import BadLeadReport
from tests.factories.distribution import make_assignment

KPIS = "/api/v1/provider/reports/kpis"

pytestmark = pytest.mark.django_db


def _zero(**overrides) -> dict:
    figures = {"received": 0, "accepted": 0, "rejected": 0, "reported": 0, "refunded": 0, "spend_cents": 0,
               "refunded_cents": 0, "net_spend_cents": 0, "average_price_cents": 0}
    return {**figures, **overrides}


@pytest.fixture
def known_data(provider, other_provider, shared_level):
    """The provider is in Los Angeles (UTC−8 in winter). Local times in the comments."""
    assert provider.timezone == "America/Los_Angeles"

    def sell(utc: datetime, price: int, **fields):
        return make_assignment(provider=provider, level=shared_level, price_cents=price, assigned_at=utc, **fields)

    sell(datetime(2026, 2, 1, 7, 59, tzinfo=UTC), 2500)                      # Sat 31 Jan 23:59
    a1 = sell(datetime(2026, 2, 2, 17, 0, tzinfo=UTC), 6000)                 # Mon 2 Feb 09:00
    a2 = sell(datetime(2026, 2, 3, 7, 30, tzinfo=UTC), 2500)                 # Mon 2 Feb 23:30
    a3 = sell(datetime(2026, 2, 3, 18, 0, tzinfo=UTC), 12000, status="refunded",
              refunded_at=timezone.now())                                     # Tue 3 Feb 10:00
    a4 = sell(datetime(2026, 2, 9, 16, 0, tzinfo=UTC), 2500)                 # Mon 9 Feb 08:00
    a5 = sell(datetime(2026, 3, 1, 20, 0, tzinfo=UTC), 6000)                 # Sun 1 Mar 12:00
    assignment_accept(provider=provider, assignment_id=a1.pk)
    assignment_reject(provider=provider, assignment_id=a2.pk, reason="Too far away")
    assignment_accept(provider=provider, assignment_id=a5.pk)
    BadLeadReport.objects.create(assignment=a3, provider=provider, reason="wrong_contact", status="approved")
    BadLeadReport.objects.create(assignment=a4, provider=provider, reason="duplicate", status="pending")
    # someone else's sale inside every range: never counted
    make_assignment(provider=other_provider, level=shared_level, assigned_at=datetime(2026, 2, 2, 18, tzinfo=UTC))


def test_kpis_by_day(client, provider_headers, known_data):
    response = client.get(f"{KPIS}?period=day&date_from=2026-02-02&date_to=2026-02-04", **provider_headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["period"], body["date_from"], body["date_to"], body["timezone"]) == (
        "day", "2026-02-02", "2026-02-04", "America/Los_Angeles")
    assert body["series"] == [
        {"period_start": "2026-02-02", **_zero(received=2, accepted=1, rejected=1, spend_cents=8500,
                                               net_spend_cents=8500, average_price_cents=4250)},
        {"period_start": "2026-02-03", **_zero(received=1, reported=1, refunded=1, spend_cents=12000,
                                               refunded_cents=12000, average_price_cents=12000)},
        {"period_start": "2026-02-04", **_zero()},
    ]
    assert body["totals"] == _zero(received=3, accepted=1, rejected=1, reported=1, refunded=1, spend_cents=20500,
                                   refunded_cents=12000, net_spend_cents=8500, average_price_cents=6833)


def test_kpis_by_week_start_on_monday(client, provider_headers, known_data):
    response = client.get(f"{KPIS}?period=week&date_from=2026-02-01&date_to=2026-03-01", **provider_headers)

    body = response.json()
    assert [(b["period_start"], b["received"], b["spend_cents"]) for b in body["series"]] == [
        ("2026-01-26", 0, 0),
        ("2026-02-02", 3, 20500),
        ("2026-02-09", 1, 2500),
        ("2026-02-16", 0, 0),
        ("2026-02-23", 1, 6000),
    ]
    assert body["totals"] == _zero(received=5, accepted=2, rejected=1, reported=2, refunded=1, spend_cents=29000,
                                   refunded_cents=12000, net_spend_cents=17000, average_price_cents=5800)


def test_kpis_by_month(client, provider_headers, known_data):
    response = client.get(f"{KPIS}?period=month&date_from=2026-01-01&date_to=2026-03-31", **provider_headers)

    body = response.json()
    assert [(b["period_start"], b["received"], b["accepted"], b["reported"]) for b in body["series"]] == [
        ("2026-01-01", 1, 0, 0),
        ("2026-02-01", 4, 1, 2),
        ("2026-03-01", 1, 1, 0),
    ]
    assert body["totals"]["received"] == 6 and body["totals"]["spend_cents"] == 31500


def test_kpis_default_to_the_last_30_days(client, provider, provider_headers, shared_level):
    make_assignment(provider=provider, level=shared_level, price_cents=4200)

    body = client.get(KPIS, **provider_headers).json()

    assert body["period"] == "day" and len(body["series"]) == 30
    assert body["totals"] == _zero(received=1, spend_cents=4200, net_spend_cents=4200, average_price_cents=4200)
    assert body["series"][-1]["received"] == 1


@pytest.mark.parametrize(
    "query",
    ["period=year", "date_from=2026-03-01&date_to=2026-02-01", "date_from=2020-01-01&date_to=2026-01-01"],
)
def test_bad_kpi_queries_are_422(client, provider_headers, query):
    response = client.get(f"{KPIS}?{query}", **provider_headers)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_the_calendars_last_days_are_answered_not_a_500(client, provider_headers, known_data, period):
    response = client.get(f"{KPIS}?period={period}&date_from=9999-12-01&date_to=9999-12-31", **provider_headers)

    assert response.status_code == 200
    body = response.json()
    assert (body["date_from"], body["date_to"]) == ("9999-12-01", "9999-12-31")
    assert body["totals"] == _zero()
    assert body["series"][-1]["period_start"] == {"day": "9999-12-31", "week": "9999-12-27",
                                                  "month": "9999-12-01"}[period]


def test_a_nul_character_in_the_query_is_a_422(client, provider_headers):
    response = client.get(f"{KPIS}?period=d%00ay", **provider_headers)

    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "period"
