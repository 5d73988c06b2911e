"""Marking a lead fraudulent refunds every buyer once and closes open reports; doing it again changes nothing."""
from __future__ import annotations

import uuid

import pytest

from hotlead.billing.enums import EntryKind
from hotlead.billing.models import LedgerEntry
from hotlead.billing.selectors import balance_cents
from hotlead.core.models import AuditLog
from hotlead.distribution.enums import AssignmentStatus
from hotlead.leads.models import Lead
from hotlead.notifications.models import EmailEvent
from hotlead.refunds.models import BadLeadReport
from hotlead.refunds.services import report_approve, report_create, report_reject
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory
from tests.refunds.conftest import api_post, assert_books_balance

pytestmark = pytest.mark.django_db


def _shared_lead(buyers: int = 3, price_cents: int = 2000):
    lead = LeadFactory(status="distributed")
    level = LevelFactory(price_cents=price_cents, max_recipients=buyers)
    providers = [ProviderFactory(balance_cents=500) for _ in range(buyers)]
    assignments = [make_assignment(lead=lead, provider=p, level=level) for p in providers]
    return lead, providers, assignments


def test_mark_fraud_refunds_every_buyer_once_and_closes_open_reports(client, staff_user, staff_headers, rules):
    # given: three buyers; one accepted, one reported (pending), one reported and rejected
    lead, providers, assignments = _shared_lead()
    assignments[0].status = AssignmentStatus.ACCEPTED
    assignments[0].save(update_fields=["status"])
    pending = report_create(provider=providers[1], assignment_id=assignments[1].pk, reason="not_requested")
    rejected = report_create(provider=providers[2], assignment_id=assignments[2].pk, reason="duplicate")
    report_reject(report_id=rejected.pk, actor=staff_user, note="Not a duplicate.")
    # when
    response = api_post(client, f"/api/v1/admin/leads/{lead.public_id}/mark-fraud", staff_headers)
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(lead.public_id) and body["is_fraud"] is True and body["newly_marked"] is True
    assert sorted(row["assignment_id"] for row in body["refunds"]) == sorted(a.pk for a in assignments)
    assert body["refunded_cents"] == 6000 and body["reports_closed"] == [pending.pk]
    lead.refresh_from_db()
    assert lead.is_fraud is True and lead.fraud_marked_at is not None
    for provider, assignment in zip(providers, assignments, strict=True):
        assignment.refresh_from_db()
        assert assignment.status == AssignmentStatus.REFUNDED
        assert LedgerEntry.objects.filter(kind=EntryKind.REFUND, refund_of=assignment.charge_entry).count() == 1
        assert balance_cents(provider_id=provider.pk) == 500 + 2000
        assert_books_balance(provider)
    pending.refresh_from_db()
    rejected.refresh_from_db()
    assert pending.status == "approved" and pending.refund_entry.refund_of_id == assignments[1].charge_entry_id
    assert rejected.status == "rejected"
    assert EmailEvent.objects.filter(template="refund_issued").count() == 3
    assert AuditLog.objects.filter(action="lead.mark_fraud", object_id=str(lead.pk), actor=staff_user).count() == 1


def test_marking_again_refunds_nothing_more(client, staff_headers, rules):
    lead, providers, _ = _shared_lead(buyers=2)
    api_post(client, f"/api/v1/admin/leads/{lead.public_id}/mark-fraud", staff_headers)
    balances = [balance_cents(provider_id=p.pk) for p in providers]
    # when
    response = api_post(client, f"/api/v1/admin/leads/{lead.public_id}/mark-fraud", staff_headers)
    # then
    assert response.status_code == 200
    assert response.json()["newly_marked"] is False and response.json()["refunds"] == []
    assert response.json()["refunded_cents"] == 0
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 2
    assert [balance_cents(provider_id=p.pk) for p in providers] == balances
    assert EmailEvent.objects.filter(template="refund_issued").count() == 2
    for provider in providers:
        assert_books_balance(provider)


def test_a_buyer_refunded_by_an_approved_report_is_not_refunded_again(client, staff_user, staff_headers, rules):
    lead, providers, assignments = _shared_lead(buyers=2)
    report = report_create(provider=providers[0], assignment_id=assignments[0].pk, reason="wrong_contact")
    report_approve(report_id=report.pk, actor=staff_user)
    response = api_post(client, f"/api/v1/admin/leads/{lead.public_id}/mark-fraud", staff_headers)
    assert [row["assignment_id"] for row in response.json()["refunds"]] == [assignments[1].pk]
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 2
    for provider in providers:
        assert balance_cents(provider_id=provider.pk) == 2500
        assert_books_balance(provider)


def test_a_lead_nobody_bought_is_still_marked(client, staff_headers, rules):
    lead = LeadFactory(status="unsold")
    response = api_post(client, f"/api/v1/admin/leads/{lead.public_id}/mark-fraud", staff_headers)
    assert response.status_code == 200 and response.json()["refunds"] == []
    assert Lead.objects.get(pk=lead.pk).is_fraud is True


def test_unknown_lead_and_bad_ids(client, staff_headers, provider_headers, rules):
    assert api_post(client, f"/api/v1/admin/leads/{uuid.uuid4()}/mark-fraud", staff_headers).status_code == 404
    response = api_post(client, "/api/v1/admin/leads/not-a-uuid/mark-fraud", staff_headers)
    assert response.status_code in (404, 422) and "error" in response.json()
    lead, _, _ = _shared_lead(buyers=1)
    assert api_post(client, f"/api/v1/admin/leads/{lead.public_id}/mark-fraud", provider_headers).status_code == 403
    assert Lead.objects.get(pk=lead.pk).is_fraud is False and BadLeadReport.objects.count() == 0
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0


def test_a_fraudulent_leads_assignments_cannot_be_reported_afterwards(client, staff_headers, rules):
    lead, providers, assignments = _shared_lead(buyers=1)
    api_post(client, f"/api/v1/admin/leads/{lead.public_id}/mark-fraud", staff_headers)
    from hotlead.core.exceptions import Conflict

    with pytest.raises(Conflict):
        report_create(provider=providers[0], assignment_id=assignments[0].pk, reason="not_requested")
