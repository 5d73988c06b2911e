"""Crash recovery: approved leads whose distribution job was lost are sold by the recovery sweep, once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hotlead.billing.models import LedgerEntry
from hotlead.distribution.models import Assignment
from hotlead.distribution.services.recovery import MAX_REQUEUES, approved_leads_requeue
from hotlead.distribution.tasks import approved_leads_recover_job
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead
from hotlead.ops.schedules import SCHEDULES
from tests.distribution.conftest import approved_lead, seller

pytestmark = pytest.mark.django_db(transaction=True)


def _ago(seconds: int):
    return timezone.now() - timedelta(seconds=seconds)


def test_an_approved_lead_whose_job_was_lost_is_sold_by_the_sweep(roofing, exclusive):
    # given: a buyer, a lead approved 200 s ago whose job died with a worker, one approved just now
    seller(exclusive)
    lost = approved_lead(approved_at=_ago(200))
    just_now = approved_lead(approved_at=_ago(5))
    # when: the sweep runs (the job it queues runs inline in tests)
    assert approved_leads_recover_job() == 1
    # then: the lost lead is sold, the recent one is left to its own job
    lost.refresh_from_db()
    just_now.refresh_from_db()
    assert lost.status == LeadStatus.DISTRIBUTED and just_now.status == LeadStatus.APPROVED
    assert Assignment.objects.filter(lead=lost).count() == 1


def test_a_lead_sold_meanwhile_is_not_charged_twice(roofing, exclusive):
    # given: the sweep queues a lead whose own (slow) job then also runs
    seller(exclusive)
    lead = approved_lead(approved_at=_ago(200))
    from hotlead.distribution.tasks import lead_distribute_job

    approved_leads_requeue()
    # when: the original job arrives late
    assert lead_distribute_job(lead.pk) == "nothing_to_do"
    # then: one sale, one charge
    assert Assignment.objects.filter(lead=lead).count() == 1
    assert LedgerEntry.objects.filter(idempotency_key__startswith=f"charge:{lead.pk}:").count() == 1


def test_unsold_rejected_fraud_and_distributed_leads_are_not_swept(roofing, exclusive):
    old = _ago(600)
    for status in (LeadStatus.UNSOLD, LeadStatus.REJECTED, LeadStatus.DISTRIBUTED, LeadStatus.PENDING_REVIEW):
        approved_lead(status=status, approved_at=old)
    approved_lead(approved_at=old, is_fraud=True)
    assert approved_leads_requeue() == []


def test_a_lead_is_requeued_at_most_once_per_gap_and_a_few_times_a_day(roofing):
    # given: an approved lead nobody can buy (no subscription): its runs leave it... unsold; keep it approved by
    # making the sweep only queue (the job finds a lead that stays approved if distribution keeps failing)
    lead = approved_lead(approved_at=_ago(300))
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.APPROVED)
    # when: two sweeps back to back
    first = approved_leads_requeue()
    Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.APPROVED)  # as if the run had failed again
    second = approved_leads_requeue()
    # then: queued once; the second sweep leaves it to the job it just queued
    assert first == [lead.pk] and second == []
    # and over a day at most MAX_REQUEUES times
    from django.core.cache import cache

    queued = 1
    for _ in range(MAX_REQUEUES + 3):
        cache.delete(f"hotlead:recover:lead:gap:{lead.pk}")
        Lead.objects.filter(pk=lead.pk).update(status=LeadStatus.APPROVED)
        queued += len(approved_leads_requeue())
    assert queued == MAX_REQUEUES


def test_the_sweep_runs_twice_a_minute():
    entries = [e for e in SCHEDULES if e["func"] == "hotlead.distribution.tasks.approved_leads_recover_job"]
    assert sorted((e["minutes"], e.get("offset_seconds", 0), e.get("retry", True)) for e in entries) == [
        (1, 0, False), (1, 30, False)]


def test_a_run_whose_outcome_emails_were_lost_gets_them_from_the_sweep(roofing, exclusive, settings):
    # given: a lead sold 2 minutes ago whose follow-up job (the e-mails) died with a worker on Redis
    from django.core import mail

    from hotlead.distribution.models import DistributionRun
    from hotlead.distribution.services.recovery import RUNS_CURSOR_KEY, outcomes_requeue
    from hotlead.notifications.models import EmailEvent

    seller(exclusive)
    lead = approved_lead(approved_at=_ago(180))
    from hotlead.distribution.services.engine import lead_distribute

    run = lead_distribute(lead_id=lead.pk, trigger="approval")  # outside a job: its follow-up is queued after
    EmailEvent.objects.all().delete()                          # commit and ran inline; forget it, as if lost
    mail.outbox.clear()
    DistributionRun.objects.filter(pk=run.pk).update(finished_at=_ago(200))
    from django.core.cache import cache

    cache.delete(RUNS_CURSOR_KEY)
    # when
    assert outcomes_requeue() == [run.pk]
    # then: the submitter and the buyer got their e-mails, once; the next pass finds nothing missing
    assert sorted(e.template for e in EmailEvent.objects.all()) == ["lead_assigned", "lead_outcome"]
    assert outcomes_requeue() == []
    assert len(mail.outbox) == 2


def test_the_threshold_leaves_the_orm_broker_its_own_redelivery_first(settings):
    from hotlead.distribution.services.recovery import recovery_after_seconds

    settings.HOTLEAD = {**settings.HOTLEAD, "APPROVED_RECOVERY_AFTER_SECONDS": None}
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "retry": 90}
    assert recovery_after_seconds() == 120  # the ORM broker hands a killed worker's job out again after 90 s
    settings.Q_CLUSTER = {k: v for k, v in settings.Q_CLUSTER.items() if k != "orm"} | {"redis": "redis://x"}
    assert recovery_after_seconds() == 60  # Redis never does: the sweep is the only way back
    settings.HOTLEAD = {**settings.HOTLEAD, "APPROVED_RECOVERY_AFTER_SECONDS": 5}
    assert recovery_after_seconds() == 5
