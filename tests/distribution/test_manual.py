"""Staff run the engine by hand: POST /api/v1/admin/leads/{id}/distribute and the console's "Distribute now"."""
from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from hotlead.core.models import AuditLog
from hotlead.distribution.enums import RunTrigger
from hotlead.distribution.models import Assignment, DistributionRun
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead
from tests.distribution.conftest import approved_lead, seller

pytestmark = pytest.mark.django_db


def _url(lead_id) -> str:
    return f"/api/v1/admin/leads/{lead_id}/distribute"


def test_staff_distribute_an_unsold_lead_through_the_api(client, staff_user, staff_headers, roofing, exclusive):
    # given an unsold lead and, now, a seller
    lead = approved_lead(status=LeadStatus.UNSOLD)
    buyer = seller(exclusive)
    # when
    response = client.post(_url(lead.public_id), **staff_headers)
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    run = DistributionRun.objects.get(lead=lead)
    assert body["id"] == str(lead.public_id)
    assert (body["status"], body["buyers_count"]) == ("distributed", 1)
    assert body["run"]["id"] == run.pk
    assert (body["run"]["trigger"], body["run"]["actor"], body["run"]["outcome"], body["run"]["buyers"]) == (
        "manual", staff_user.email, "distributed", 1)
    assert body["run"]["levels"][0] == {
        "level": "exclusive", "considered": 1, "eligible": 1, "skipped": {}, "chosen": [buyer.provider_id],
        "why": body["run"]["levels"][0]["why"]}
    assert (run.trigger, run.actor_id) == (RunTrigger.MANUAL, staff_user.pk)
    audit = AuditLog.objects.get(action="lead.distribute")
    assert (audit.actor_id, audit.object_id) == (staff_user.pk, str(lead.pk))
    assert audit.changes["status"] == ["unsold", "distributed"] and audit.changes["buyers"] == 1


def test_a_manual_run_that_sells_nothing_answers_unsold(client, staff_headers, roofing, exclusive):
    lead = approved_lead()
    response = client.post(_url(lead.public_id), **staff_headers)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["buyers_count"]) == ("unsold", 0)
    assert response.json()["run"]["levels"][0]["why"] == "No live subscription at this level."


@pytest.mark.parametrize("status", [LeadStatus.PENDING_REVIEW, LeadStatus.REJECTED, LeadStatus.DISTRIBUTED,
                                    LeadStatus.PENDING_VERIFICATION, LeadStatus.EXPIRED])
def test_a_lead_in_another_status_is_a_conflict(client, staff_headers, roofing, exclusive, status):
    seller(exclusive)
    lead = approved_lead(status=status)
    response = client.post(_url(lead.public_id), **staff_headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert response.json()["error"]["details"] == {"status": status}
    assert Lead.objects.get(pk=lead.pk).status == status
    assert not DistributionRun.objects.filter(lead=lead).exists()
    assert not Assignment.objects.filter(lead=lead).exists()
    assert not AuditLog.objects.filter(action="lead.distribute").exists()


def test_an_unknown_lead_is_404(client, staff_headers):
    response = client.post(_url(uuid.uuid4()), **staff_headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_bad_lead_id_is_422(client, staff_headers):
    response = client.post(_url("42"), **staff_headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_only_staff_may_distribute(client, provider_headers, roofing, exclusive):
    seller(exclusive)
    lead = approved_lead()
    assert client.post(_url(lead.public_id)).status_code == 401
    assert client.post(_url(lead.public_id), **provider_headers).status_code == 403
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.APPROVED
    assert not DistributionRun.objects.exists()


# --- the console -----------------------------------------------------------------------------------------

def test_the_lead_page_action_asks_for_confirmation_then_distributes(staff_console, staff_user, roofing, exclusive):
    # given an approved lead that one provider can buy
    buyer = seller(exclusive)
    lead = approved_lead()
    detail = reverse("admin:leads_lead_change", args=[lead.pk])
    # when staff use "Distribute now…" on the lead page
    response = staff_console.get(reverse("admin:leads_lead_distribute_detail", args=[lead.pk]))
    assert response.status_code == 302
    confirm_url = response["Location"]
    assert confirm_url.startswith(reverse("admin:distribution_lead_distribute", args=[lead.public_id]))
    # then a confirmation page previews the run, and nothing happened yet
    page = staff_console.get(confirm_url)
    assert page.status_code == 200
    assert b"Distribute this lead now?" in page.content and b"Yes, distribute now" in page.content
    assert not DistributionRun.objects.exists()
    # when confirmed
    response = staff_console.post(confirm_url, {"confirm": "yes", "next": detail})
    # then the lead is sold, the run is the staff member's, and the page shows it
    assert response.status_code == 302 and response["Location"] == detail
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISTRIBUTED
    assert list(Assignment.objects.filter(lead=lead).values_list("provider_id", flat=True)) == [buyer.provider_id]
    run = DistributionRun.objects.get(lead=lead)
    assert (run.trigger, run.actor_id) == (RunTrigger.MANUAL, staff_user.pk)
    assert AuditLog.objects.filter(action="lead.distribute", actor=staff_user).count() == 1
    page = staff_console.get(detail)
    assert b"was sold to 1 provider(s)" in page.content


def test_the_console_refuses_a_lead_that_cannot_be_distributed(staff_console, roofing, exclusive):
    seller(exclusive)
    lead = approved_lead(status=LeadStatus.PENDING_REVIEW)
    url = reverse("admin:distribution_lead_distribute", args=[lead.public_id])
    page = staff_console.get(url)
    assert b"Only an approved or unsold lead can be distributed." in page.content
    assert b"Yes, distribute now" not in page.content
    response = staff_console.post(url, {"confirm": "yes"}, follow=True)
    assert b"cannot be distributed" in response.content
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.PENDING_REVIEW
    assert not DistributionRun.objects.exists()


def test_runs_and_assignments_are_read_only_in_the_console(staff_console, roofing, exclusive):
    seller(exclusive)
    lead = approved_lead()
    staff_console.post(reverse("admin:distribution_lead_distribute", args=[lead.public_id]), {"confirm": "yes"})
    run = DistributionRun.objects.get()
    assignment = Assignment.objects.get()
    for name, pk in (("distributionrun", run.pk), ("assignment", assignment.pk)):
        assert staff_console.get(reverse(f"admin:distribution_{name}_changelist")).status_code == 200
        page = staff_console.get(reverse(f"admin:distribution_{name}_change", args=[pk]))
        assert page.status_code == 200
        assert staff_console.get(reverse(f"admin:distribution_{name}_delete", args=[pk])).status_code == 403
    assert b"exclusive" in staff_console.get(reverse("admin:distribution_distributionrun_change",
                                                     args=[run.pk])).content
