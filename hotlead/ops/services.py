"""Operations services: the dead-letter queue, the worker heartbeat and the recurring schedules."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import Schedule

from hotlead.core.exceptions import Conflict, NotFound
from hotlead.core.services import audit_record
from hotlead.ops.exceptions import TaskUnknown
from hotlead.ops.jobs import job_submit
from hotlead.ops.lock_objects import dead_letter_lock, schedules_lock
from hotlead.ops.models import DeadLetter, DeadLetterStatus, WorkerHeartbeat
from hotlead.ops.schedules import SCHEDULES, STORED_PREFIX, schedule_fields

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser


# --- dead letters -------------------------------------------------------------------------------

def _locked(dead_letter_id: int) -> DeadLetter:
    dead_letter = dead_letter_lock(dead_letter_id=dead_letter_id)
    if dead_letter is None:
        raise NotFound("No such failed job.")
    return dead_letter


@transaction.atomic
def dead_letter_retry(*, dead_letter_id: int, actor: AbstractBaseUser | None) -> DeadLetter:
    """Run the job again (a fresh set of attempts); it resolves itself when it succeeds."""
    dead_letter = _locked(dead_letter_id)
    if dead_letter.status == DeadLetterStatus.RESOLVED:
        raise Conflict("This failed job is resolved; there is nothing to retry.")
    try:
        import_string(dead_letter.func)
    except ImportError:
        raise TaskUnknown(details={"func": dead_letter.func})
    previous = dead_letter.status
    dead_letter.status = DeadLetterStatus.RETRIED
    dead_letter.retry_count += 1
    dead_letter.retried_at = timezone.now()
    dead_letter.save(update_fields=["status", "retry_count", "retried_at"])
    audit_record(action="dead_letter.retried", actor=actor, obj=dead_letter,
                 changes={"status": [previous, DeadLetterStatus.RETRIED], "func": dead_letter.func,
                          "retry_count": dead_letter.retry_count})
    job_submit(dead_letter.func, list(dead_letter.args), dict(dead_letter.kwargs),
               job_id=dead_letter.task_id or None, dead_letter_id=dead_letter.pk)
    return dead_letter


@transaction.atomic
def dead_letter_resolve(*, dead_letter_id: int, actor: AbstractBaseUser | None, note: str = "") -> DeadLetter:
    """Staff decided the failure needs no (more) running: close it, with an optional note."""
    dead_letter = _locked(dead_letter_id)
    if dead_letter.status == DeadLetterStatus.RESOLVED:
        raise Conflict("This failed job is already resolved.")
    previous = dead_letter.status
    dead_letter.status = DeadLetterStatus.RESOLVED
    dead_letter.resolved_at = timezone.now()
    if note:
        dead_letter.note = f"{dead_letter.note}\n{note}".strip()
    dead_letter.save(update_fields=["status", "resolved_at", "note"])
    audit_record(action="dead_letter.resolved", actor=actor, obj=dead_letter,
                 changes={"status": [previous, DeadLetterStatus.RESOLVED], "note": note})
    return dead_letter


def dead_letter_cleanup(*, older_than_days: int | None = None) -> int:
    """Delete resolved dead letters resolved more than the retention ago; return how many."""
    days = settings.HOTLEAD["DLQ_RETENTION_DAYS"] if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = DeadLetter.objects.filter(status=DeadLetterStatus.RESOLVED, resolved_at__lt=cutoff).delete()
    return deleted


# --- the worker heartbeat ------------------------------------------------------------------------

def worker_heartbeat_beat() -> WorkerHeartbeat:
    """A job worker on this host is alive (readiness checks the newest heartbeat)."""
    name = f"{socket.gethostname()}:{settings.Q_CLUSTER.get('name', 'default')}"[:200]
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"seen_at": timezone.now(), "pid": os.getpid()}
    )
    return heartbeat


# --- recurring schedules (hotlead/ops/schedules.py) ---------------------------------------------

@dataclass
class ScheduleSyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@transaction.atomic
def schedules_sync(*, entries: list[dict] | None = None, now: datetime | None = None) -> ScheduleSyncResult:
    """Make django-q2's recurring schedules named `hotlead.*` exactly the entries (idempotent)."""
    entries = SCHEDULES if entries is None else entries
    now = now or timezone.now()
    wanted = {}
    for entry in entries:
        fields = schedule_fields(entry, now=now)
        if fields["name"] in wanted:
            raise ValueError(f"Two schedules are named {entry['name']!r}")
        wanted[fields["name"]] = fields

    result = ScheduleSyncResult()
    existing = {s.name: s for s in schedules_lock(name_prefix=STORED_PREFIX)}
    for name, fields in wanted.items():
        schedule = existing.get(name)
        if schedule is None:
            Schedule.objects.create(**fields)
            result.created.append(name)
            continue
        changed = [key for key in ("func", "args", "kwargs", "schedule_type", "minutes", "repeats")
                   if getattr(schedule, key) != fields[key]]
        # Keep the next run unless the timing changed, so a re-sync never shifts a schedule.
        if changed or schedule.next_run is None or not _same_slot(schedule.next_run, fields["next_run"], fields):
            for key, value in fields.items():
                setattr(schedule, key, value)
            schedule.save()
            result.updated.append(name)
        else:
            result.unchanged.append(name)
    for name, schedule in existing.items():
        if name not in wanted:
            schedule.delete()
            result.removed.append(name)
    return result


def _same_slot(current: datetime, proposed: datetime, fields: dict) -> bool:
    """Whether the stored next run is at the time of day (and weekday) the entry asks for."""
    kind = fields["schedule_type"]
    if kind == Schedule.MINUTES:
        return True
    if kind == Schedule.HOURLY:
        return current.minute == proposed.minute
    if kind == Schedule.DAILY:
        return (current.hour, current.minute) == (proposed.hour, proposed.minute)
    return (current.weekday(), current.hour, current.minute) == (proposed.weekday(), proposed.hour, proposed.minute)
