"""The dead-letter table as the job runner writes it: a job that failed its last attempt, a retry that ran through.

Staff's actions on dead letters (retry, resolve) and the cleanup are in services.py.
"""
from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hotlead.core.services import audit_record
from hotlead.ops.lock_objects import dead_letter_lock
from hotlead.ops.models import DeadLetter, DeadLetterStatus

ERROR_MAX_CHARS = 10000


@transaction.atomic
def dead_letter_record(*, func: str, args: list, kwargs: dict, error: str, attempts: int,
                       first_failed_at: str | datetime | None, job_id: str = "",
                       dead_letter_id: int | None = None) -> DeadLetter:
    """Record a job that failed its last attempt; a retried dead letter that failed again is reopened."""
    first = parse_datetime(first_failed_at) if isinstance(first_failed_at, str) else first_failed_at
    now = timezone.now()
    error = error[-ERROR_MAX_CHARS:]  # the end of a traceback names the failure
    if dead_letter_id is not None:
        existing = dead_letter_lock(dead_letter_id=dead_letter_id)
        if existing is not None:
            existing.status = DeadLetterStatus.OPEN
            existing.attempts += attempts
            existing.error = error
            existing.last_failed_at = now
            existing.resolved_at = None
            existing.save(update_fields=["status", "attempts", "error", "last_failed_at", "resolved_at"])
            return existing
    return DeadLetter.objects.create(
        task_id=job_id, func=func, task_name=func.rsplit(".", 1)[-1], args=list(args), kwargs=dict(kwargs),
        error=error, attempts=attempts, first_failed_at=first or now, last_failed_at=now,
    )


@transaction.atomic
def dead_letter_succeeded(*, dead_letter_id: int) -> None:
    """A retried job ran through: the dead letter is resolved (unless staff already closed it)."""
    dead_letter = dead_letter_lock(dead_letter_id=dead_letter_id)
    if dead_letter is None or dead_letter.status == DeadLetterStatus.RESOLVED:
        return
    now = timezone.now()
    dead_letter.status = DeadLetterStatus.RESOLVED
    dead_letter.resolved_at = now
    dead_letter.note = f"{dead_letter.note}\nSucceeded on retry at {now:%Y-%m-%d %H:%M:%S} UTC.".strip()
    dead_letter.save(update_fields=["status", "resolved_at", "note"])
    audit_record(action="dead_letter.succeeded", actor=None, obj=dead_letter,
                 changes={"status": [DeadLetterStatus.RETRIED, DeadLetterStatus.RESOLVED]})
