"""A provider's own KPIs by period (SPEC §7, §10), as one SQL aggregate.

Figures are by cohort: each assignment counts in the period (day, ISO week from Monday, or month,
in the provider's time zone) in which it was sold, with what has happened to it since — so "accepted
in week 12" reads "of the leads received in week 12, this many were accepted".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncDay, TruncMonth, TruncWeek

from hotlead.core.exceptions import ValidationFailed
from hotlead.distribution.enums import AssignmentStatus
from hotlead.distribution.models import Assignment
from hotlead.distribution.selectors.inbox import day_bounds

PERIODS = ("day", "week", "month")
KPI_DEFAULT_DAYS = 30
KPI_MAX_DAYS = 731
_TRUNC = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


@dataclass(frozen=True)
class KpiFigures:
    received: int = 0
    accepted: int = 0
    rejected: int = 0
    reported: int = 0
    refunded: int = 0
    spend_cents: int = 0
    refunded_cents: int = 0
    net_spend_cents: int = 0
    average_price_cents: int = 0

    @classmethod
    def from_sums(cls, *, received: int, accepted: int, rejected: int, reported: int, refunded: int,
                  spend_cents: int, refunded_cents: int) -> KpiFigures:
        return cls(
            received=received, accepted=accepted, rejected=rejected, reported=reported, refunded=refunded,
            spend_cents=spend_cents, refunded_cents=refunded_cents, net_spend_cents=spend_cents - refunded_cents,
            average_price_cents=round(spend_cents / received) if received else 0,
        )


@dataclass(frozen=True)
class KpiBucket:
    period_start: date
    figures: KpiFigures


@dataclass(frozen=True)
class KpiReport:
    period: str
    date_from: date
    date_to: date
    timezone: str
    totals: KpiFigures
    series: list[KpiBucket]


def kpi_range(*, tz_name: str, date_from: date | None, date_to: date | None,
              today: date | None = None) -> tuple[date, date]:
    """Default: the last 30 days up to today in the provider's time zone. Both dates inclusive."""
    today = today or datetime.now(ZoneInfo(tz_name)).date()
    date_to = date_to or (max(today, date_from) if date_from else today)
    date_from = date_from or date_to - timedelta(days=KPI_DEFAULT_DAYS - 1)
    if date_from > date_to:
        raise ValidationFailed.for_field("date_from", "date_from must not be after date_to.")
    if (date_to - date_from).days >= KPI_MAX_DAYS:
        raise ValidationFailed.for_field("date_to", f"The range may span at most {KPI_MAX_DAYS} days.")
    return date_from, date_to


def _period_starts(period: str, date_from: date, date_to: date) -> list[date]:
    if period == "day":
        first, step = date_from, lambda d: d + timedelta(days=1)
    elif period == "week":
        first, step = date_from - timedelta(days=date_from.weekday()), lambda d: d + timedelta(days=7)
    else:
        first = date_from.replace(day=1)

        def step(d: date) -> date:
            return date(d.year + d.month // 12, d.month % 12 + 1, 1)
    starts, current = [], first
    while current <= date_to:
        starts.append(current)
        try:
            current = step(current)
        except (OverflowError, ValueError):  # past the calendar's last day (9999-12-31)
            break
    return starts


def provider_kpis(*, provider_id: int, tz_name: str, period: str = "day", date_from: date | None = None,
                  date_to: date | None = None) -> KpiReport:
    """received, accepted, rejected, reported, refunded, spend and average price, per period and in total."""
    if period not in PERIODS:
        raise ValidationFailed.for_field("period", f"Choose one of: {', '.join(PERIODS)}.")
    date_from, date_to = kpi_range(tz_name=tz_name, date_from=date_from, date_to=date_to)
    start, end = day_bounds(tz_name=tz_name, date_from=date_from, date_to=date_to)
    tz = ZoneInfo(tz_name)
    refunded = Q(status=AssignmentStatus.REFUNDED)
    in_range = Q(assigned_at__gte=start) & (Q(assigned_at__lt=end) if end is not None else Q())
    rows = (
        Assignment.objects.filter(in_range, provider_id=provider_id)
        .annotate(bucket=_TRUNC[period]("assigned_at", tzinfo=tz))
        .values("bucket")
        .order_by("bucket")
        .annotate(
            received=Count("id"),
            accepted=Count("id", filter=Q(accepted_at__isnull=False) | Q(status=AssignmentStatus.ACCEPTED)),
            rejected=Count("id", filter=Q(rejected_at__isnull=False) | Q(status=AssignmentStatus.REJECTED)),
            reported=Count("bad_lead_report"),
            refunded=Count("id", filter=refunded),
            spend_cents=Coalesce(Sum("price_cents"), 0),
            refunded_cents=Coalesce(Sum("price_cents", filter=refunded), 0),
        )
    )
    by_start: dict[date, dict] = {}
    for row in rows:
        bucket = row.pop("bucket")
        by_start[bucket.astimezone(tz).date() if isinstance(bucket, datetime) else bucket] = row
    zero = {k: 0 for k in ("received", "accepted", "rejected", "reported", "refunded", "spend_cents",
                           "refunded_cents")}
    series = [
        KpiBucket(period_start=s, figures=KpiFigures.from_sums(**by_start.get(s, zero)))
        for s in _period_starts(period, date_from, date_to)
    ]
    totals = {k: sum(getattr(b.figures, k) for b in series) for k in zero}
    return KpiReport(period=period, date_from=date_from, date_to=date_to, timezone=tz_name,
                     totals=KpiFigures.from_sums(**totals), series=series)
