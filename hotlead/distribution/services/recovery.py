"""Crash recovery: an approved lead whose distribution job was lost is queued again (SPEC §4, §11).

A distribution job can vanish: the Redis broker has no acknowledgement, so the jobs a killed worker had
taken (up to `queue_limit` of them, prefetched) are gone; the ORM broker hands them out again only after
`Q_CLUSTER["retry"]` seconds. Nothing else would ever sell such a lead: the 15-minute schedule offers
*unsold* leads again, not approved ones. Twice a minute (two 1-minute schedules 30 s apart) every lead
still approved more than HOTLEAD["APPROVED_RECOVERY_AFTER_SECONDS"] (60) after its approval gets a new
distribution job with the approval trigger.

Idempotent with the engine: the approval run sells only a lead that is still approved, under the lead's
row lock, so a lead whose first job was merely slow is sold once and the extra job finds nothing to do.
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
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead
from hotlead.ops.jobs import job_enqueue

logger = logging.getLogger("hotlead.distribution")

DISTRIBUTE_JOB = "hotlead.distribution.tasks.lead_distribute_job"
REQUEUE_GAP_SECONDS = 90
MAX_REQUEUES = 5
BATCH = 2000


def recovery_after_seconds() -> int:
    return int(settings.HOTLEAD.get("APPROVED_RECOVERY_AFTER_SECONDS", 60))


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
        if not cache.add(f"hotlead:recover:gap:{lead_id}", 1, timeout=REQUEUE_GAP_SECONDS):
            continue  # queued again moments ago: that job may still be waiting in the broker
        count_key = f"hotlead:recover:count:{lead_id}"
        cache.add(count_key, 0, timeout=24 * 3600)
        if cache.incr(count_key) > MAX_REQUEUES:
            logger.error("approved lead not recovered", extra={"lead_id": lead_id, "requeues": MAX_REQUEUES})
            continue
        queued.append(lead_id)
    if queued:
        with transaction.atomic():
            for lead_id in queued:
                job_enqueue(DISTRIBUTE_JOB, lead_id, trigger=RunTrigger.APPROVAL, task_name=f"recover lead {lead_id}")
            transaction.on_commit(lambda: metrics.LEADS_RECOVERED.inc(len(queued)))
        logger.warning("approved leads queued again", extra={"count": len(queued), "first_lead_id": queued[0]})
    return queued
