"""Operations services: the dead-letter queue."""
from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hotlead.ops.models import DeadLetter


def dead_letter_record(*, func: str, args: list, kwargs: dict, error: str, attempts: int,
                       first_failed_at: str | datetime | None) -> DeadLetter:
    first = parse_datetime(first_failed_at) if isinstance(first_failed_at, str) else first_failed_at
    now = timezone.now()
    return DeadLetter.objects.create(
        func=func, task_name=func.rsplit(".", 1)[-1], args=list(args), kwargs=dict(kwargs), error=error[:10000],
        attempts=attempts, first_failed_at=first or now, last_failed_at=now,
    )
