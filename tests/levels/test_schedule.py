"""Delivery schedules: validation and the reference semantics (half-open windows, overnight windows)."""
from __future__ import annotations

from datetime import datetime

import pytest

from hotlead.core.exceptions import ValidationFailed
from hotlead.levels.schedule import schedule_allows, schedule_validate


def test_a_valid_schedule_is_normalised():
    assert schedule_validate({"days": [4, 0, 2], "start": "08:00", "end": "17:30"}) == \
        {"days": [0, 2, 4], "start": "08:00", "end": "17:30"}
    assert schedule_validate(None) is None


@pytest.mark.parametrize(("schedule", "field"), [
    ({"days": [], "start": "08:00", "end": "17:00"}, "schedule.days"),
    ({"days": [7], "start": "08:00", "end": "17:00"}, "schedule.days"),
    ({"days": [True], "start": "08:00", "end": "17:00"}, "schedule.days"),
    ({"days": [1, 1], "start": "08:00", "end": "17:00"}, "schedule.days"),
    ({"days": [1], "start": "8:00", "end": "17:00"}, "schedule.start"),
    ({"days": [1], "start": "08:00", "end": "24:00"}, "schedule.end"),
    ({"days": [1], "start": "08:00", "end": "08:00"}, "schedule.end"),
    ({"days": [1], "start": "08:00", "end": "17:00", "tz": "UTC"}, "schedule"),
    ("weekdays", "schedule"),
])
def test_bad_schedules_name_the_field(schedule, field):
    with pytest.raises(ValidationFailed) as excinfo:
        schedule_validate(schedule)
    assert field in [e["field"] for e in excinfo.value.details["fields"]]


def test_same_day_window_is_half_open():
    schedule = {"days": [0], "start": "09:00", "end": "17:00"}  # Mondays
    monday = datetime(2026, 11, 30)
    assert schedule_allows(schedule, local=monday.replace(hour=9)) is True
    assert schedule_allows(schedule, local=monday.replace(hour=16, minute=59, second=59)) is True
    assert schedule_allows(schedule, local=monday.replace(hour=17)) is False
    assert schedule_allows(schedule, local=monday.replace(hour=8, minute=59)) is False
    assert schedule_allows(schedule, local=datetime(2026, 12, 1, 10)) is False  # Tuesday


def test_overnight_window_belongs_to_the_day_it_starts():
    schedule = {"days": [4], "start": "22:00", "end": "06:00"}  # Friday night
    assert schedule_allows(schedule, local=datetime(2026, 12, 4, 23, 0)) is True    # Friday 23:00
    assert schedule_allows(schedule, local=datetime(2026, 12, 5, 5, 59)) is True    # Saturday 05:59
    assert schedule_allows(schedule, local=datetime(2026, 12, 5, 6, 0)) is False    # Saturday 06:00
    assert schedule_allows(schedule, local=datetime(2026, 12, 4, 5, 0)) is False    # Friday 05:00
    assert schedule_allows(schedule, local=datetime(2026, 12, 5, 23, 0)) is False   # Saturday 23:00


def test_no_schedule_is_always():
    assert schedule_allows(None, local=datetime(2026, 12, 5, 3, 0)) is True
