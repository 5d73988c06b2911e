"""The portal's Reports page (SPEC §7, §10): the provider's KPIs by period, an export form and its exports.

Thin: `provider_kpis` reads, `reports.services.export_request` queues (audited), `reports.selectors.export_get`
finds only this provider's own exports (anyone else's is a 404)."""
from __future__ import annotations

from datetime import date

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from hotlead.core.exceptions import ApplicationError, ValidationFailed
from hotlead.distribution.selectors.kpis import provider_kpis
from hotlead.portal.decorators import portal_login_required
from reports.exports import CONTENT_TYPES
from reports.selectors import export_file_path, export_get, exports_for_user
from reports.services import export_request

PERIODS = [("day", "Day"), ("week", "Week"), ("month", "Month")]
EXPORTS = [("kpis", "KPIs by day"), ("leads", "My leads (with contact data)"), ("ledger", "My account history")]


class KpiForm(forms.Form):
    period = forms.ChoiceField(choices=PERIODS, required=False)
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")


class ExportForm(forms.Form):
    report = forms.ChoiceField(choices=EXPORTS)
    format = forms.ChoiceField(choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV (.csv)")])
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")


def _apply_errors(form: forms.Form, exc: ValidationFailed) -> None:
    for problem in (exc.details or {}).get("fields", []):
        form.add_error(problem["field"] if problem["field"] in form.fields else None, problem["message"])


@portal_login_required
@require_http_methods(["GET", "POST"])
def reports_page(request):
    provider = request.provider
    export_form = ExportForm(request.POST or None, prefix="export")
    if request.method == "POST" and export_form.is_valid():
        data = export_form.cleaned_data
        try:
            export_request(actor=request.user, provider=provider, report=data["report"], fmt=data["format"],
                           date_from=data["date_from"], date_to=data["date_to"])
        except ValidationFailed as exc:
            _apply_errors(export_form, exc)
        else:
            messages.success(request, "Your export is being prepared; it appears below when it is ready.")
            return redirect("portal:reports")
    kpi_form = KpiForm(request.GET or None)
    report, status = None, 200
    if kpi_form.is_valid() or not kpi_form.is_bound:
        data = kpi_form.cleaned_data if kpi_form.is_bound else {}
        try:
            report = provider_kpis(provider_id=provider.pk, tz_name=provider.timezone,
                                   period=data.get("period") or "day", date_from=data.get("date_from"),
                                   date_to=data.get("date_to"))
        except ValidationFailed as exc:
            _apply_errors(kpi_form, exc)
            status = 422
    else:
        status = 422
    exports = exports_for_user(user=request.user, limit=20)
    return render(request, "portal/reports.html", {
        "kpi_form": kpi_form, "export_form": export_form, "report": report, "exports": exports,
        "pending": any(e.status in ("queued", "running") for e in exports), "today": date.today(),
    }, status=status)


@portal_login_required
@require_GET
def export_download(request, export_id: int):
    try:
        job = export_get(job_id=export_id, user=request.user, as_admin=False)
        path = export_file_path(job=job)
    except ApplicationError:
        raise Http404("No such export.") from None
    return FileResponse(open(path, "rb"), as_attachment=True, filename=job.download_name,  # noqa: SIM115
                        content_type=CONTENT_TYPES[job.format])
