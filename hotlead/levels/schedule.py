"""A subscription's delivery schedule (SPEC §4.1 rule 6): weekdays and hours in the provider's time zone.

Stored as ``{"days": [0-6], "start": "HH:MM", "end": "HH:MM"}`` (Mon=0 … Sun=6), or ``null`` = always.

- ``days``: a non-empty list of distinct weekdays, stored sorted.
- ``start`` / ``end``: 24-hour "HH:MM" (00:00…23:59), ``start != end``. The window is half-open,
  ``start <= t < end``.
- ``start < end``: a same-day window, open on each listed day.
- ``end < start``: an overnight window that belongs to the day it starts on: open from ``start`` to
  midnight on a listed day, and from midnight to ``end`` on the day after a listed day.
  Example: ``{"days": [4], "start": "22:00", "end": "06:00"}`` is open Friday 22:00 to Saturday 06:00.

"Now" is converted to the provider's ``timezone`` before the check. `schedule_allows` is the reference
semantics; the distribution engine's SQL must agree.
"""
from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from hotlead.core.exceptions import ValidationFailed

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _parse_time(value: Any) -> time | None:
    if not isinstance(value, str):
        return None
    match = _HHMM.match(value)
    return time(int(match.group(1)), int(match.group(2))) if match else None


def schedule_errors(schedule: Any) -> list[dict[str, str]]:
    """Every problem with a schedule, as SPEC §8 field errors (empty when valid)."""
    if schedule is None:
        return []
    if not isinstance(schedule, dict):
        return [{"field": "schedule", "message": "The schedule must be an object {days, start, end} or null."}]
    errors = []
    extra = sorted(set(schedule) - {"days", "start", "end"})
    if extra:
        errors.append({"field": "schedule", "message": f"Unknown key(s): {', '.join(extra)}."})
    days = schedule.get("days")
    if (
        not isinstance(days, list)
        or not days
        or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days)
    ):
        errors.append({"field": "schedule.days",
                       "message": "Days must be a non-empty list of weekdays 0-6 (Monday=0)."})
    elif len(set(days)) != len(days):
        errors.append({"field": "schedule.days", "message": "Days must not repeat."})
    start, end = _parse_time(schedule.get("start")), _parse_time(schedule.get("end"))
    if start is None:
        errors.append({"field": "schedule.start", "message": "Start must be a time \"HH:MM\" (00:00-23:59)."})
    if end is None:
        errors.append({"field": "schedule.end", "message": "End must be a time \"HH:MM\" (00:00-23:59)."})
    if start is not None and end is not None and start == end:
        errors.append({"field": "schedule.end",
                       "message": "End must differ from start (use no schedule to receive leads at any time)."})
    return errors


def schedule_validate(schedule: Any) -> dict[str, Any] | None:
    """Return the schedule normalised (days sorted) or raise ValidationFailed."""
    if errors := schedule_errors(schedule):
        raise ValidationFailed(details={"fields": errors})
    if schedule is None:
        return None
    return {"days": sorted(schedule["days"]), "start": schedule["start"], "end": schedule["end"]}


def schedule_allows(schedule: dict[str, Any] | None, *, local: datetime) -> bool:
    """Is `local` (already in the provider's time zone) inside the delivery window?"""
    if not schedule:
        return True
    start, end = _parse_time(schedule["start"]), _parse_time(schedule["end"])
    days = set(schedule["days"])
    now, weekday = local.time(), local.weekday()
    if start < end:
        return weekday in days and start <= now < end
    # overnight: the evening part on a listed day, the morning part on the day after one
    return (weekday in days and now >= start) or ((weekday - 1) % 7 in days and now < end)
