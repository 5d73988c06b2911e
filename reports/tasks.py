"""Jobs of the reports app: thin, fetch by id and call one service (run through hotlead.ops.jobs.job_run)."""
from __future__ import annotations


def export_run_job(job_id: int) -> str:
    from reports.services import export_run

    job = export_run(job_id=job_id)
    return "skipped" if job is None else job.status


def exports_cleanup_job() -> dict:
    from reports.services import exports_cleanup

    return exports_cleanup()
