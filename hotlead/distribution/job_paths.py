"""The distribution app's jobs, each named once by the dotted path `ops.jobs.job_enqueue` runs (tasks.py)."""

LEAD_DISTRIBUTE = "hotlead.distribution.tasks.lead_distribute_job"
LEAD_OUTCOME_NOTIFY = "hotlead.distribution.tasks.lead_outcome_notify_job"
