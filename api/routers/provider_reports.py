"""The provider's exports (SPEC §8.1, §10): its own KPIs, leads and ledger only. Thin: one call each.

`GET /provider/reports/kpis` lives in provider_leads.py. Another user's export is a 404.
"""
from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Status

from api.auth import provider_auth
from api.routers.admin_reports import export_file_response, export_out
from api.schemas.reports import ExportOut, ExportQueuedOut, ProviderExportIn
from reports.selectors import export_get
from reports.services import export_request

router = Router(auth=provider_auth)


@router.post("/reports/export", response={202: ExportQueuedOut},
             summary="Queue a spreadsheet of the provider's KPIs, leads (with contact data) or ledger")
def provider_export(request: HttpRequest, payload: ProviderExportIn):
    job = export_request(actor=request.auth.user, provider=request.auth, report=payload.report, fmt=payload.format,
                         date_from=payload.date_from, date_to=payload.date_to)
    return Status(202, {"id": job.pk, "status": job.status})


@router.get("/reports/exports/{export_id}", response={200: ExportOut},
            summary="One of the provider's exports: status, progress, download_url once done")
def provider_export_status(request: HttpRequest, export_id: int):
    job = export_get(job_id=export_id, user=request.auth.user, as_admin=False)
    return export_out(job, download_url=reverse("api-v1:provider_report_export_file", args=[job.pk]))


@router.get("/reports/exports/{export_id}/file", response={200: None},
            url_name="provider_report_export_file", summary="Download one of the provider's exports")
def provider_export_file(request: HttpRequest, export_id: int):
    return export_file_response(export_get(job_id=export_id, user=request.auth.user, as_admin=False))
