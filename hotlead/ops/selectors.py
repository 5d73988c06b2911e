"""Reads for operations pages, the admin API, metrics and health."""
from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule

from hotlead.core.exceptions import NotFound
from hotlead.core.pagination import keyset_page
from hotlead.ops.models import DeadLetter, DeadLetterStatus, WorkerHeartbeat


def worker_last_seen_seconds() -> float | None:
    """Seconds since a job worker last wrote its heartbeat, or None if none ever has."""
    newest = WorkerHeartbeat.objects.aggregate(newest=Max("seen_at"))["newest"]
    if newest is None:
        return None
    return max(0.0, (timezone.now() - newest).total_seconds())


def worker_heartbeat_max_age_seconds() -> int:
    return int(settings.HOTLEAD.get("WORKER_HEARTBEAT_MAX_AGE_SECONDS", 180))


def worker_check() -> dict:
    """Whether a job worker ran the heartbeat schedule recently (/health/worker; not part of readiness).

    Like the readiness checks, a failure names the error's type, never its message."""
    max_age = worker_heartbeat_max_age_seconds()
    try:
        age = worker_last_seen_seconds()
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}
    result = {"ok": age is not None and age <= max_age, "last_seen_seconds": None if age is None else round(age),
              "max_age_seconds": max_age}
    if not result["ok"]:
        result["hint"] = "Is a job worker (manage.py qcluster) running, with schedules_sync applied?"
    return result


def queue_depth() -> int:
    """Jobs waiting in the broker (ORM table or Redis list), not counting those being worked on."""
    return int(get_broker().queue_size() or 0)


def dead_letter_open_count() -> int:
    return DeadLetter.objects.filter(status=DeadLetterStatus.OPEN).count()


def dead_letter_get(*, dead_letter_id: int) -> DeadLetter:
    dead_letter = DeadLetter.objects.filter(pk=dead_letter_id).first()
    if dead_letter is None:
        raise NotFound("No such failed job.")
    return dead_letter


# --- cursor pagination (SPEC §8: ?limit=&cursor= → {items, next_cursor}) -----------------------

@dataclass(frozen=True)
class DeadLetterPage:
    items: list[DeadLetter]
    next_cursor: str | None


def dead_letter_list(*, status: str | None = None, cursor: str | None = None, limit: int = 50) -> DeadLetterPage:
    """Newest first (by id, which never changes, so pages neither skip nor repeat rows)."""
    qs: QuerySet[DeadLetter] = DeadLetter.objects.all()
    if status:
        qs = qs.filter(status=status)
    rows, next_cursor = keyset_page(qs, order=("-id",), cursor=cursor, limit=limit,
                                    message="The cursor is not valid; use next_cursor from a previous page.")
    return DeadLetterPage(items=rows, next_cursor=next_cursor)


# --- the queue monitor ----------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueOverview:
    queue_depth: int
    dead_letters_open: int
    dead_letters_retried: int
    worker_last_seen_seconds: float | None
    recent_failures: list[DeadLetter]
    schedules: list


def queue_overview(*, recent: int = 10) -> QueueOverview:
    counts = {row["status"]: row["n"] for row in _status_counts()}
    return QueueOverview(
        queue_depth=queue_depth(),
        dead_letters_open=counts.get(DeadLetterStatus.OPEN, 0),
        dead_letters_retried=counts.get(DeadLetterStatus.RETRIED, 0),
        worker_last_seen_seconds=worker_last_seen_seconds(),
        recent_failures=list(DeadLetter.objects.exclude(status=DeadLetterStatus.RESOLVED)
                             .order_by("-last_failed_at", "-id")[:recent]),
        # Recurring schedules only: one-off retry schedules come and go and are not "the schedules".
        schedules=list(Schedule.objects.exclude(schedule_type=Schedule.ONCE).order_by("name")),
    )


def _status_counts():
    return DeadLetter.objects.values("status").annotate(n=Count("id")).order_by()
