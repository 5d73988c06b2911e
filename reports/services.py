"""Export jobs (SPEC §10, §11): request one (audited, queued), build it in the background, clean up expired files."""
from __future__ import annotations

import contextlib
import logging
import secrets
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from hotlead.core.exceptions import ValidationFailed
from hotlead.core.services import audit_record
from hotlead.ops.jobs import job_enqueue
from hotlead.providers.models import Provider
from reports.enums import ADMIN_REPORTS, PROVIDER_REPORTS, ExportFormat, ExportStatus
from reports.exports import write_export
from reports.lock_objects import export_job_lock
from reports.models import ExportJob
from reports.ranges import DateRange, report_range
from reports.selectors import GROUPS, STARVATION_DEFAULT_DAYS
from reports.sources import source_for

if TYPE_CHECKING:
    from hotlead.accounts.models import User
    from hotlead.providers.models import Provider

logger = logging.getLogger(__name__)

EXPORT_JOB = "reports.tasks.export_run_job"
PROGRESS_EVERY_SECONDS = 1.0


def exports_root() -> Path:
    return Path(settings.EXPORTS_ROOT)


def export_stale_seconds() -> int:
    return int(settings.HOTLEAD.get("EXPORT_STALE_SECONDS", 30))


def export_retention_days() -> int:
    return int(settings.HOTLEAD.get("EXPORT_RETENTION_DAYS", 7))


def _clean_params(*, report: str, params: dict | None) -> dict:
    params = dict(params or {})
    clean: dict = {}
    if report == "revenue":
        group_by = params.get("group_by", "day")
        if group_by not in GROUPS:
            raise ValidationFailed.for_field("params.group_by", f"Choose one of: {', '.join(GROUPS)}.")
        clean["group_by"] = group_by
    if report == "starvation":
        try:
            days = int(params.get("days", STARVATION_DEFAULT_DAYS))
        except (TypeError, ValueError):
            raise ValidationFailed.for_field("params.days", "A whole number of days.") from None
        if not 1 <= days <= 365:
            raise ValidationFailed.for_field("params.days", "Choose between 1 and 365 days.")
        clean["days"] = days
    return clean


@transaction.atomic
def export_request(*, actor: User | None, report: str, fmt: str, date_from: date | None = None,
                   date_to: date | None = None, params: dict | None = None,
                   provider: Provider | None = None) -> ExportJob:
    """Queue an export for `actor` (a provider's: its own rows only). Audit-logged; the job runs after commit."""
    allowed = PROVIDER_REPORTS if provider is not None else ADMIN_REPORTS
    if report not in allowed:
        raise ValidationFailed.for_field("report", f"Choose one of: {', '.join(allowed)}.")
    if fmt not in ExportFormat.values:
        raise ValidationFailed.for_field("format", f"Choose one of: {', '.join(ExportFormat.values)}.")
    rng = report_range(date_from=date_from, date_to=date_to)
    clean = _clean_params(report=report, params=params)
    job = ExportJob.objects.create(
        requested_by=actor, provider=provider, report=report, format=fmt, date_from=rng.date_from,
        date_to=rng.date_to, params=clean, expires_at=timezone.now() + timedelta(days=export_retention_days()),
    )
    audit_record(action="report.export", actor=actor, obj=job,
                 changes={"report": report, "format": fmt, "date_from": rng.date_from.isoformat(),
                          "date_to": rng.date_to.isoformat(), "params": clean,
                          **({"provider": provider.pk} if provider is not None else {})})
    job_enqueue(EXPORT_JOB, job.pk)
    return job


def _claim(job_id: int) -> ExportJob | None:
    """queued (or a run a killed worker left `running`) → running; None when there is nothing to do."""
    with transaction.atomic():
        job = export_job_lock(job_id=job_id)
        if job is None or job.status in (ExportStatus.DONE, ExportStatus.FAILED):
            return None
        now = timezone.now()
        if job.status == ExportStatus.RUNNING and job.heartbeat_at and \
                job.heartbeat_at >= now - timedelta(seconds=export_stale_seconds()):
            # the broker handed the task out again (it outlived Q_CLUSTER["retry"]) while it still runs
            return None
        job.status, job.started_at, job.heartbeat_at, job.progress, job.error = (ExportStatus.RUNNING, now, now,
                                                                                 0.0, "")
        job.save(update_fields=["status", "started_at", "heartbeat_at", "progress", "error"])
        return job


def _export_build(job: ExportJob) -> tuple[int, str, Path]:
    provider = Provider.objects.get(pk=job.provider_id) if job.provider_id else None
    source = source_for(report=job.report, rng=DateRange(job.date_from, job.date_to), params=job.params,
                        provider=provider)
    total = source.count()
    name = f"{job.pk}-{secrets.token_hex(8)}.{job.format}"
    path = exports_root() / name
    last = [time.monotonic()]

    def progress(done: int) -> None:
        if time.monotonic() - last[0] >= PROGRESS_EVERY_SECONDS:
            last[0] = time.monotonic()
            ExportJob.objects.filter(pk=job.pk).update(progress=min(done / total, 0.99) if total else 0.0, rows=done,
                                                       heartbeat_at=timezone.now())

    rows = write_export(source=source, fmt=job.format, path=path, progress=progress)
    return rows, name, path


def export_run(*, job_id: int) -> ExportJob | None:
    """Build the file of one export job: rows streamed from the database, progress stored as it goes.

    Idempotent: a finished job is left alone; a job a killed worker left running starts again from scratch
    (its half-written `.part` file is overwritten, the final name only appears when the file is complete)."""
    job = _claim(job_id)
    if job is None:
        return None
    # Inside a caller's transaction (tests, a sync run) a savepoint keeps a failed query from poisoning it; a
    # worker runs in autocommit, so each progress update is seen by the pollers at once.
    guard = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    try:
        with guard:
            rows, name, path = _export_build(job)
    except Exception as exc:
        logger.exception("export failed", extra={"export_id": job.pk})
        error = f"{type(exc).__name__}: {exc}"[:500]
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, error=error, finished_at=timezone.now())
        job.refresh_from_db()
        return job
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE, progress=1.0, rows=rows, size_bytes=path.stat().st_size, file_name=name,
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    logger.info("export done", extra={"export_id": job.pk, "rows": rows, "size_bytes": job.size_bytes})
    return job


def exports_cleanup(*, now: datetime | None = None) -> dict:
    """Daily (SPEC §11): delete the files of expired exports (and orphaned partial files); say what went."""
    now = now or timezone.now()
    deleted, freed = 0, 0
    for job in ExportJob.objects.filter(expires_at__lt=now, file_deleted_at__isnull=True).only("pk", "file_name"):
        if job.file_name:
            path = exports_root() / job.file_name
            if path.exists():
                freed += path.stat().st_size
                path.unlink()
                deleted += 1
        ExportJob.objects.filter(pk=job.pk).update(file_deleted_at=now)
    root = exports_root()
    if root.exists():
        for part in root.glob("*.part"):
            if part.stat().st_mtime < (now - timedelta(days=1)).timestamp():
                freed += part.stat().st_size
                part.unlink()
                deleted += 1
    # Jobs a worker will never finish (a killed worker on the Redis broker, which re-delivers nothing).
    interrupted = ExportJob.objects.filter(
        Q(status=ExportStatus.RUNNING, heartbeat_at__lt=now - timedelta(hours=1))
        | Q(status=ExportStatus.QUEUED, created_at__lt=now - timedelta(days=1))
    ).update(status=ExportStatus.FAILED, error="Interrupted: the job stopped without finishing; export again.",
             finished_at=now)
    summary = {"deleted_files": deleted, "freed_bytes": freed, "interrupted_jobs": interrupted}
    logger.info(f"export cleanup: deleted {deleted} expired export file(s), {freed} bytes; "
                f"{interrupted} interrupted job(s) marked failed", extra=summary)
    return summary
