"""Row locks of ops (failed jobs, schedules); their place in the global order: hotlead.core.locks."""
from __future__ import annotations

from django_q.models import Schedule

from hotlead.core.locks import lock_taken
from hotlead.ops.models import DeadLetter


def dead_letter_lock(*, dead_letter_id: int) -> DeadLetter | None:
    lock_taken("dead_letter", dead_letter_id)
    return DeadLetter.objects.select_for_update().filter(pk=dead_letter_id).first()


def schedules_lock(*, name_prefix: str) -> list[Schedule]:
    """Every recurring schedule we declared (one-off schedules aside), locked for a sync."""
    lock_taken("schedule")
    return list(Schedule.objects.select_for_update().filter(name__startswith=name_prefix)
                .exclude(schedule_type=Schedule.ONCE))
