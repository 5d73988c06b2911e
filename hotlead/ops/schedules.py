"""The recurring jobs (SPEC §11), registered in django-q2 by `manage.py schedules_sync`.

To add one, append a dict to SCHEDULES (in your app's section, keep the list readable):

    {"name": "billing.reconcile", "func": "hotlead.billing.tasks.balance_reconcile",
     "every": "daily", "at": "03:00"},

Keys:
- "name":  unique, "<app>.<what>"; stored in django-q2 as "hotlead.<name>".
- "func":  dotted path of an idempotent function taking no arguments (or "kwargs": {...}, JSON values).
- timing, exactly one of:
    "minutes": N                      every N minutes (first run N minutes after the sync);
                                      optional "offset_seconds": S delays the first run (and so every
                                      run) by S seconds: two 1-minute entries 30 s apart run every ~30 s;
    "every": "hourly", "at": "MM"     every hour at minute MM (default "00");
    "every": "daily",  "at": "HH:MM"  every day at HH:MM UTC;
    "every": "weekly", "at": "HH:MM", "weekday": 0-6 (Monday is 0)  once a week.
- "retry": True (default) runs it through `hotlead.ops.jobs.job_run`: a failure is retried with
  back-off and lands in the dead-letter queue like any job. False calls the function directly
  (for the heartbeat, where a late retry means nothing).

`schedules_sync` creates missing schedules, updates changed ones (keeping their next run when the
timing did not change), and deletes recurring `hotlead.*` schedules that are no longer listed.
Schedules made by hand in the console must not be named `hotlead.*`. It runs after `migrate` in
`scripts/run` and on deploy; running it twice changes nothing.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils.module_loading import import_string
from django_q.models import Schedule

STORED_PREFIX = "hotlead."

SCHEDULES: list[dict] = [
    # --- ops ---
    {"name": "ops.worker_heartbeat", "func": "hotlead.ops.tasks.worker_heartbeat", "minutes": 1, "retry": False},
    {"name": "ops.dead_letter_cleanup", "func": "hotlead.ops.tasks.dead_letter_cleanup",
     "every": "weekly", "at": "04:30", "weekday": 6},
    # --- core ---
    {"name": "core.rate_limit_prune", "func": "hotlead.core.ratelimit.rate_limit_counters_prune",
     "every": "hourly", "at": "35"},
    # --- leads ---
    {"name": "leads.expire_unverified", "func": "hotlead.leads.tasks.leads_expire_unverified_job",
     "every": "hourly", "at": "05"},
    # --- notifications ---
    {"name": "notifications.recover", "func": "hotlead.notifications.tasks.emails_recover_job", "minutes": 5},
    # --- levels and billing (money) ---
    {"name": "levels.funds_sweep", "func": "hotlead.levels.tasks.subscriptions_funds_sweep", "minutes": 5},
    {"name": "billing.reconcile", "func": "hotlead.billing.tasks.balances_reconcile_nightly",
     "every": "daily", "at": "03:00"},
    # --- distribution ---
    # Crash recovery: approved leads whose job a killed worker took with it (twice a minute, 30 s apart).
    {"name": "distribution.approved_recover", "func": "hotlead.distribution.tasks.approved_leads_recover_job",
     "minutes": 1, "retry": False},
    {"name": "distribution.approved_recover_b", "func": "hotlead.distribution.tasks.approved_leads_recover_job",
     "minutes": 1, "offset_seconds": 30, "retry": False},
    {"name": "distribution.unsold_retry", "func": "hotlead.distribution.tasks.unsold_redistribute_job", "minutes": 15},
    {"name": "distribution.assignment_digest", "func": "hotlead.distribution.tasks.assignment_digest_job",
     "every": "daily", "at": "07:00"},
    # --- webhooks ---
    {"name": "webhooks.deliveries_due", "func": "hotlead.webhooks.tasks.webhook_deliveries_due_job", "minutes": 1},
    {"name": "webhooks.cleanup", "func": "hotlead.webhooks.tasks.webhook_events_cleanup_job",
     "every": "weekly", "at": "04:45", "weekday": 6},
    # --- reports ---
    {"name": "reports.exports_cleanup", "func": "reports.tasks.exports_cleanup_job", "every": "daily", "at": "04:00"},
]

_KNOWN_KEYS = {"name", "func", "kwargs", "minutes", "offset_seconds", "every", "at", "weekday", "retry"}


def schedule_fields(entry: dict, *, now: datetime) -> dict:
    """The django-q2 Schedule fields for one entry; ValueError names the entry when it is wrong."""
    name = entry.get("name")
    problem = _problem(entry)
    if problem:
        raise ValueError(f"Schedule {name!r}: {problem}")
    kwargs = dict(entry.get("kwargs") or {})
    if entry.get("retry", True):
        func, args, stored_kwargs = "hotlead.ops.jobs.job_run", repr((entry["func"], [], kwargs)), None
    else:
        func, args, stored_kwargs = entry["func"], None, repr(kwargs) if kwargs else None
    fields = {"name": STORED_PREFIX + name, "func": func, "args": args, "kwargs": stored_kwargs, "repeats": -1,
              "minutes": None}
    now = now.astimezone(UTC).replace(second=0, microsecond=0)
    if "minutes" in entry:
        return {**fields, "schedule_type": Schedule.MINUTES, "minutes": int(entry["minutes"]),
                "next_run": now + timedelta(minutes=int(entry["minutes"]),
                                            seconds=int(entry.get("offset_seconds", 0)))}
    every = entry["every"]
    if every == "hourly":
        minute = int(str(entry.get("at", "00")).lstrip(":"))
        first = now.replace(minute=minute)
        return {**fields, "schedule_type": Schedule.HOURLY,
                "next_run": first if first > now else first + timedelta(hours=1)}
    hour, minute = (int(part) for part in entry["at"].split(":"))
    first = now.replace(hour=hour, minute=minute)
    if every == "daily":
        return {**fields, "schedule_type": Schedule.DAILY,
                "next_run": first if first > now else first + timedelta(days=1)}
    first += timedelta(days=(int(entry["weekday"]) - first.weekday()) % 7)
    return {**fields, "schedule_type": Schedule.WEEKLY,
            "next_run": first if first > now else first + timedelta(weeks=1)}


def _problem(entry: dict) -> str | None:
    unknown = set(entry) - _KNOWN_KEYS
    if unknown:
        return f"unknown keys {sorted(unknown)}"
    if not entry.get("name") or not entry.get("func"):
        return "needs a name and a func"
    try:
        import_string(entry["func"])
    except ImportError:
        return f"{entry['func']} cannot be imported"
    if ("minutes" in entry) == ("every" in entry):
        return 'needs exactly one of "minutes" and "every"'
    if "offset_seconds" in entry and ("minutes" not in entry or not isinstance(entry["offset_seconds"], int)
                                      or not 0 <= entry["offset_seconds"] < 60 * int(entry.get("minutes") or 1)):
        return '"offset_seconds" needs "minutes" and must be 0 to the period in seconds'
    if "minutes" in entry:
        return None if isinstance(entry["minutes"], int) and entry["minutes"] > 0 else '"minutes" must be > 0'
    every, at = entry["every"], str(entry.get("at", ""))
    if every == "hourly":
        return None if at.lstrip(":").isdigit() and int(at.lstrip(":")) < 60 or not at else '"at" must be "MM"'
    if every not in ("daily", "weekly"):
        return '"every" must be hourly, daily or weekly'
    parts = at.split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) > 23 or int(parts[1]) > 59:
        return '"at" must be "HH:MM"'
    if every == "weekly" and entry.get("weekday") not in range(7):
        return '"weekday" must be 0 (Monday) to 6'
    return None
