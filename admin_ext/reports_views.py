"""The console's report pages (SPEC §9, §10): one page per report — a date-range form, a chart (unfold's chart
component), the table, and an Export button that queues the job and polls its progress until the download link.

Thin: `reports.selectors` read (through the brief cache), `reports.services.export_request` queues, and
`reports.selectors.export_get` decides who may see an export (staff: any).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django import forms
from django.contrib import admin
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from hotlead.core.exceptions import ApplicationError, ValidationFailed
from hotlead.core.money import money_format
from reports import selectors
from reports.cache import cached_report
from reports.enums import ExportStatus
from reports.exports import CONTENT_TYPES
from reports.ranges import report_range
from reports.selectors import export_file_path, export_get
from reports.services import export_request

PRIMARY = "var(--color-primary-600)"
BAR_OPTIONS = json.dumps({"responsive": True, "maintainAspectRatio": False,
                          "plugins": {"legend": {"display": True, "position": "bottom", "align": "start"}},
                          "scales": {"x": {"grid": {"display": False}}, "y": {"beginAtZero": True}}})


INPUT_CLASS = "border border-base-200 bg-white rounded-default px-3 py-2 dark:bg-base-900 dark:border-base-700"


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", INPUT_CLASS)


class RangeForm(StyledForm):
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")


class RevenueForm(RangeForm):
    group_by = forms.ChoiceField(choices=[("day", "Day"), ("level", "Level"), ("category", "Category"),
                                          ("source", "Lead source")],
                                 required=False, initial="day", label="Group by")


class StarvationForm(StyledForm):
    days = forms.IntegerField(min_value=1, max_value=365, required=False, initial=7, label="No lead for (days)")


class NoForm(forms.Form):
    pass


@dataclass(frozen=True)
class ReportPage:
    key: str
    title: str
    form_class: type[forms.Form]
    build: Callable[[dict], dict]  # cleaned form data → {"chart", "chart_type", "table", "summary", "params"}
    export_report: str


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.1f}%"


def _range(data: dict):
    return report_range(date_from=data.get("date_from"), date_to=data.get("date_to"))


def _cached(report: str, params: dict, compute):
    return cached_report(audience="admin", report=report, params=params, compute=compute)


def _kpis(data: dict) -> dict:
    rng = _range(data)
    k = _cached("kpis", {"range": rng.key()}, lambda: selectors.kpis(rng=rng))
    steps = ["submitted", "verified", "approved", "rejected", "distributed", "unsold"]
    return {
        "range": rng,
        "chart": {"labels": [s.capitalize() for s in steps],
                  "datasets": [{"label": "Leads created in the range", "data": [k[s] for s in steps],
                                "backgroundColor": PRIMARY}]},
        "table": {"headers": ["Figure", "Value"], "rows": [
            *[[s.capitalize(), f"{k[s]:,}"] for s in steps],
            ["Sell-through", _percent(k["sell_through"])],
            ["Average buyers per lead", f"{k['avg_buyers_per_lead']:.2f}"],
            ["Revenue (charges)", money_format(k["revenue_cents"])],
            ["Refunds", money_format(k["refunds_cents"])],
            ["Net", money_format(k["net_cents"])],
        ]},
    }


def _funnel(data: dict) -> dict:
    rng = _range(data)
    steps = _cached("funnel", {"range": rng.key()}, lambda: selectors.funnel(rng=rng))["steps"]
    return {
        "range": rng,
        "chart": {"labels": [s["step"].capitalize() for s in steps],
                  "datasets": [{"label": "Leads", "data": [s["count"] for s in steps], "backgroundColor": PRIMARY}]},
        "table": {"headers": ["Step", "Leads", "Conversion from the previous step"],
                  "rows": [[s["step"].capitalize(), f"{s['count']:,}", _percent(s["conversion"])] for s in steps]},
    }


def _revenue(data: dict) -> dict:
    rng = _range(data)
    group_by = data.get("group_by") or "day"
    report = _cached("revenue", {"range": rng.key(), "group_by": group_by},
                     lambda: selectors.revenue(rng=rng, group_by=group_by))
    rows, total = report["rows"], report["total"]
    return {
        "range": rng, "params": {"group_by": group_by},
        "chart": {"labels": [r["key"] for r in rows], "datasets": [
            {"label": "Charges ($)", "data": [r["charges_cents"] / 100 for r in rows], "backgroundColor": PRIMARY},
            {"label": "Refunds ($)", "data": [r["refunds_cents"] / 100 for r in rows], "backgroundColor": "#f59e0b"},
        ]},
        "table": {"headers": [group_by.capitalize(), "Assignments", "Charges", "Refunds", "Net"], "rows": [
            *[[r["key"], f"{r['assignments']:,}", money_format(r["charges_cents"]), money_format(r["refunds_cents"]),
               money_format(r["net_cents"])] for r in rows],
            ["Total", f"{total['assignments']:,}", money_format(total["charges_cents"]),
             money_format(total["refunds_cents"]), money_format(total["net_cents"])],
        ]},
    }


def _starvation(data: dict) -> dict:
    days = data.get("days") or selectors.STARVATION_DEFAULT_DAYS
    items = _cached("starvation", {"days": days}, lambda: selectors.starvation(days=days))["items"]
    top = items[:20]
    return {
        "params": {"days": days},
        "chart": {"labels": [f"{i['company_name']} · {i['level']}" for i in top],
                  "datasets": [{"label": "Eligible leads missed", "data": [i["eligible_leads_missed"] for i in top],
                                "backgroundColor": "#f59e0b"}]},
        "table": {"headers": ["Company", "Subscription", "Level", "Last lead", "Eligible leads missed"], "rows": [
            [i["company_name"], f"#{i['subscription_id']}", i["level"],
             i["last_assigned_at"].strftime("%Y-%m-%d %H:%M") if i["last_assigned_at"] else "never",
             f"{i['eligible_leads_missed']:,}"] for i in items]},
        "empty": f"No active, funded subscription went {days} days without a lead while eligible leads existed.",
    }


def _flags(data: dict) -> dict:
    report = _cached("flags", {}, lambda: selectors.provider_flags())
    items, policy = report["items"], report["policy"]
    top = items[:20]
    return {
        "chart": {"labels": [i["company_name"] for i in top], "datasets": [
            {"label": "Return rate (%)", "data": [round(i["return_rate"] * 100, 2) for i in top],
             "backgroundColor": "#ef4444"},
            {"label": "Reject rate (%)", "data": [round(i["reject_rate"] * 100, 2) for i in top],
             "backgroundColor": "#f59e0b"},
        ]},
        "summary": (f"Flagged when the return rate exceeds {policy['return_max_percent']}% of the last "
                    f"{policy['return_window']} assignments, or the reject rate exceeds "
                    f"{policy['reject_max_percent']}% of the last {policy['reject_window']}."),
        "table": {"headers": ["Company", "Assignments", "Return rate", "Reject rate", "Flagged", "Reason"], "rows": [
            [i["company_name"], f"{i['assignments']:,}", _percent(i["return_rate"]), _percent(i["reject_rate"]),
             "yes" if i["flagged"] else "no", i["flagged_reason"] or "—"] for i in items]},
        "empty": "No provider has had an assignment yet.",
    }


PAGES: dict[str, ReportPage] = {
    "kpis": ReportPage("kpis", "KPIs", RangeForm, _kpis, "kpis"),
    "funnel": ReportPage("funnel", "Funnel", RangeForm, _funnel, "funnel"),
    "revenue": ReportPage("revenue", "Revenue", RevenueForm, _revenue, "revenue"),
    "starvation": ReportPage("starvation", "Fairness: starving subscriptions", StarvationForm, _starvation,
                             "starvation"),
    "flags": ReportPage("flags", "Flagged providers", NoForm, _flags, "flags"),
}


def report_view(key: str):
    page = PAGES[key]

    @require_GET
    def view(request: HttpRequest):
        form = page.form_class(request.GET or None)
        result, status = None, 200
        if form.is_bound and not form.is_valid():
            status = 422
        else:
            data = form.cleaned_data if form.is_bound else {}
            try:
                result = page.build(data)
            except ValidationFailed as exc:
                for problem in (exc.details or {}).get("fields", []):
                    name = problem["field"] if problem["field"] in form.fields else None
                    form.add_error(name, problem["message"])
                status = 422
        rng = result.get("range") if result else None
        context = {
            **admin.site.each_context(request),
            "title": page.title, "page": page, "form": form, "result": result,
            "chart": json.dumps(result["chart"]) if result else None, "chart_options": BAR_OPTIONS,
            "export": {
                "report": page.export_report,
                "date_from": rng.date_from.isoformat() if rng else "",
                "date_to": rng.date_to.isoformat() if rng else "",
                "params": json.dumps(result.get("params", {}) if result else {}),
            },
            "export_url": reverse("admin:reports_export_start"),
            "exports_url": reverse("admin:reports_exportjob_changelist"),
            "index_url": reverse("admin:reports_index"),
        }
        request.current_app = admin.site.name
        return TemplateResponse(request, "admin_ext/report_page.html", context, status=status)

    view.__name__ = f"report_{key}"
    return view


def _status_json(job) -> dict:
    ready = job.status == ExportStatus.DONE and not job.file_deleted_at
    return {"id": job.pk, "status": job.status, "progress": job.progress, "rows": job.rows,
            "size_bytes": job.size_bytes, "error": job.error or None,
            "status_url": reverse("admin:reports_export_status", args=[job.pk]),
            "download_url": reverse("admin:reports_export_download", args=[job.pk]) if ready else None}


@require_POST
def export_start(request: HttpRequest):
    try:
        params = json.loads(request.POST.get("params") or "{}")
        job = export_request(actor=request.user, report=request.POST.get("report", ""),
                             fmt=request.POST.get("format", ""), date_from=_date(request.POST.get("date_from")),
                             date_to=_date(request.POST.get("date_to")), params=params)
    except (ApplicationError, ValueError) as exc:
        body = exc.as_body() if isinstance(exc, ApplicationError) else {"error": {"code": ValidationFailed.code,
                                                                                   "message": str(exc)}}
        return JsonResponse(body, status=getattr(exc, "http_status", 422))
    return JsonResponse(_status_json(job), status=202)


def _date(value: str | None):
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed.for_field("date_from", "Not a date (YYYY-MM-DD).") from None


@require_GET
def export_status(request: HttpRequest, export_id: int):
    try:
        job = export_get(job_id=export_id, user=request.user, as_admin=True)
    except ApplicationError as exc:
        return JsonResponse(exc.as_body(), status=exc.http_status)
    return JsonResponse(_status_json(job))


@require_GET
def export_download(request: HttpRequest, export_id: int):
    try:
        job = export_get(job_id=export_id, user=request.user, as_admin=True)
        path = export_file_path(job=job)
    except ApplicationError:
        raise Http404("No such export file.") from None
    return FileResponse(open(path, "rb"), as_attachment=True, filename=job.download_name,  # noqa: SIM115
                        content_type=CONTENT_TYPES[job.format])


def report_urls(site) -> list:
    """The console URLs of the report pages and exports (admin_ext.site.OTPAdminSite.extra_urls)."""
    return [
        *[path(f"reports/{key}/", site.admin_view(report_view(key)), name=f"reports_{key}") for key in PAGES],
        path("reports/export/", site.admin_view(export_start), name="reports_export_start"),
        path("reports/exports/<int:export_id>/status/", site.admin_view(export_status), name="reports_export_status"),
        path("reports/exports/<int:export_id>/download/", site.admin_view(export_download),
             name="reports_export_download"),
    ]
