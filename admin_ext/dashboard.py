"""The console's dashboard (SPEC §9): today's KPI cards, built from the small reads below.

Each read is one aggregate query over the domain models; `dashboard_callback` (unfold's
DASHBOARD_CALLBACK) gathers them and `admin_ext.components` turns them into cards.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from hotlead.billing.enums import EntryKind
from hotlead.billing.models import LedgerEntry
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead
from hotlead.providers.models import Provider
from hotlead.refunds.enums import ReportStatus
from hotlead.refunds.models import BadLeadReport

logger = logging.getLogger(__name__)


def day_start(*, now: datetime | None = None) -> datetime:
    """Midnight of the current day in the site's time zone (settings.TIME_ZONE)."""
    local = timezone.localtime(now or timezone.now())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def leads_submitted_by_status(*, since: datetime) -> dict[str, int]:
    """Leads created since `since`, counted by their current status (every status present, 0 if none)."""
    counts = {status.value: 0 for status in LeadStatus}
    rows = Lead.objects.filter(created_at__gte=since).values("status").annotate(n=Count("id")).order_by()
    for row in rows:
        counts[row["status"]] = row["n"]
    return counts


def leads_approved_count(*, since: datetime) -> int:
    return Lead.objects.filter(approved_at__gte=since).count()


def leads_awaiting_review_count() -> int:
    return Lead.objects.filter(status=LeadStatus.PENDING_REVIEW).count()


def revenue_cents(*, since: datetime) -> dict[str, int]:
    """Charges (gross revenue) and refunds booked since `since`, as positive cents, and the net."""
    totals = LedgerEntry.objects.filter(created_at__gte=since).aggregate(
        charged=Sum("amount_cents", filter=Q(kind=EntryKind.CHARGE)),
        refunded=Sum("amount_cents", filter=Q(kind=EntryKind.REFUND)),
        charges=Count("id", filter=Q(kind=EntryKind.CHARGE)),
    )
    charged = -(totals["charged"] or 0)
    refunded = totals["refunded"] or 0
    return {"charged": charged, "refunded": refunded, "net": charged - refunded, "charges": totals["charges"]}


def job_queue_depth() -> int | None:
    """Jobs waiting in the broker (ORM or Redis); None when the broker cannot be asked."""
    from hotlead.ops.selectors import queue_depth

    try:
        return queue_depth()
    except Exception:  # noqa: BLE001 - a broker outage must not take the dashboard down
        logger.warning("queue depth unavailable", exc_info=True)
        return None


def job_worker_seen_seconds() -> float | None:
    """Seconds since a job worker's last heartbeat; None if none was ever seen."""
    from hotlead.ops.selectors import worker_last_seen_seconds

    return worker_last_seen_seconds()


def dead_letters_open_count() -> int:
    from hotlead.ops.selectors import dead_letter_open_count

    return dead_letter_open_count()


def bad_lead_reports_pending_count() -> int:
    return BadLeadReport.objects.filter(status=ReportStatus.PENDING).count()


def providers_flagged_count() -> int:
    return Provider.objects.filter(flagged=True).count()


def leads_per_day(*, days: int, now: datetime | None = None) -> list[tuple[str, int]]:
    """Leads submitted per day over the last `days` days (oldest first), zero-filled."""
    from django.db.models.functions import TruncDate

    start = day_start(now=now) - timedelta(days=days - 1)
    rows = (
        Lead.objects.filter(created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day").annotate(n=Count("id")).order_by()
    )
    by_day = {row["day"]: row["n"] for row in rows}
    return [
        ((start + timedelta(days=offset)).date().isoformat(), by_day.get((start + timedelta(days=offset)).date(), 0))
        for offset in range(days)
    ]


@dataclass(frozen=True)
class TodayKpis:
    since: datetime
    submitted_by_status: dict[str, int]
    approved: int
    awaiting_review: int
    revenue: dict[str, int]
    queue_depth: int | None
    worker_seen_seconds: float | None
    dead_letters_open: int
    bad_leads_pending: int
    providers_flagged: int
    leads_per_day: list[tuple[str, int]] = field(default_factory=list)

    @property
    def submitted(self) -> int:
        return sum(self.submitted_by_status.values())


def kpis_today(*, now: datetime | None = None) -> TodayKpis:
    since = day_start(now=now)
    return TodayKpis(
        since=since,
        submitted_by_status=leads_submitted_by_status(since=since),
        approved=leads_approved_count(since=since),
        awaiting_review=leads_awaiting_review_count(),
        revenue=revenue_cents(since=since),
        queue_depth=job_queue_depth(),
        worker_seen_seconds=job_worker_seen_seconds(),
        dead_letters_open=dead_letters_open_count(),
        bad_leads_pending=bad_lead_reports_pending_count(),
        providers_flagged=providers_flagged_count(),
        leads_per_day=leads_per_day(days=14, now=now),
    )


def dashboard_callback(request, context):
    from admin_ext.components import dashboard_cards, leads_chart, status_rows

    kpis = kpis_today()
    context.update({
        "kpis": kpis,
        "kpi_cards": dashboard_cards(kpis),
        "status_rows": status_rows(kpis),
        "leads_chart": leads_chart(kpis),
    })
    return context
