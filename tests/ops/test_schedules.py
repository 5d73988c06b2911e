"""The recurring jobs: SCHEDULES is valid, and schedules_sync makes django-q2 match it, idempotently."""
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from hotlead.ops.schedules import SCHEDULES, schedule_fields
from hotlead.ops.services import schedules_sync

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 25, 10, 17, 42, tzinfo=UTC)  # a Wednesday


def ours():
    return Schedule.objects.filter(name__startswith="hotlead.").exclude(schedule_type=Schedule.ONCE)


def test_every_listed_schedule_is_valid():
    # every entry, including those other apps append, names an importable function and a timing
    names = [entry["name"] for entry in SCHEDULES]
    assert len(names) == len(set(names))
    for entry in SCHEDULES:
        schedule_fields(entry, now=NOW)
    assert {"ops.worker_heartbeat", "ops.dead_letter_cleanup"} <= set(names)


def test_sync_creates_them_and_a_second_sync_changes_nothing():
    # when
    first = schedules_sync(now=NOW)
    snapshot = list(ours().order_by("name").values())
    second = schedules_sync(now=NOW + timedelta(hours=5))
    # then
    assert sorted(first.created) == sorted(f"hotlead.{e['name']}" for e in SCHEDULES)
    assert second.created == [] and second.updated == [] and second.removed == []
    assert list(ours().order_by("name").values()) == snapshot


def test_the_weekly_dlq_cleanup_runs_through_the_job_runner_on_sunday_morning():
    schedules_sync(now=NOW)
    cleanup = Schedule.objects.get(name="hotlead.ops.dead_letter_cleanup")
    assert cleanup.schedule_type == Schedule.WEEKLY and cleanup.repeats == -1
    assert cleanup.func == "hotlead.ops.jobs.job_run"
    assert cleanup.args == repr(("hotlead.ops.tasks.dead_letter_cleanup", [], {}))
    assert cleanup.next_run == datetime(2026, 11, 29, 4, 30, tzinfo=UTC)


def test_the_heartbeat_runs_every_minute_directly():
    schedules_sync(now=NOW)
    heartbeat = Schedule.objects.get(name="hotlead.ops.worker_heartbeat")
    assert heartbeat.schedule_type == Schedule.MINUTES and heartbeat.minutes == 1
    assert heartbeat.func == "hotlead.ops.tasks.worker_heartbeat" and heartbeat.args is None
    assert heartbeat.next_run == datetime(2026, 11, 25, 10, 18, tzinfo=UTC)


@pytest.mark.parametrize("entry, expected_type, expected_next", [
    ({"every": "hourly", "at": "05"}, Schedule.HOURLY, datetime(2026, 11, 25, 11, 5, tzinfo=UTC)),
    ({"every": "hourly", "at": "30"}, Schedule.HOURLY, datetime(2026, 11, 25, 10, 30, tzinfo=UTC)),
    ({"every": "daily", "at": "03:00"}, Schedule.DAILY, datetime(2026, 11, 26, 3, 0, tzinfo=UTC)),
    ({"every": "daily", "at": "23:59"}, Schedule.DAILY, datetime(2026, 11, 25, 23, 59, tzinfo=UTC)),
    ({"every": "weekly", "at": "08:00", "weekday": 0}, Schedule.WEEKLY, datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
    ({"minutes": 15}, Schedule.MINUTES, datetime(2026, 11, 25, 10, 32, tzinfo=UTC)),
])
def test_timings(entry, expected_type, expected_next):
    fields = schedule_fields({"name": "x.y", "func": "hotlead.ops.tasks.dead_letter_cleanup", **entry}, now=NOW)
    assert fields["schedule_type"] == expected_type and fields["next_run"] == expected_next


def test_sync_updates_a_changed_entry_and_removes_one_no_longer_listed():
    # given
    base = {"name": "ops.dead_letter_cleanup", "func": "hotlead.ops.tasks.dead_letter_cleanup"}
    schedules_sync(entries=[{**base, "every": "daily", "at": "03:00"},
                            {"name": "ops.gone", "func": "hotlead.ops.tasks.worker_heartbeat", "minutes": 5}],
                   now=NOW)
    handmade = Schedule.objects.create(name="Marketing export", func="hotlead.ops.tasks.worker_heartbeat",
                                       schedule_type=Schedule.DAILY)
    # when
    result = schedules_sync(entries=[{**base, "every": "daily", "at": "04:15"}], now=NOW)
    # then
    assert result.updated == ["hotlead.ops.dead_letter_cleanup"] and result.removed == ["hotlead.ops.gone"]
    assert Schedule.objects.get(name="hotlead.ops.dead_letter_cleanup").next_run == datetime(
        2026, 11, 26, 4, 15, tzinfo=UTC)
    assert list(ours().values_list("name", flat=True)) == ["hotlead.ops.dead_letter_cleanup"]
    assert Schedule.objects.filter(pk=handmade.pk).exists()


def test_sync_never_touches_pending_job_retries():
    retry = Schedule.objects.create(name="hotlead.retry-like name", func="hotlead.ops.jobs.job_run",
                                    schedule_type=Schedule.ONCE, repeats=-1, next_run=NOW)
    schedules_sync(entries=[], now=NOW)
    assert Schedule.objects.filter(pk=retry.pk).exists()


@pytest.mark.parametrize("entry, problem", [
    ({"name": "a.b", "func": "hotlead.ops.tasks.nope", "minutes": 1}, "cannot be imported"),
    ({"name": "a.b", "func": "hotlead.ops.tasks.worker_heartbeat"}, "exactly one"),
    ({"name": "a.b", "func": "hotlead.ops.tasks.worker_heartbeat", "minutes": 1, "every": "daily"}, "exactly one"),
    ({"name": "a.b", "func": "hotlead.ops.tasks.worker_heartbeat", "every": "daily", "at": "25:00"}, "HH:MM"),
    ({"name": "a.b", "func": "hotlead.ops.tasks.worker_heartbeat", "every": "weekly", "at": "01:00"}, "weekday"),
    ({"name": "a.b", "func": "hotlead.ops.tasks.worker_heartbeat", "every": "monthly", "at": "01:00"}, "hourly"),
    ({"name": "a.b", "func": "hotlead.ops.tasks.worker_heartbeat", "minutes": 0}, "> 0"),
    ({"name": "a.b", "func": "hotlead.ops.tasks.worker_heartbeat", "minutes": 1, "cron": "* * * * *"}, "unknown"),
])
def test_a_wrong_entry_is_refused_with_its_name(entry, problem):
    with pytest.raises(ValueError, match=problem) as err:
        schedules_sync(entries=[entry], now=NOW)
    assert "'a.b'" in str(err.value)
    assert not ours().exists()


def test_two_entries_with_one_name_are_refused():
    entry = {"name": "a.b", "func": "hotlead.ops.tasks.worker_heartbeat", "minutes": 1}
    with pytest.raises(ValueError, match="Two schedules"):
        schedules_sync(entries=[entry, entry], now=NOW)


def test_the_management_command_reports_and_is_idempotent(capsys):
    call_command("schedules_sync")
    first = capsys.readouterr().out
    call_command("schedules_sync")
    second = capsys.readouterr().out
    assert f"{len(SCHEDULES)} created" in first
    assert f"0 created, 0 updated, 0 removed, {len(SCHEDULES)} unchanged" in second
    assert ours().count() == len(SCHEDULES)
