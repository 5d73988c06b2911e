"""Presentation pieces of the console: KPI cards and charts built from the dashboard's reads.

No queries here: `admin_ext.dashboard` reads, this module formats (money, links, tones).
A link is only given when its admin page exists, so a card never points at a 404.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from admin_ext.links import admin_url
from hotlead.core.money import money_format
from hotlead.leads.enums import LeadStatus
from hotlead.ops.selectors import worker_heartbeat_max_age_seconds
from reports.dashboard import Dashboard as TodayKpis
from reports.frames import days_by_series


@dataclass(frozen=True)
class KpiCard:
    key: str
    title: str
    value: str
    footer: str = ""
    link: str | None = None
    tone: str = "normal"  # "normal" | "attention"


def worker_alive(kpis: TodayKpis) -> bool:
    seen = kpis.worker_seen_seconds
    return seen is not None and seen <= worker_heartbeat_max_age_seconds()


def worker_footer(kpis: TodayKpis) -> str:
    if kpis.queue_depth is None:
        return "job broker not reachable"
    seen = kpis.worker_seen_seconds
    if seen is None:
        return "no job worker has ever reported: is qcluster running?"
    age = f"{int(seen)} s" if seen < 120 else f"{int(seen // 60)} min"
    return f"job worker seen {age} ago" if worker_alive(kpis) else f"job worker silent for {age}"


def dashboard_cards(kpis: TodayKpis) -> list[KpiCard]:
    since = kpis.since.date().isoformat()
    queue = "—" if kpis.queue_depth is None else f"{kpis.queue_depth:,}"
    return [
        KpiCard(
            key="submitted", title="Leads submitted today", value=f"{kpis.submitted:,}",
            footer=f"{kpis.submitted_by_status[LeadStatus.PENDING_VERIFICATION]:,} still unverified",
            link=admin_url("admin:leads_lead_changelist", created_at__gte=since),
        ),
        KpiCard(
            key="awaiting_review", title="Awaiting review", value=f"{kpis.awaiting_review:,}",
            footer="all pending_review leads",
            link=admin_url("admin:leads_lead_changelist", status__exact=LeadStatus.PENDING_REVIEW),
            tone="attention" if kpis.awaiting_review else "normal",
        ),
        KpiCard(
            key="approved", title="Approved today", value=f"{kpis.approved:,}",
            footer=f"{kpis.submitted_by_status[LeadStatus.REJECTED]:,} of today's leads rejected",
            link=admin_url("admin:leads_lead_changelist", approved_at__gte=since),
        ),
        KpiCard(
            key="revenue", title="Revenue today", value=money_format(kpis.revenue["charged"]),
            footer=f"{kpis.revenue['charges']:,} charges · refunds {money_format(kpis.revenue['refunded'])} · "
                   f"net {money_format(kpis.revenue['net'])}",
            link=admin_url("admin:billing_ledgerentry_changelist", kind__exact="charge"),
        ),
        KpiCard(
            key="queue_depth", title="Jobs waiting", value=queue, footer=worker_footer(kpis),
            link=admin_url("admin:django_q_ormq_changelist"),
            tone="attention" if kpis.queue_depth is None or not worker_alive(kpis) else "normal",
        ),
        KpiCard(
            key="dead_letters", title="Failed jobs (open)", value=f"{kpis.dead_letters_open:,}",
            footer="dead-letter queue, waiting for retry or resolve",
            link=admin_url("admin:ops_deadletter_changelist", status__exact="open"),
            tone="attention" if kpis.dead_letters_open else "normal",
        ),
        KpiCard(
            key="bad_leads", title="Bad-lead reports pending", value=f"{kpis.bad_leads_pending:,}",
            footer="refund decisions to make",
            link=admin_url("admin:refunds_badleadreport_changelist", status__exact="pending"),
            tone="attention" if kpis.bad_leads_pending else "normal",
        ),
        KpiCard(
            key="flagged", title="Flagged providers", value=f"{kpis.providers_flagged:,}",
            footer="return or reject rate above the thresholds",
            link=admin_url("admin:reports_flags")
            or admin_url("admin:providers_provider_changelist", flagged__exact="1"),
            tone="attention" if kpis.providers_flagged else "normal",
        ),
        KpiCard(
            key="starving", title="Starving subscriptions", value=f"{kpis.starving:,}",
            footer="active, funded, no lead for 7 days while eligible leads went elsewhere",
            link=admin_url("admin:reports_starvation"),
            tone="attention" if kpis.starving else "normal",
        ),
        KpiCard(
            key="sell_through", title="Sell-through, last 14 days", value=f"{kpis.sell_through * 100:.1f}%",
            footer="distributed ÷ (distributed + unsold), leads created in the last 14 days",
            link=admin_url("admin:reports_funnel"),
        ),
    ]


def status_rows(kpis: TodayKpis) -> dict:
    """Today's leads by status, as an unfold table."""
    return {
        "headers": ["Status", "Leads today"],
        "rows": [[label, f"{kpis.submitted_by_status[value]:,}"] for value, label in LeadStatus.choices],
    }


STATUS_COLORS = {
    "pending_verification": "var(--color-base-300)", "verified": "var(--color-base-400)",
    "pending_review": "var(--color-primary-300)", "approved": "var(--color-primary-400)",
    "rejected": "#ef4444", "distributed": "var(--color-primary-600)", "unsold": "#f59e0b", "expired": "#9ca3af",
}
LEVEL_COLORS = ["var(--color-primary-700)", "var(--color-primary-500)", "var(--color-primary-300)", "#f59e0b",
                "#10b981", "#6366f1"]
STACKED = json.dumps({"responsive": True, "maintainAspectRatio": False,
                      "plugins": {"legend": {"display": True, "position": "bottom", "align": "start"}},
                      "scales": {"x": {"stacked": True, "grid": {"display": False}},
                                 "y": {"stacked": True, "beginAtZero": True, "grid": {"display": True}}}})


def leads_by_status_chart(kpis: TodayKpis) -> str:
    """Chart.js data for unfold's bar chart: leads created per day by their status, zero-filled (pandas)."""
    statuses = [value for value, _ in LeadStatus.choices]
    labels, series = days_by_series(rows=kpis.leads_by_day, days=kpis.chart_range.days, series_field="status",
                                    value_field="count", series=statuses)
    labels_by_value = dict(LeadStatus.choices)
    return json.dumps({
        "labels": [day[5:] for day in labels],
        "datasets": [{"label": labels_by_value[s], "data": series[s], "backgroundColor": STATUS_COLORS[s]}
                     for s in statuses if any(series[s])],
    })


def revenue_by_level_chart(kpis: TodayKpis) -> str:
    """Chart.js data: charges per day by level (dollars), zero-filled."""
    labels, series = days_by_series(rows=kpis.revenue_by_day, days=kpis.chart_range.days, series_field="level",
                                    value_field="charges_cents")
    return json.dumps({
        "labels": [day[5:] for day in labels],
        "datasets": [{"label": level, "data": [c / 100 for c in values],
                      "backgroundColor": LEVEL_COLORS[i % len(LEVEL_COLORS)]}
                     for i, (level, values) in enumerate(sorted(series.items()))],
    })


def leads_chart(kpis: TodayKpis) -> str:
    """Chart.js data (JSON) for unfold's bar chart: leads submitted per day, last 14 days."""
    return json.dumps({
        "labels": [day[5:] for day, _ in kpis.leads_per_day],
        "datasets": [{
            "label": "Leads submitted",
            "data": [count for _, count in kpis.leads_per_day],
            "backgroundColor": "var(--color-primary-600)",
        }],
    })
