"""Jobs of the reports app: thin, fetch by id and call one service (run through hotlead.ops.jobs.job_run)."""
from __future__ import annotations

from reports.services import export_run, exports_cleanup


def export_run_job(job_id: int) -> str:
    job = export_run(job_id=job_id)
    return "skipped" if job is None else job.status


def exports_cleanup_job() -> dict:
    return exports_cleanup()
