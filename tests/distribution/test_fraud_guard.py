"""A lead marked fraudulent (SPEC §6) is never sold again: not by a job, the schedule or staff."""
from __future__ import annotations

import pytest

from hotlead.distribution.enums import RunTrigger
from hotlead.distribution.models import Assignment, DistributionRun
from hotlead.distribution.services.engine import lead_distribute, unsold_leads_redistribute
from hotlead.leads.enums import LeadStatus
from tests.distribution.conftest import approved_lead, seller

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("trigger", [RunTrigger.APPROVAL, RunTrigger.SCHEDULE])
def test_a_job_does_nothing_for_a_fraudulent_lead(roofing, exclusive, trigger):
    # given an eligible, funded seller and a lead marked fraudulent while it waited
    seller(exclusive)
    status = LeadStatus.APPROVED if trigger == RunTrigger.APPROVAL else LeadStatus.UNSOLD
    lead = approved_lead(status=status)
    lead.is_fraud = True
    lead.save(update_fields=["is_fraud"])
    # when the job runs
    run = lead_distribute(lead_id=lead.pk, trigger=trigger)
    # then nothing is sold, charged or recorded
    assert run is None
    assert Assignment.objects.filter(lead=lead).count() == 0
    assert DistributionRun.objects.filter(lead=lead).count() == 0
    lead.refresh_from_db()
    assert lead.status == status


def test_staff_cannot_distribute_a_fraudulent_lead(client, staff_headers, roofing, exclusive):
    seller(exclusive)
    lead = approved_lead(status=LeadStatus.UNSOLD)
    lead.is_fraud = True
    lead.save(update_fields=["is_fraud"])
    response = client.post(f"/api/v1/admin/leads/{lead.public_id}/distribute", **staff_headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Assignment.objects.filter(lead=lead).count() == 0


def test_the_unsold_schedule_skips_fraudulent_leads(roofing, exclusive, django_capture_on_commit_callbacks):
    fresh = approved_lead(status=LeadStatus.UNSOLD)
    fraudulent = approved_lead(status=LeadStatus.UNSOLD)
    fraudulent.is_fraud = True
    fraudulent.save(update_fields=["is_fraud"])
    with django_capture_on_commit_callbacks() as callbacks:
        queued = unsold_leads_redistribute()
    # then only the honest lead is queued for another run
    assert (queued, len(callbacks)) == (1, 1)
    assert fresh.status == LeadStatus.UNSOLD
