"""Row locks of report exports; their place in the global order: hotlead.core.locks."""
from __future__ import annotations

from hotlead.core.locks import lock_taken
from reports.models import ExportJob


def export_job_lock(*, job_id: int) -> ExportJob | None:
    lock_taken("export_job", job_id)
    return ExportJob.objects.select_for_update().filter(pk=job_id).first()
