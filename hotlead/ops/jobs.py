"""One way to run background work (SPEC §11): `job_enqueue(...)` after commit, retried, dead-lettered.

Every job is idempotent: django-q2's ORM broker is at-least-once, and retries re-run it.
`job_run` wraps the real function: on failure it schedules a retry with back-off until
MAX_ATTEMPTS, then records a DeadLetter.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger("hotlead.jobs")

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = (10, 30, 120, 600)


def job_enqueue(func_path: str, *args, task_name: str | None = None, **kwargs) -> None:
    """Queue `func_path(*args, **kwargs)` once the current transaction commits."""

    def _push() -> None:
        _async(func_path, list(args), kwargs, attempt=1, first_failed_at=None, task_name=task_name)

    transaction.on_commit(_push)


def _async(func_path: str, args: list, kwargs: dict, *, attempt: int, first_failed_at: str | None,
           task_name: str | None = None) -> None:
    from django_q.tasks import async_task

    async_task(
        "hotlead.ops.jobs.job_run", func_path, args, kwargs, attempt, first_failed_at,
        task_name=task_name or f"{func_path.rsplit('.', 1)[-1]}#{attempt}",
    )
    _count("enqueued", func_path)


def _count(event: str, func_path: str) -> None:
    try:
        from hotlead.ops.metrics import JOBS

        JOBS.labels(event=event, task=func_path.rsplit(".", 1)[-1]).inc()
    except ImportError:  # metrics module not present yet
        pass


def job_run(func_path: str, args: list, kwargs: dict, attempt: int = 1, first_failed_at: str | None = None):
    """Run one attempt; on failure schedule the next one or dead-letter the job."""
    func = import_string(func_path)
    try:
        result = func(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - every failure is retried or dead-lettered
        now = timezone.now()
        first = first_failed_at or now.isoformat()
        logger.warning("job failed", extra={"task": func_path, "attempt": attempt, "error": type(exc).__name__})
        _count("failed", func_path)
        if attempt >= MAX_ATTEMPTS:
            from hotlead.ops.services import dead_letter_record

            dead_letter_record(func=func_path, args=args, kwargs=kwargs, error=repr(exc), attempts=attempt,
                               first_failed_at=first)
            return None
        _retry_later(func_path, args, kwargs, attempt=attempt + 1, first_failed_at=first,
                     delay=BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)])
        return None
    _count("completed", func_path)
    return result


def _retry_later(func_path: str, args: list, kwargs: dict, *, attempt: int, first_failed_at: str, delay: int):
    from django_q.models import Schedule

    Schedule.objects.create(
        func="hotlead.ops.jobs.job_run",
        args=repr((func_path, args, kwargs, attempt, first_failed_at)),
        schedule_type=Schedule.ONCE,
        repeats=-1,
        next_run=timezone.now() + timedelta(seconds=delay),
        name=f"retry {func_path.rsplit('.', 1)[-1]} #{attempt} {timezone.now().timestamp():.6f}",
    )
