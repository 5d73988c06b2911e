"""Crash recovery: an approved lead whose distribution job was lost is queued again (SPEC §4, §11).

A distribution job can vanish: the Redis broker has no acknowledgement, so the jobs a killed worker had
taken (up to `queue_limit` of them, prefetched) are gone; the ORM broker hands them out again only after
`Q_CLUSTER["retry"]` seconds. Nothing else would ever sell such a lead: the 15-minute schedule offers
*unsold* leads again, not approved ones. Twice a minute (two 1-minute schedules 30 s apart) every lead
still approved `recovery_after_seconds()` after its approval (60 s on Redis, `retry` + 30 s on the ORM
broker) gets a new distribution job with the approval trigger.

Idempotent with the engine: the approval run sells only a lead that is still approved, under the lead's
row lock, so a lead whose first job was merely slow is sold once and the extra job finds nothing to do.
The same pass looks at the runs that finished since its last pass (by id, cheap): a run whose outcome
e-mails were never queued (its follow-up job was lost the same way) gets its follow-up job again; the
e-mails' dedupe keys make a late original harmless.

Bounded: one lead is queued again at most once per REQUEUE_GAP_SECONDS and MAX_REQUEUES times a day (a lead
whose job fails every time is the dead-letter queue's business, not a reason to flood the broker).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from hotlead.distribution import metrics
from hotlead.distribution.enums import RunTrigger
from hotlead.distribution.job_paths import LEAD_DISTRIBUTE, LEAD_OUTCOME_NOTIFY
from hotlead.distribution.models import DistributionRun
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead
from hotlead.notifications.models import EmailEvent
from hotlead.ops.jobs import job_enqueue

logger = logging.getLogger("hotlead.distribution")

RUNS_CURSOR_KEY = "hotlead:recover:runs_checked_upto"
HOLD_CURSOR = timedelta(hours=1)
REQUEUE_GAP_SECONDS = 90
MAX_REQUEUES = 5
BATCH = 2000


def recovery_after_seconds() -> int:
    """How long after approval a lead still approved counts as lost.

    HOTLEAD["APPROVED_RECOVERY_AFTER_SECONDS"] when set; by default 60 s on the Redis broker (a lost job never
    comes back) and `retry` + 30 s on the ORM broker, which hands a killed worker's job out again after
    `retry` by itself: re-queueing sooner would only add a second job for every lead that is merely waiting
    in a backlog, and make the backlog longer."""
    configured = settings.HOTLEAD.get("APPROVED_RECOVERY_AFTER_SECONDS")
    if configured is not None:
        return int(configured)
    if "redis" in settings.Q_CLUSTER:
        return 60
    return int(settings.Q_CLUSTER.get("retry", 90)) + 30


def approved_leads_requeue(*, now: datetime | None = None, older_than_seconds: int | None = None,
                           limit: int = BATCH) -> list[int]:
    """Queue a distribution job for every lead approved longer ago than the threshold; return their ids."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=recovery_after_seconds() if older_than_seconds is None else older_than_seconds)
    waiting = list(
        Lead.objects.filter(status=LeadStatus.APPROVED, is_fraud=False, approved_at__lt=cutoff)
        .order_by("approved_at", "id").values_list("pk", flat=True)[:limit]
    )
    queued = []
    for lead_id in waiting:
        # not when queued again moments ago (that job may still wait in the broker), nor endlessly
        if _gate("lead", lead_id):
            queued.append(lead_id)
    if queued:
        with transaction.atomic():
            for lead_id in queued:
                job_enqueue(LEAD_DISTRIBUTE, lead_id, trigger=RunTrigger.APPROVAL, task_name=f"recover lead {lead_id}")
            transaction.on_commit(lambda: metrics.LEADS_RECOVERED.inc(len(queued)))
        logger.warning("approved leads queued again", extra={"count": len(queued), "first_lead_id": queued[0]})
    return queued


def _gate(kind: str, key: int) -> bool:
    """At most once per REQUEUE_GAP_SECONDS and MAX_REQUEUES times a day for one object."""
    if not cache.add(f"hotlead:recover:{kind}:gap:{key}", 1, timeout=REQUEUE_GAP_SECONDS):
        return False
    count_key = f"hotlead:recover:{kind}:count:{key}"
    cache.add(count_key, 0, timeout=24 * 3600)
    if cache.incr(count_key) > MAX_REQUEUES:
        logger.error("recovery gave up", extra={"kind": kind, "id": key, "requeues": MAX_REQUEUES})
        return False
    return True


def outcomes_requeue(*, now: datetime | None = None, limit: int = BATCH) -> list[int]:
    """Queue the follow-up job again for runs older than the threshold whose outcome e-mails are missing."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=recovery_after_seconds())
    since = cache.get(RUNS_CURSOR_KEY)
    if since is None:  # first pass (or the cache was emptied): the latest runs
        since = max(0, (DistributionRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) - limit)
    runs = list(DistributionRun.objects.filter(pk__gt=since, finished_at__lt=cutoff)
                .filter(outcome__in=[LeadStatus.DISTRIBUTED, LeadStatus.UNSOLD])
                .order_by("pk").values_list("pk", "lead_id", "outcome", "finished_at")[:limit])
    if not runs:
        return []
    recent = {run_id for run_id, _, _, finished_at in runs if finished_at >= now - HOLD_CURSOR}
    runs = [(run_id, lead_id, outcome) for run_id, lead_id, outcome, _ in runs]
    keys = {run_id: f"lead_outcome:{lead_id}:{outcome}" for run_id, lead_id, outcome in runs}
    sent = set(EmailEvent.objects.filter(dedupe_key__in=keys.values()).values_list("dedupe_key", flat=True))
    unsold_still = set(Lead.objects.filter(pk__in=[lead for _, lead, o in runs if o == LeadStatus.UNSOLD],
                                           status=LeadStatus.UNSOLD).values_list("pk", flat=True))
    missing = [(run_id, lead_id) for run_id, lead_id, outcome in runs
               if keys[run_id] not in sent and (outcome == LeadStatus.DISTRIBUTED or lead_id in unsold_still)]
    queued = [(run_id, lead_id) for run_id, lead_id in missing if _gate("run", run_id)]
    with transaction.atomic():
        for run_id, lead_id in queued:
            job_enqueue(LEAD_OUTCOME_NOTIFY, lead_id, run_id, task_name=f"recover outcome {lead_id}")
    # Runs still missing their e-mails are looked at again next pass (the cursor stops before the first), for
    # an hour: a run whose follow-up fails all that time is the dead-letter queue's (its job is there).
    retry_from = min((run_id for run_id, _ in missing if run_id in recent), default=None)
    cache.set(RUNS_CURSOR_KEY, (retry_from - 1) if retry_from is not None else runs[-1][0], timeout=None)
    if queued:
        logger.warning("outcome notifications queued again", extra={"count": len(queued)})
    return [run_id for run_id, _ in queued]
