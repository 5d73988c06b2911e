"""The console dashboard's reads (SPEC §9): today's counts and money, the job queue, the 14-day charts."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead
from hotlead.ops.selectors import dead_letter_open_count, queue_depth, worker_last_seen_seconds
from hotlead.providers.models import Provider
from hotlead.refunds.enums import ReportStatus
from hotlead.refunds.models import BadLeadReport
from reports.cache import cached_report
from reports.ranges import DateRange
from reports.selectors import (
    STARVATION_DEFAULT_DAYS,
    UNLINKED_KEY,
    _as_date,
    _local_date_sql,
    _ratio,
    _rows,
    _table,
    lead_counts,
    ledger_totals,
    site_tz_name,
    starvation,
)

logger = logging.getLogger(__name__)


def day_start(*, now: datetime | None = None) -> datetime:
    """Midnight of the current day in the site's time zone."""
    local = timezone.localtime(now or timezone.now(), timezone.get_default_timezone())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def leads_by_status_since(*, since: datetime) -> dict[str, int]:
    counts = {status.value: 0 for status in LeadStatus}
    sql = f"SELECT status, count(*) FROM {_table('leads.Lead')} WHERE created_at >= %(since)s GROUP BY status"
    for status, n in _rows(sql, {"since": since}):
        counts[status] = int(n)
    return counts


def leads_approved_count(*, since: datetime) -> int:
    return Lead.objects.filter(approved_at__gte=since).count()


def leads_awaiting_review_count() -> int:
    return Lead.objects.filter(status=LeadStatus.PENDING_REVIEW).count()


def bad_lead_reports_pending_count() -> int:
    return BadLeadReport.objects.filter(status=ReportStatus.PENDING).count()


def providers_flagged_count() -> int:
    return Provider.objects.filter(flagged=True).count()


def dead_letters_open_count() -> int:
    return dead_letter_open_count()


def job_queue_depth() -> int | None:
    """Jobs waiting in the broker; None when the broker cannot be asked (the dashboard says so)."""
    try:
        return queue_depth()
    except Exception:  # noqa: BLE001 - a broker outage must not take the dashboard down
        logger.warning("queue depth unavailable", exc_info=True)
        return None


def job_worker_seen_seconds() -> float | None:
    return worker_last_seen_seconds()


def leads_per_day_by_status(*, rng: DateRange) -> list[dict]:
    """[{day, status, count}] of the leads created in the range (sparse; frames zero-fill)."""
    sql = f"""
SELECT {_local_date_sql("created_at")} AS day, status, count(*)
FROM {_table('leads.Lead')} WHERE created_at >= %(start)s AND created_at < %(end)s
GROUP BY 1, 2 ORDER BY 1, 2"""
    return [{"day": _as_date(day), "status": status, "count": int(n)}
            for day, status, n in _rows(sql, {"tz": site_tz_name(), "start": rng.start, "end": rng.end})]


def revenue_per_day_by_level(*, rng: DateRange) -> list[dict]:
    """[{day, level, charges_cents}] of the charges posted in the range (sparse; frames zero-fill)."""
    sql = f"""
SELECT {_local_date_sql("e.created_at")} AS day, coalesce(l.slug, '{UNLINKED_KEY}'),
       -sum(e.amount_cents)
FROM {_table('billing.LedgerEntry')} e
LEFT JOIN {_table('distribution.Assignment')} a ON a.charge_entry_id = e.id
LEFT JOIN {_table('levels.CompetitionLevel')} l ON l.id = a.level_id
WHERE e.kind = 'charge' AND e.created_at >= %(start)s AND e.created_at < %(end)s
GROUP BY 1, 2 ORDER BY 1, 2"""
    return [{"day": _as_date(day), "level": level, "charges_cents": int(cents)}
            for day, level, cents in _rows(sql, {"tz": site_tz_name(), "start": rng.start, "end": rng.end})]


@dataclass(frozen=True)
class Dashboard:
    since: datetime
    today: date
    submitted_by_status: dict[str, int]
    approved: int
    awaiting_review: int
    revenue: dict[str, int]
    queue_depth: int | None
    worker_seen_seconds: float | None
    dead_letters_open: int
    bad_leads_pending: int
    providers_flagged: int
    starving: int
    chart_range: DateRange
    sell_through: float
    leads_by_day: list[dict]
    revenue_by_day: list[dict]

    @property
    def submitted(self) -> int:
        return sum(self.submitted_by_status.values())

    @property
    def leads_per_day(self) -> list[tuple[str, int]]:
        totals: dict[date, int] = {}
        for row in self.leads_by_day:
            totals[row["day"]] = totals.get(row["day"], 0) + row["count"]
        return [(day.isoformat(), totals.get(day, 0)) for day in self.chart_range.days]


DASHBOARD_CHART_DAYS = 14


def _starving_count(*, now: datetime | None) -> int:
    """The dashboard's starving card reads the traces of a week: cached briefly like the report itself."""
    if now is not None:
        return len(starvation(now=now)["items"])

    report = cached_report(audience="admin", report="starvation", params={"days": STARVATION_DEFAULT_DAYS},
                           compute=lambda: starvation(days=STARVATION_DEFAULT_DAYS))
    return len(report["items"])


def dashboard(*, now: datetime | None = None) -> Dashboard:
    since = day_start(now=now)
    today = since.date()
    chart = DateRange(date_from=today - timedelta(days=DASHBOARD_CHART_DAYS - 1), date_to=today)
    money = ledger_totals(rng=DateRange(date_from=today, date_to=today))
    chart_counts = lead_counts(rng=chart)
    sold, unsold = chart_counts["distributed"], chart_counts["unsold"]
    return Dashboard(
        since=since, today=today,
        submitted_by_status=leads_by_status_since(since=since),
        approved=leads_approved_count(since=since),
        awaiting_review=leads_awaiting_review_count(),
        revenue={"charged": money["charges_cents"], "refunded": money["refunds_cents"], "net": money["net_cents"],
                 "charges": money["charges"]},
        queue_depth=job_queue_depth(),
        worker_seen_seconds=job_worker_seen_seconds(),
        dead_letters_open=dead_letters_open_count(),
        bad_leads_pending=bad_lead_reports_pending_count(),
        providers_flagged=providers_flagged_count(),
        starving=_starving_count(now=now),
        chart_range=chart,
        sell_through=_ratio(sold, sold + unsold),
        leads_by_day=leads_per_day_by_status(rng=chart),
        revenue_by_day=revenue_per_day_by_level(rng=chart),
    )
