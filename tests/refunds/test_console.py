"""The console: review list with filters and rates, approve/reject with confirmation (row, detail, bulk), fraud."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from hotlead.billing.enums import EntryKind
from hotlead.billing.models import LedgerEntry
from hotlead.billing.selectors import balance_cents
from hotlead.core.models import AuditLog
from hotlead.refunds.enums import AutoRule
from hotlead.refunds.models import AutoApprovalRule, BadLeadReport
from hotlead.refunds.services import report_create
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory
from tests.refunds.conftest import assert_books_balance

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/refunds/badleadreport/"


def _report(provider=None, *, reason="wrong_contact", price_cents=1800) -> BadLeadReport:
    provider = provider or ProviderFactory()
    assignment = make_assignment(provider=provider, level=LevelFactory(price_cents=price_cents))
    return report_create(provider=provider, assignment_id=assignment.pk, reason=reason, details="No answer")


def _ids_on_page(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


def test_list_shows_reports_with_the_providers_return_rate_and_filters(staff_console, rules):
    # given
    alice, bob = ProviderFactory(company_name="Alice Roofing"), ProviderFactory(company_name="Bob Plumbing")
    a1, a2 = _report(alice, reason="duplicate"), _report(alice, reason="other")
    b1 = _report(bob, reason="duplicate")
    BadLeadReport.objects.filter(pk=a1.pk).update(created_at=timezone.now() - timedelta(days=4), status="rejected")
    # when
    response = staff_console.get(CHANGELIST)
    # then
    assert response.status_code == 200
    assert _ids_on_page(response) == {a1.pk, a2.pk, b1.pk}
    html = response.content.decode()
    assert "Provider return rate" in html and "4.00% (2/50)" in html and "2.00% (1/50)" in html
    assert _ids_on_page(staff_console.get(CHANGELIST + "?status__exact=pending")) == {a2.pk, b1.pk}
    assert _ids_on_page(staff_console.get(CHANGELIST + "?reason__exact=duplicate")) == {a1.pk, b1.pk}
    assert _ids_on_page(staff_console.get(CHANGELIST + "?provider=alice")) == {a1.pk, a2.pk}
    assert _ids_on_page(staff_console.get(CHANGELIST + f"?provider={bob.pk}")) == {b1.pk}
    assert _ids_on_page(staff_console.get(CHANGELIST + "?age=3to7d")) == {a1.pk}
    assert _ids_on_page(staff_console.get(CHANGELIST + "?age=lt1d")) == {a2.pk, b1.pk}


def test_detail_page_shows_the_signals_and_the_actions(staff_console, rules):
    report = _report()
    response = staff_console.get(reverse("admin:refunds_badleadreport_change", args=[report.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "e-mail bounced: no; phone valid: yes; in the provider&#x27;s areas at sale: yes" in html
    assert "approve/" in html and "reject/" in html and "mark-fraud/" in html


def test_row_approve_asks_for_confirmation_then_refunds_once(staff_console, staff_user, rules):
    # given
    report = _report(price_cents=1800)
    url = reverse("admin:refunds_badleadreport_approve_row", args=[report.pk])
    # when: the confirmation page
    page = staff_console.get(url)
    # then: nothing happened yet
    assert page.status_code == 200 and "Approve 1 bad-lead report?" in page.content.decode()
    assert "$18.00 in total" in page.content.decode()
    report.refresh_from_db()
    assert report.status == "pending" and LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0
    # when: confirmed
    done = staff_console.post(url, {"confirm": "yes", "note": "Checked the number."})
    # then
    assert done.status_code == 302 and done["Location"] == CHANGELIST
    report.refresh_from_db()
    assert (report.status, report.decided_by_id, report.decision_note) == ("approved", staff_user.pk,
                                                                            "Checked the number.")
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 1
    assert balance_cents(provider_id=report.provider_id) == 1800
    assert AuditLog.objects.filter(action="bad_lead.approve", actor=staff_user).count() == 1
    # a second confirmation is refused, visibly, and moves no money
    again = staff_console.post(url, {"confirm": "yes"}, follow=True)
    assert "not changed: This report was already approved" in again.content.decode()
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 1
    assert_books_balance(report.provider)


def test_detail_reject_requires_a_note(staff_console, staff_user, rules):
    report = _report()
    url = reverse("admin:refunds_badleadreport_reject_detail", args=[report.pk])
    missing = staff_console.post(url, {"confirm": "yes", "note": "  "})
    assert missing.status_code == 200 and "Write a note for the provider" in missing.content.decode()
    report.refresh_from_db()
    assert report.status == "pending"
    done = staff_console.post(url, {"confirm": "yes", "note": "The submitter confirmed the request."})
    assert done.status_code == 302 and done["Location"] == reverse("admin:refunds_badleadreport_change",
                                                                   args=[report.pk])
    report.refresh_from_db()
    assert report.status == "rejected" and report.decision_note == "The submitter confirmed the request."
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0


def test_unknown_report_in_an_action_is_404(staff_console, rules):
    assert staff_console.get("/admin/refunds/badleadreport/999999/approve-row/").status_code == 404
    assert staff_console.get("/admin/refunds/badleadreport/abc/approve-row/").status_code == 404


def test_bulk_approve_confirms_then_refunds_each_pending_report_once(staff_console, staff_user, rules):
    # given: two pending, one already rejected
    r1, r2, r3 = _report(price_cents=1000), _report(price_cents=2000), _report(price_cents=4000)
    BadLeadReport.objects.filter(pk=r3.pk).update(status="rejected")
    selection = {"action": "approve_selected", "_selected_action": [r1.pk, r2.pk, r3.pk]}
    # when: the action is chosen
    page = staff_console.post(CHANGELIST, selection)
    # then: a confirmation page, nothing done
    assert page.status_code == 200
    html = page.content.decode()
    assert "Approve 3 bad-lead reports?" in html and "2 pending, $30.00 in total" in html
    assert "Some selected reports are already decided" in html
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0
    # when: confirmed
    done = staff_console.post(CHANGELIST, {**selection, "confirm": "yes", "note": ""}, follow=True)
    # then
    assert done.status_code == 200
    assert f"Approved and refunded: #{r1.pk}, #{r2.pk}." in done.content.decode()
    assert f"Report #{r3.pk} not changed" in done.content.decode()
    assert set(BadLeadReport.objects.filter(status="approved").values_list("pk", flat=True)) == {r1.pk, r2.pk}
    assert sorted(LedgerEntry.objects.filter(kind=EntryKind.REFUND).values_list("amount_cents", flat=True)) == [
        1000, 2000]
    for report in (r1, r2, r3):
        assert_books_balance(report.provider)


def test_bulk_reject_with_a_note(staff_console, rules):
    r1, r2 = _report(), _report()
    selection = {"action": "reject_selected", "_selected_action": [r1.pk, r2.pk]}
    staff_console.post(CHANGELIST, {**selection, "confirm": "yes", "note": "Contact data was correct."})
    assert set(BadLeadReport.objects.values_list("status", "decision_note")) == {
        ("rejected", "Contact data was correct.")}


def test_mark_fraud_page_confirms_then_refunds_every_buyer(staff_console, staff_user, rules):
    # given
    lead = LeadFactory(status="distributed")
    level = LevelFactory(price_cents=2200, max_recipients=2)
    providers = [ProviderFactory(), ProviderFactory()]
    assignments = [make_assignment(lead=lead, provider=p, level=level) for p in providers]
    report = report_create(provider=providers[0], assignment_id=assignments[0].pk, reason="not_requested")
    url = reverse("admin:refunds_lead_mark_fraud", args=[lead.public_id])
    # when: the page
    page = staff_console.get(url + f"?next=/admin/refunds/badleadreport/{report.pk}/change/")
    assert page.status_code == 200
    assert "2 to refund, $44.00 in total" in page.content.decode()
    lead.refresh_from_db()
    assert lead.is_fraud is False
    # when: confirmed
    done = staff_console.post(url, {"confirm": "yes", "next": f"/admin/refunds/badleadreport/{report.pk}/change/"})
    # then
    assert done.status_code == 302 and done["Location"] == f"/admin/refunds/badleadreport/{report.pk}/change/"
    lead.refresh_from_db()
    report.refresh_from_db()
    assert lead.is_fraud is True and report.status == "approved"
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 2
    assert AuditLog.objects.filter(action="lead.mark_fraud", actor=staff_user).count() == 1
    for provider in providers:
        assert balance_cents(provider_id=provider.pk) == 2200
        assert_books_balance(provider)


def test_mark_fraud_ignores_an_offsite_next(staff_console, rules):
    lead = LeadFactory(status="distributed")
    done = staff_console.post(reverse("admin:refunds_lead_mark_fraud", args=[lead.public_id]),
                              {"confirm": "yes", "next": "https://evil.example/"})
    assert done.status_code == 302 and "evil.example" not in done["Location"]


def test_the_detail_action_leads_to_the_fraud_page(staff_console, rules):
    report = _report()
    response = staff_console.get(reverse("admin:refunds_badleadreport_mark_fraud_detail", args=[report.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(
        reverse("admin:refunds_lead_mark_fraud", args=[report.assignment.lead.public_id]))


def test_rules_are_switched_in_the_console_and_audited(staff_console, staff_user, rules):
    rule = AutoApprovalRule.objects.get(code=AutoRule.PHONE_INVALID)
    listing = staff_console.get("/admin/refunds/autoapprovalrule/")
    assert listing.status_code == 200 and "The phone number fails validation" in listing.content.decode()
    response = staff_console.post(f"/admin/refunds/autoapprovalrule/{rule.pk}/change/", {"enabled": ""})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.enabled is False
    assert AuditLog.objects.filter(action="auto_rule.switch", actor=staff_user,
                                   changes={"enabled": [True, False]}).count() == 1
    assert staff_console.get("/admin/refunds/autoapprovalrule/add/").status_code == 403


def test_console_refuses_anonymous_users(client, rules):
    report = _report()
    response = client.post(reverse("admin:refunds_badleadreport_approve_row", args=[report.pk]), {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    report.refresh_from_db()
    assert report.status == "pending"


def test_the_lead_page_action_leads_to_the_fraud_page_and_back(staff_console, rules):
    lead = LeadFactory(status="distributed")
    response = staff_console.get(reverse("admin:leads_lead_mark_fraud_detail", args=[lead.pk]))
    assert response.status_code == 302
    fraud_url = reverse("admin:refunds_lead_mark_fraud", args=[lead.public_id])
    lead_url = reverse("admin:leads_lead_change", args=[lead.pk])
    assert response["Location"] == f"{fraud_url}?next={lead_url}"
    assert "Mark fraudulent" in staff_console.get(lead_url).content.decode()
    done = staff_console.post(fraud_url, {"confirm": "yes", "next": lead_url})
    assert done.status_code == 302 and done["Location"] == lead_url
    lead.refresh_from_db()
    assert lead.is_fraud is True
