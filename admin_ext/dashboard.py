"""The console's dashboard (SPEC §9): unfold's DASHBOARD_CALLBACK.

Every read lives in `reports.dashboard` (SQL aggregates); this module only gathers them for the template, and
`admin_ext.components` turns them into cards and charts. The sidebar badges name the counts below.
"""
from __future__ import annotations

from datetime import datetime

from admin_ext.components import STACKED, dashboard_cards, leads_by_status_chart, revenue_by_level_chart, status_rows
from admin_ext.links import admin_url
from reports.dashboard import (  # noqa: F401 - the sidebar's BADGES name these by dotted path
    Dashboard,
    bad_lead_reports_pending_count,
    dashboard,
    day_start,
    dead_letters_open_count,
    leads_awaiting_review_count,
    providers_flagged_count,
)

TodayKpis = Dashboard  # the name the cards were written against


def kpis_today(*, now: datetime | None = None) -> Dashboard:
    return dashboard(now=now)


def dashboard_callback(request, context):
    kpis = kpis_today()
    context.update({
        "kpis": kpis,
        "kpi_cards": dashboard_cards(kpis),
        "status_rows": status_rows(kpis),
        "leads_chart": leads_by_status_chart(kpis),
        "revenue_chart": revenue_by_level_chart(kpis),
        "report_links": report_links(),
        "stacked_options": STACKED,
    })
    return context


def report_links() -> dict[str, str | None]:
    return {key: admin_url(f"admin:reports_{key}") for key in ("kpis", "funnel", "revenue", "starvation", "flags")}
