"""Drive django-q2 the way a running cluster would, inline (Q_CLUSTER["sync"] runs tasks in-process)."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule
from django_q.scheduler import scheduler


def retry_schedules():
    return Schedule.objects.filter(schedule_type=Schedule.ONCE, func="hotlead.ops.jobs.job_run")


def retries_run_all(*, max_rounds: int = 10) -> int:
    """Let the back-off time pass and run django-q2's real scheduler until no retry is pending."""
    rounds = 0
    while retry_schedules().exists():
        rounds += 1
        assert rounds <= max_rounds, "retries never stop"
        retry_schedules().update(next_run=timezone.now() - timedelta(seconds=1))
        scheduler(broker=get_broker())
    return rounds
