"""Admin reports and exports (SPEC §8.1, §10). Thin: validate the range, read through the cache, or queue.

Domain modules are imported inside the views: this module loads before the app registry is ready.
"""
from __future__ import annotations

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import Query, Router, Status

from api.auth import staff_auth
from api.schemas.reports import (
    ExportIn,
    ExportOut,
    ExportQueuedOut,
    FunnelOut,
    KpisOut,
    ProviderFlagsOut,
    ReportRangeQuery,
    RevenueOut,
    RevenueQuery,
    StarvationOut,
    StarvationQuery,
)
from reports import selectors
from reports.cache import cached_report
from reports.enums import ExportStatus
from reports.exports import CONTENT_TYPES
from reports.ranges import report_range
from reports.selectors import export_file_path, export_get
from reports.services import export_request

router = Router(auth=staff_auth)


def _cached(report: str, params: dict, compute):
    return cached_report(audience="admin", report=report, params=params, compute=compute)


@router.get("/reports/kpis", response={200: KpisOut},
            summary="KPIs of the leads created and the money posted in a date range")
def report_kpis(request: HttpRequest, filters: Query[ReportRangeQuery]):
    rng = report_range(date_from=filters.date_from, date_to=filters.date_to)
    return _cached("kpis", {"range": rng.key()}, lambda: selectors.kpis(rng=rng))


@router.get("/reports/funnel", response={200: FunnelOut},
            summary="Submitted → verified → confirmed → approved → distributed, with conversion per step")
def report_funnel(request: HttpRequest, filters: Query[ReportRangeQuery]):
    rng = report_range(date_from=filters.date_from, date_to=filters.date_to)
    return _cached("funnel", {"range": rng.key()}, lambda: selectors.funnel(rng=rng))


@router.get("/reports/revenue", response={200: RevenueOut},
            summary="Ledger charges, refunds and net by day, level or category (rows sum to the total)")
def report_revenue(request: HttpRequest, filters: Query[RevenueQuery]):
    rng = report_range(date_from=filters.date_from, date_to=filters.date_to)
    return _cached("revenue", {"range": rng.key(), "group_by": filters.group_by},
                   lambda: selectors.revenue(rng=rng, group_by=filters.group_by))


@router.get("/reports/fairness/starvation", response={200: StarvationOut},
            summary="Active, funded subscriptions with no lead for N days while eligible leads went elsewhere")
def report_starvation(request: HttpRequest, filters: Query[StarvationQuery]):
    return _cached("starvation", {"days": filters.days}, lambda: selectors.starvation(days=filters.days))


@router.get("/reports/providers/flags", response=ProviderFlagsOut,
            summary="Providers with their return and reject rates, flagged ones first")
def report_flags(request: HttpRequest):
    return _cached("flags", {}, lambda: selectors.provider_flags())


def export_out(job, *, download_url: str | None) -> dict:
    ready = job.status == ExportStatus.DONE and not job.file_deleted_at
    return {
        "id": job.pk, "report": job.report, "format": job.format, "status": job.status, "progress": job.progress,
        "rows": job.rows, "size_bytes": job.size_bytes, "date_from": job.date_from, "date_to": job.date_to,
        "created_at": job.created_at, "expires_at": job.expires_at,
        "download_url": download_url if ready else None, "error": job.error or None,
    }


def export_file_response(job):
    path = export_file_path(job=job)
    return FileResponse(open(path, "rb"), as_attachment=True, filename=job.download_name,  # noqa: SIM115
                        content_type=CONTENT_TYPES[job.format])


@router.post("/reports/export", response={202: ExportQueuedOut},
             summary="Queue a spreadsheet export of any report, or of leads, assignments or the ledger")
def report_export(request: HttpRequest, payload: ExportIn):
    job = export_request(actor=request.auth, report=payload.report, fmt=payload.format,
                         date_from=payload.date_from, date_to=payload.date_to, params=payload.params)
    return Status(202, {"id": job.pk, "status": job.status})


@router.get("/reports/exports/{export_id}", response={200: ExportOut},
            summary="An export's status and progress; download_url once it is done")
def report_export_status(request: HttpRequest, export_id: int):
    job = export_get(job_id=export_id, user=request.auth, as_admin=True)
    return export_out(job, download_url=reverse("api-v1:admin_report_export_file", args=[job.pk]))


@router.get("/reports/exports/{export_id}/file", response={200: None},
            url_name="admin_report_export_file", summary="Download an export's file")
def report_export_file(request: HttpRequest, export_id: int):
    return export_file_response(export_get(job_id=export_id, user=request.auth, as_admin=True))
