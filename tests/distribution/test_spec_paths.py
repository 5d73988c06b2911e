"""SPEC §4.1's order as a total order, a pause made the provider's way, and the §13 trace read back through
GET /admin/leads/{id} after a real approval → engine run."""
from __future__ import annotations

import pytest

from hotlead.accounts.tokens import access_token_encode
from hotlead.distribution.enums import SkipReason
from hotlead.distribution.models import Assignment
from hotlead.distribution.services.engine import lead_distribute
from hotlead.leads.enums import LeadStatus
from hotlead.levels.enums import SubscriptionStatus
from hotlead.levels.models import Subscription
from hotlead.providers.enums import ProviderStatus
from hotlead.providers.models import Provider
from tests.conftest import bearer
from tests.distribution.conftest import approved_lead, seller
from tests.factories.distribution import make_assignment

pytestmark = pytest.mark.django_db

SPEC_ORDER = [SkipReason.INACTIVE, SkipReason.CATEGORY, SkipReason.AREA, SkipReason.FILTER,
              SkipReason.ALREADY_ASSIGNED, SkipReason.SCHEDULE, SkipReason.CAP, SkipReason.BALANCE]


@pytest.mark.parametrize("first", range(len(SPEC_ORDER)), ids=[r.value for r in SPEC_ORDER])
def test_each_reason_is_recorded_before_every_later_one(roofing, plumbing, exclusive, first):
    # given a subscription failing this reason and every reason after it in SPEC §4.1, none before it
    failing = set(SPEC_ORDER[first:])
    lead = approved_lead(budget_cents=1)
    fields = {}
    if SkipReason.FILTER in failing:
        fields["filters"] = [{"field": "budget_cents", "op": "gte", "value": 100_000}]
    if SkipReason.SCHEDULE in failing:
        fields["status"] = SubscriptionStatus.PAUSED
    if SkipReason.CAP in failing:
        fields["daily_cap"] = 0
    subscription = seller(exclusive, balance=10 if SkipReason.BALANCE in failing else 1_000_000,
                          categories=[plumbing] if SkipReason.CATEGORY in failing else [roofing],
                          areas=["10001"] if SkipReason.AREA in failing else ["94110"], **fields)
    if SkipReason.ALREADY_ASSIGNED in failing:
        make_assignment(lead=lead, provider=subscription.provider, subscription=subscription)
    if SkipReason.INACTIVE in failing:
        Provider.objects.filter(pk=subscription.provider_id).update(status=ProviderStatus.SUSPENDED)
    # when
    run = lead_distribute(lead_id=lead.pk, trigger="approval")
    # then only the first failing reason is recorded, and nothing was sold
    (level,) = run.trace["levels"]
    assert run.outcome == LeadStatus.UNSOLD
    assert (level["considered"], level["eligible"], level["chosen"]) == (1, 0, [])
    assert level["skipped"] == {SPEC_ORDER[first].value: 1}
    earlier = 1 if SkipReason.ALREADY_ASSIGNED in failing else 0
    assert Assignment.objects.filter(lead=lead).count() == earlier


def test_a_pause_through_the_provider_api_takes_effect_for_the_very_next_lead(client, roofing, exclusive):
    # given a funded seller who has just bought a lead
    subscription = seller(exclusive, balance=1_000_000)
    headers = bearer(access_token_encode(user=subscription.provider.user, mfa=False)[0])
    url = f"/api/v1/provider/subscriptions/{subscription.pk}"
    assert lead_distribute(lead_id=approved_lead().pk, trigger="approval").buyers == 1

    # when the provider pauses it, the very next lead passes it over
    paused = client.patch(url, {"status": "paused"}, content_type="application/json", **headers)
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    next_lead = approved_lead()
    run = lead_distribute(lead_id=next_lead.pk, trigger="approval")

    # then
    assert run.outcome == LeadStatus.UNSOLD
    assert run.trace["levels"][0]["skipped"] == {"schedule": 1}
    assert run.trace["levels"][0]["skipped_providers"] == {"schedule": [subscription.provider_id]}
    assert not Assignment.objects.filter(lead=next_lead).exists()

    # and once resumed, the next lead is theirs again
    resumed = client.patch(url, {"status": "active"}, content_type="application/json", **headers)
    assert resumed.status_code == 200 and resumed.json()["status"] == "active"
    assert lead_distribute(lead_id=approved_lead().pk, trigger="approval").buyers == 1
    assert Subscription.objects.get(pk=subscription.pk).assignments.count() == 2


def test_the_admin_lead_detail_shows_the_trace_of_a_real_run(client, staff_headers, roofing, plumbing, exclusive,
                                                            semi, django_capture_on_commit_callbacks):
    # given a lead in review; nobody can buy it exclusively, two can at the semi-exclusive level
    seller(exclusive, categories=[plumbing])
    seller(exclusive, balance=100)
    buyers = sorted([seller(semi), seller(semi)], key=lambda s: s.provider_id)
    lead = approved_lead(status=LeadStatus.PENDING_REVIEW, approved_at=None)

    # when staff approve it (the engine runs after commit) and open the lead
    with django_capture_on_commit_callbacks(execute=True):
        approved = client.post(f"/api/v1/admin/leads/{lead.public_id}/approve", content_type="application/json",
                               **staff_headers)
    assert approved.status_code == 200, approved.content
    response = client.get(f"/api/v1/admin/leads/{lead.public_id}", **staff_headers)

    # then SPEC §13: {..., status, assignments: [...], distribution: {runs: [{levels: [{level, considered,
    # skipped: {reason: n}, chosen: [provider_id]}]}]}}
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["buyers_count"]) == ("distributed", 2)
    assert sorted(a["provider_id"] for a in body["assignments"]) == [b.provider_id for b in buyers]
    assert {a["level"] for a in body["assignments"]} == {"semi-exclusive"}
    (run,) = body["distribution"]["runs"]
    assert (run["trigger"], run["outcome"], run["buyers"]) == ("approval", "distributed", 2)
    levels = [{key: level[key] for key in ("level", "considered", "skipped", "chosen")} for level in run["levels"]]
    assert levels == [
        {"level": "exclusive", "considered": 2, "skipped": {"balance": 1, "category": 1}, "chosen": []},
        {"level": "semi-exclusive", "considered": 2, "skipped": {}, "chosen": [b.provider_id for b in buyers]},
    ]


def test_the_unsold_retry_runs_every_15_minutes_through_the_job_runner(roofing, exclusive,
                                                                     django_capture_on_commit_callbacks):
    import ast
    from datetime import UTC, datetime

    from django_q.models import Schedule

    from hotlead.ops.jobs import job_run
    from hotlead.ops.schedules import SCHEDULES, schedule_fields

    # given the schedule as `schedules_sync` registers it (tests/ops prove the sync itself)
    (entry,) = [e for e in SCHEDULES if e["name"] == "distribution.unsold_retry"]
    schedule = schedule_fields(entry, now=datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    assert (schedule["schedule_type"], schedule["minutes"], schedule["repeats"]) == (Schedule.MINUTES, 15, -1)
    assert schedule["func"] == "hotlead.ops.jobs.job_run"
    func_path, args, kwargs = ast.literal_eval(schedule["args"])
    assert func_path == "hotlead.distribution.tasks.unsold_redistribute_job"
    # when what is stored runs, with a fresh unsold lead that someone can now buy
    lead = approved_lead(status=LeadStatus.UNSOLD)
    buyer = seller(exclusive)
    with django_capture_on_commit_callbacks(execute=True):
        assert job_run(func_path, args, kwargs) == 1
    # then the lead is sold by a run of the schedule
    lead.refresh_from_db()
    assert (lead.status, lead.buyers_count) == (LeadStatus.DISTRIBUTED, 1)
    assert list(Assignment.objects.filter(lead=lead).values_list("provider_id", flat=True)) == [buyer.provider_id]
    assert list(lead.distribution_runs.values_list("trigger", flat=True)) == ["schedule"]
