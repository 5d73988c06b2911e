"""SPEC §4.2-§4.5: the level walk, charging, outcomes, re-distribution, e-mails and the trace."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from hotlead.billing.enums import EntryKind
from hotlead.billing.models import LedgerEntry
from hotlead.billing.selectors import balance_cents, ledger_sum
from hotlead.core.exceptions import Conflict
from hotlead.core.metrics import render_latest
from hotlead.distribution.enums import RunTrigger
from hotlead.distribution.models import Assignment, DistributionRun, LevelCursor
from hotlead.distribution.selectors.runs import lead_distribution_summary, provider_skip_explanation
from hotlead.distribution.services.engine import lead_distribute, lead_distribute_manual
from hotlead.distribution.tasks import assignment_digest_job, lead_distribute_job, unsold_redistribute_job
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead, LeadEvent
from hotlead.leads.services.lifecycle import lead_approve
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import Subscription
from hotlead.notifications.models import EmailEvent
from hotlead.providers.enums import AssignmentNotify
from hotlead.providers.models import Provider
from tests.distribution.conftest import approved_lead, seller

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_job(django_capture_on_commit_callbacks):
    """Run the approval job the way the queue does, with its after-commit work (e-mails) executed."""

    def run(lead, trigger: str = RunTrigger.APPROVAL) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            return lead_distribute_job(lead.pk, trigger=trigger)

    return run


def _sold_to(lead) -> list[int]:
    return sorted(Assignment.objects.filter(lead=lead).values_list("provider_id", flat=True))


# --- the level walk ------------------------------------------------------------------------------------

def test_the_exclusive_level_is_tried_first_and_the_walk_stops_there(roofing, exclusive, semi, shared, run_job):
    # given sellers at every level
    first = seller(exclusive)
    seller(semi), seller(semi), seller(shared)
    lead = approved_lead()
    # when
    assert run_job(lead) == LeadStatus.DISTRIBUTED
    # then one buyer at the exclusive price, and the trace stops at the first level
    lead.refresh_from_db()
    assert _sold_to(lead) == [first.provider_id]
    assignment = Assignment.objects.get(lead=lead)
    assert (assignment.level_id, assignment.price_cents, assignment.category_id) == (exclusive.pk, 12_000,
                                                                                      lead.category_id)
    assert assignment.charge_entry.amount_cents == -12_000
    assert assignment.in_area_at_sale is True
    assert (lead.status, lead.buyers_count) == (LeadStatus.DISTRIBUTED, 1)
    assert lead.distributed_at is not None
    run = DistributionRun.objects.get(lead=lead)
    assert [level["level"] for level in run.trace["levels"]] == ["exclusive"]
    assert (run.trigger, run.outcome, run.buyers) == (RunTrigger.APPROVAL, LeadStatus.DISTRIBUTED, 1)


def test_the_walk_falls_through_to_the_first_level_with_an_eligible_subscription(roofing, plumbing, exclusive, semi,
                                                                                   shared, run_job):
    # given nobody eligible at the exclusive level, two at semi-exclusive, one at shared
    seller(exclusive, balance=100), seller(exclusive, categories=[plumbing])
    semi_buyers = [seller(semi), seller(semi)]
    seller(shared)
    lead = approved_lead()
    # when
    run_job(lead)
    # then
    assert _sold_to(lead) == sorted(s.provider_id for s in semi_buyers)
    trace = DistributionRun.objects.get(lead=lead).trace["levels"]
    assert [t["level"] for t in trace] == ["exclusive", "semi-exclusive"]
    assert trace[0]["skipped"] == {"balance": 1, "category": 1} and trace[0]["chosen"] == []
    assert sorted(trace[1]["chosen"]) == sorted(s.provider_id for s in semi_buyers)
    assert set(Assignment.objects.filter(lead=lead).values_list("price_cents", flat=True)) == {6_000}


def test_a_level_sells_to_at_most_max_recipients(roofing, shared, run_job):
    # given seven eligible subscriptions at a level of five
    sellers = [seller(shared) for _ in range(7)]
    lead = approved_lead()
    # when
    run_job(lead)
    # then the five never-served with the lowest ids (cursor at 0) buy
    lead.refresh_from_db()
    assert _sold_to(lead) == sorted(s.provider_id for s in sellers)[:5]
    assert lead.buyers_count == 5
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE).count() == 5


def test_inactive_and_archived_levels_are_not_walked(roofing, exclusive, semi, shared, run_job):
    seller(exclusive), seller(semi)
    exclusive.active = False
    exclusive.save()
    semi.archived_at = timezone.now()
    semi.active = False
    semi.save()
    buyer = seller(shared)
    lead = approved_lead()
    run_job(lead)
    assert _sold_to(lead) == [buyer.provider_id]
    assert [t["level"] for t in DistributionRun.objects.get(lead=lead).trace["levels"]] == ["shared"]


# --- unsold, re-distribution, idempotency -------------------------------------------------------------

def test_no_eligible_subscription_anywhere_leaves_the_lead_unsold(roofing, exclusive, semi, run_job):
    seller(exclusive, balance=0)
    lead = approved_lead()
    assert run_job(lead) == LeadStatus.UNSOLD
    lead.refresh_from_db()
    assert (lead.status, lead.buyers_count, lead.distributed_at) == (LeadStatus.UNSOLD, 0, None)
    assert not Assignment.objects.filter(lead=lead).exists()
    assert not LedgerEntry.objects.filter(kind=EntryKind.CHARGE).exists()
    run = DistributionRun.objects.get(lead=lead)
    assert run.outcome == LeadStatus.UNSOLD
    assert [t["level"] for t in run.trace["levels"]] == ["exclusive", "semi-exclusive"]
    events = LeadEvent.objects.filter(lead=lead, from_status=LeadStatus.APPROVED, to_status=LeadStatus.UNSOLD)
    assert events.count() == 1


def test_a_retried_job_on_a_distributed_lead_does_nothing(roofing, exclusive, run_job):
    buyer = seller(exclusive, balance=50_000)
    lead = approved_lead()
    assert run_job(lead) == LeadStatus.DISTRIBUTED
    # when the queue delivers the job again (at-least-once)
    assert run_job(lead) == "nothing_to_do"
    # then nothing more was sold, charged, recorded or sent
    assert Assignment.objects.filter(lead=lead).count() == 1
    assert balance_cents(provider_id=buyer.provider_id) == 38_000
    assert DistributionRun.objects.filter(lead=lead).count() == 1
    assert EmailEvent.objects.filter(template="lead_outcome", to=lead.email).count() == 1


@pytest.mark.parametrize("status", [LeadStatus.PENDING_REVIEW, LeadStatus.REJECTED, LeadStatus.UNSOLD])
def test_the_approval_job_ignores_a_lead_that_is_not_approved(roofing, exclusive, run_job, status):
    seller(exclusive)
    lead = approved_lead(status=status)
    assert run_job(lead) == "nothing_to_do"
    assert not DistributionRun.objects.filter(lead=lead).exists()
    assert Lead.objects.get(pk=lead.pk).status == status


def test_an_unsold_lead_is_sold_by_the_retry_schedule_once_someone_can_buy(roofing, exclusive, run_job,
                                                                             django_capture_on_commit_callbacks):
    # given an unsold lead
    lead = approved_lead()
    assert run_job(lead) == LeadStatus.UNSOLD
    # when a seller appears and the 15-minute schedule runs
    buyer = seller(exclusive)
    with django_capture_on_commit_callbacks(execute=True):
        assert unsold_redistribute_job() == 1
    # then
    lead.refresh_from_db()
    assert (lead.status, lead.buyers_count) == (LeadStatus.DISTRIBUTED, 1)
    assert _sold_to(lead) == [buyer.provider_id]
    runs = list(DistributionRun.objects.filter(lead=lead).order_by("id").values_list("trigger", "outcome"))
    assert runs == [(RunTrigger.APPROVAL, LeadStatus.UNSOLD), (RunTrigger.SCHEDULE, LeadStatus.DISTRIBUTED)]
    events = list(LeadEvent.objects.filter(lead=lead, action__in=["unsold", "distributed"])
                  .values_list("from_status", "to_status"))
    assert events == [(LeadStatus.APPROVED, LeadStatus.UNSOLD), (LeadStatus.UNSOLD, LeadStatus.DISTRIBUTED)]


def test_the_retry_schedule_skips_stale_unsold_leads(roofing, exclusive, django_capture_on_commit_callbacks):
    stale = approved_lead(status=LeadStatus.UNSOLD, approved_at=timezone.now() - timedelta(hours=25))
    fresh = approved_lead(status=LeadStatus.UNSOLD, approved_at=timezone.now() - timedelta(hours=23))
    seller(exclusive, balance=1_000_000)
    with django_capture_on_commit_callbacks(execute=True):
        assert unsold_redistribute_job() == 1
    assert Lead.objects.get(pk=stale.pk).status == LeadStatus.UNSOLD
    assert Lead.objects.get(pk=fresh.pk).status == LeadStatus.DISTRIBUTED
    assert not DistributionRun.objects.filter(lead=stale).exists()


def test_a_staff_run_on_a_distributed_lead_is_a_conflict(roofing, exclusive, staff_user):
    seller(exclusive)
    lead = approved_lead()
    lead_distribute(lead_id=lead.pk, trigger=RunTrigger.APPROVAL)
    lead.refresh_from_db()
    with pytest.raises(Conflict):
        lead_distribute_manual(lead=lead, actor=staff_user)
    assert DistributionRun.objects.filter(lead=lead).count() == 1


# --- charging side effects ---------------------------------------------------------------------------------

def test_a_sale_moves_money_last_served_and_the_cursor(roofing, semi):
    # given
    buyers = [seller(semi, balance=10_000) for _ in range(2)]
    lead = approved_lead()
    before = timezone.now()
    # when
    lead_distribute(lead_id=lead.pk, trigger=RunTrigger.APPROVAL)
    # then
    for sub in buyers:
        sub.refresh_from_db()
        assert sub.last_served_at >= before
        assert balance_cents(provider_id=sub.provider_id) == ledger_sum(provider_id=sub.provider_id) == 4_000
        entry = LedgerEntry.objects.get(idempotency_key=f"charge:{lead.pk}:{sub.provider_id}")
        assert (entry.kind, entry.amount_cents, entry.related_type, entry.related_id) == (
            EntryKind.CHARGE, -6_000, "leads.lead", str(lead.pk))
    assert LevelCursor.objects.get(level=semi).last_provider_id == max(s.provider_id for s in buyers)


def test_subscriptions_the_balance_no_longer_covers_become_inactive_funds(roofing, exclusive, semi, shared):
    # given a provider with 15,000 subscribed at every level
    first = seller(exclusive, balance=15_000)
    at_semi = seller(semi, provider=first.provider)
    at_shared = seller(shared, provider=first.provider)
    # when it buys at 12,000 (3,000 left)
    lead_distribute(lead_id=approved_lead().pk, trigger=RunTrigger.APPROVAL)
    # then the 12,000 and 6,000 subscriptions are inactive_funds, the 2,500 one stays active
    statuses = {s.pk: s.status for s in Subscription.objects.filter(provider=first.provider)}
    assert statuses == {first.pk: SubscriptionStatus.INACTIVE_FUNDS, at_semi.pk: SubscriptionStatus.INACTIVE_FUNDS,
                        at_shared.pk: SubscriptionStatus.ACTIVE}


# --- outcomes: e-mails ---------------------------------------------------------------------------------------

def test_the_submitter_and_instant_buyers_are_emailed(roofing, semi, run_job):
    # given three buyers with each e-mail preference
    instant, digest, off = (seller(semi) for _ in range(3))
    Provider.objects.filter(pk=digest.provider_id).update(notify_assignments=AssignmentNotify.DAILY_DIGEST)
    Provider.objects.filter(pk=off.provider_id).update(notify_assignments=AssignmentNotify.OFF)
    lead = approved_lead()
    mail.outbox.clear()
    # when
    run_job(lead)
    # then
    by_to = {m.to[0]: m for m in mail.outbox}
    assert by_to[lead.email].subject == "3 pros received your Roofing request"
    assert "sent to 3 local pros" in by_to[lead.email].body
    instant_email = instant.provider.user.email
    assert by_to[instant_email].subject == "New lead: Roofing in 94110"
    assert "sold to 3 of 3" in by_to[instant_email].body
    assert digest.provider.user.email not in by_to and off.provider.user.email not in by_to
    assert len(mail.outbox) == 2


def test_an_unsold_lead_tells_the_submitter_once(roofing, exclusive, run_job, django_capture_on_commit_callbacks):
    lead = approved_lead()
    mail.outbox.clear()
    run_job(lead)
    with django_capture_on_commit_callbacks(execute=True):
        unsold_redistribute_job()
    assert [m.subject for m in mail.outbox] == ["We are still looking for a pro for your Roofing request"]
    assert DistributionRun.objects.filter(lead=lead).count() == 2


def test_the_daily_digest_lists_yesterdays_leads_once(roofing, shared, run_job):
    # given two leads bought yesterday by a digest provider, and one by an instant provider
    digest = seller(shared)
    Provider.objects.filter(pk=digest.provider_id).update(notify_assignments=AssignmentNotify.DAILY_DIGEST)
    leads = [approved_lead(), approved_lead()]
    for lead in leads:
        run_job(lead)
    Assignment.objects.update(assigned_at=timezone.now() - timedelta(days=1))
    mail.outbox.clear()
    # when the daily job runs twice
    assert assignment_digest_job() == 1
    assert assignment_digest_job() == 0
    # then one digest
    digests = EmailEvent.objects.filter(template="assignment_digest")
    assert digests.count() == 1
    event = digests.get()
    assert event.to == digest.provider.user.email
    assert event.context["count"] == 2
    assert event.context["total"] == "$50.00"


# --- the trace and its readers --------------------------------------------------------------------------------

def test_the_trace_has_the_spec_shape_and_explains_a_provider(roofing, plumbing, exclusive, semi, run_job):
    # given
    winner = seller(semi)
    poor = seller(semi, balance=10)
    seller(exclusive, categories=[plumbing])
    lead = approved_lead()
    # when
    run_job(lead)
    # then the admin summary (SPEC §13: runs → levels → level, considered, skipped, chosen)
    summary = lead_distribution_summary(lead_id=lead.pk)
    assert len(summary["runs"]) == 1
    run = summary["runs"][0]
    assert (run["trigger"], run["outcome"], run["buyers"]) == ("approval", "distributed", 1)
    assert run["levels"] == [
        {"level": "exclusive", "considered": 1, "eligible": 0, "skipped": {"category": 1}, "chosen": [],
         "why": "No eligible subscription (1 category)."},
        {"level": "semi-exclusive", "considered": 2, "eligible": 1, "skipped": {"balance": 1},
         "chosen": [winner.provider_id], "why": run["levels"][1]["why"]},
    ]
    assert run["levels"][1]["why"].startswith("1 eligible; sold to 1 of at most 3")
    # and support can say why the poor provider got nothing
    answers = provider_skip_explanation(lead_id=lead.pk, provider_id=poor.provider_id)
    assert [(a["level"], a["result"]) for a in answers] == [
        ("exclusive", "category_area_or_no_subscription"), ("semi-exclusive", "balance")]


def test_metrics_count_sales_skips_unsold_and_durations(roofing, exclusive, semi, run_job):
    def sample(name: str, **labels) -> float:
        text = render_latest()[0].decode()
        wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
        for line in text.splitlines():
            if line.startswith(wanted + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    created = sample("hotlead_assignments_created_total", level="semi-exclusive")
    skipped = sample("hotlead_assignments_skipped_total", reason="balance")
    unsold = sample("hotlead_leads_unsold_total", trigger="approval")
    durations = sample("hotlead_distribution_duration_seconds_count", outcome="distributed")
    seller(exclusive, balance=100), seller(semi), seller(semi)
    run_job(approved_lead())
    Subscription.objects.update(status=SubscriptionStatus.PAUSED)
    run_job(approved_lead())
    assert sample("hotlead_assignments_created_total", level="semi-exclusive") == created + 2
    assert sample("hotlead_assignments_skipped_total", reason="balance") == skipped + 1
    assert sample("hotlead_leads_unsold_total", trigger="approval") == unsold + 1
    assert sample("hotlead_distribution_duration_seconds_count", outcome="distributed") == durations + 1


def test_approval_queues_the_distribution_job(roofing, exclusive, staff_user, django_capture_on_commit_callbacks):
    # given a lead in review and a seller
    buyer = seller(exclusive)
    lead = approved_lead(status=LeadStatus.PENDING_REVIEW, approved_at=None)
    # when staff approve it (the job runs after commit, through the job runner)
    with django_capture_on_commit_callbacks(execute=True):
        lead_approve(lead_id=lead.pk, actor=staff_user)
    # then it is sold by the approval run
    lead.refresh_from_db()
    assert (lead.status, lead.buyers_count) == (LeadStatus.DISTRIBUTED, 1)
    assert _sold_to(lead) == [buyer.provider_id]
    assert list(DistributionRun.objects.filter(lead=lead).values_list("trigger", flat=True)) == [RunTrigger.APPROVAL]
