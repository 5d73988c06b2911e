"""Console pages that are not a model's: the reports index.

The index lists what exists right now — report pages in the console, report endpoints of the API,
and every console list that exports to a spreadsheet — by asking the URL configuration and the
admin registry, so it never links to something that is not there.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve, reverse
from import_export.admin import ExportMixin

from admin_ext.links import admin_url


@dataclass(frozen=True)
class ReportSpec:
    key: str
    title: str
    description: str
    console_url_name: str  # the console page, when the reports app registers it
    api_path: str  # under /api/v1


# SPEC §10: the admin reports. Each is shown with whatever way to open it exists.
REPORTS: tuple[ReportSpec, ...] = (
    ReportSpec("kpis", "KPIs", "Submitted, verified, approved, rejected, distributed, unsold, sell-through, "
               "average buyers per lead, revenue, refunds, net.", "admin:reports_kpis", "/admin/reports/kpis"),
    ReportSpec("funnel", "Funnel", "Conversion per step from submission to sale.",
               "admin:reports_funnel", "/admin/reports/funnel"),
    ReportSpec("revenue", "Revenue", "Revenue by day, level and category.",
               "admin:reports_revenue", "/admin/reports/revenue"),
    ReportSpec("starvation", "Fairness and starvation", "Active, funded subscriptions that got no lead for N days "
               "while eligible leads existed.", "admin:reports_starvation", "/admin/reports/fairness/starvation"),
    ReportSpec("flags", "Flagged providers", "Providers whose report or reject rate is above the thresholds.",
               "admin:reports_flags", "/admin/reports/providers/flags"),
    ReportSpec("exports", "Report exports", "Exports built in the background as .xlsx or .csv, by date range.",
               "admin:reports_exportjob_changelist", "/admin/reports/export"),
)


def _api_path_exists(api_path: str) -> bool:
    """True when a real API operation answers at /api/v1<api_path> (not the catch-all 404)."""
    try:
        match = resolve(f"/api/v1{api_path}")
    except Resolver404:
        return False
    return match.url_name not in (None, "") and match.route.startswith("api/v1/") and "<path:" not in match.route \
        and match.func.__module__.split(".")[0] == "ninja"


def available_reports() -> list[dict]:
    rows = []
    for spec in REPORTS:
        console = admin_url(spec.console_url_name)
        api = f"/api/v1{spec.api_path}" if _api_path_exists(spec.api_path) else None
        if console or api:
            rows.append({"key": spec.key, "title": spec.title, "description": spec.description,
                         "console_url": console, "api_path": api})
    return rows


def spreadsheet_exports(request) -> list[dict]:
    """Console lists with an export button (django-import-export), for the staff user's permissions."""
    rows = []
    for model, model_admin in admin.site._registry.items():
        if not isinstance(model_admin, ExportMixin) or not model_admin.has_view_permission(request):
            continue
        opts = model._meta
        export_url = admin_url(f"admin:{opts.app_label}_{opts.model_name}_export")
        changelist_url = admin_url(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        if export_url and changelist_url:
            rows.append({"title": str(opts.verbose_name_plural).capitalize(), "export_url": export_url,
                         "changelist_url": changelist_url})
    return sorted(rows, key=lambda row: row["title"])


def reports_index(request):
    context = {
        **admin.site.each_context(request),
        "title": "Reports",
        "subtitle": None,
        "reports": available_reports(),
        "exports": spreadsheet_exports(request),
        "dashboard_url": reverse("admin:index"),
    }
    request.current_app = admin.site.name
    return TemplateResponse(request, "admin_ext/reports_index.html", context)
