"""The portal's report form and report page: rules and return rate shown, never a silent denial."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from hotlead.billing.enums import EntryKind
from hotlead.billing.models import LedgerEntry
from hotlead.refunds.enums import AutoRule
from hotlead.refunds.models import AutoApprovalRule, BadLeadReport
from hotlead.refunds.services import report_create
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory
from tests.refunds.conftest import assert_books_balance

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(provider) -> Client:
    client = Client()
    client.force_login(provider.user)
    return client


def test_form_shows_the_rules_and_the_current_rate(portal, provider, rules):
    AutoApprovalRule.objects.filter(code=AutoRule.PHONE_INVALID).update(enabled=False)
    assignment = make_assignment(provider=provider, level=LevelFactory(price_cents=2500))
    response = portal.get(reverse("portal:lead_report", args=[assignment.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "The lead&#x27;s verification e-mail bounced" in html and "The phone number fails validation" in html
    assert "currently off" in html
    # issue 14: over the leads actually bought, and the cap as a count
    assert "Your return rate: <strong>0 of your 1 lead</strong>" in html and "reported as bad (0%)" in html
    assert "Automatic approval stops when more than 10 of your last 50 leads are reported (20%)." in html
    assert "$25.00" in html and 'name="reason"' in html


def test_posting_the_form_files_the_report_and_shows_its_page(portal, provider, rules):
    # given
    assignment = make_assignment(provider=provider)
    # when
    response = portal.post(reverse("portal:lead_report", args=[assignment.pk]),
                           {"reason": "wrong_contact", "details": "The number is disconnected."})
    # then
    report = BadLeadReport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("portal:report_sent", args=[report.pk])
    assert (report.assignment_id, report.reason, report.details) == (assignment.pk, "wrong_contact",
                                                                     "The number is disconnected.")
    page = portal.get(response["Location"]).content.decode()
    assert "Pending" in page and "Our team reviews your report" in page
    assert "No automatic rule applies to this lead" in page
    # a second visit to the form goes to the report instead of a second form
    again = portal.get(reverse("portal:lead_report", args=[assignment.pk]))
    assert again.status_code == 302 and again["Location"] == reverse("portal:report_sent", args=[report.pk])


def test_an_auto_approved_report_says_which_rule_and_the_refund(portal, provider, rules):
    lead = LeadFactory(status="distributed", email_bounced=True)
    assignment = make_assignment(provider=provider, lead=lead, level=LevelFactory(price_cents=1900))
    response = portal.post(reverse("portal:lead_report", args=[assignment.pk]), {"reason": "wrong_contact"},
                           follow=True)
    html = response.content.decode()
    assert "Approved automatically: The lead&#x27;s verification e-mail bounced." in html
    assert "$19.00" in html and LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 1
    assert_books_balance(provider)


def test_a_held_report_explains_the_cap(portal, provider, rules, settings):
    settings.HOTLEAD = {**settings.HOTLEAD, "RETURN_RATE_WINDOW": 5, "RETURN_RATE_MAX_PERCENT": 20}
    report_create(provider=provider, assignment_id=make_assignment(provider=provider).pk, reason="duplicate")
    lead = LeadFactory(status="distributed", email_bounced=True)
    assignment = make_assignment(provider=provider, lead=lead)
    response = portal.post(reverse("portal:lead_report", args=[assignment.pk]), {"reason": "wrong_contact"},
                           follow=True)
    html = response.content.decode()
    assert "held for review because your return rate was above the maximum" in html
    assert "40.00%" in html and "above the 20% maximum" in html
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).count() == 0


def test_form_errors_are_shown_and_nothing_is_filed(portal, provider, rules):
    assignment = make_assignment(provider=provider)
    response = portal.post(reverse("portal:lead_report", args=[assignment.pk]), {"reason": "other", "details": ""})
    assert response.status_code == 200
    assert "Describe what is wrong with this lead." in response.content.decode()
    assert BadLeadReport.objects.count() == 0


def test_an_expired_lead_shows_why_it_cannot_be_reported(portal, provider, rules):
    assignment = make_assignment(provider=provider, assigned_at=timezone.now() - timedelta(days=8))
    response = portal.get(reverse("portal:lead_report", args=[assignment.pk]))
    assert "Bad leads can be reported within 7 days of delivery." in response.content.decode()
    assert 'name="reason"' not in response.content.decode()
    posted = portal.post(reverse("portal:lead_report", args=[assignment.pk]), {"reason": "duplicate"})
    assert posted.status_code == 200 and BadLeadReport.objects.count() == 0


def test_other_providers_leads_and_reports_are_404(portal, rules):
    stranger = ProviderFactory()
    assignment = make_assignment(provider=stranger)
    report = report_create(provider=stranger, assignment_id=assignment.pk, reason="duplicate")
    assert portal.get(reverse("portal:lead_report", args=[assignment.pk])).status_code == 404
    assert portal.post(reverse("portal:lead_report", args=[assignment.pk]), {"reason": "other"}).status_code == 404
    assert portal.get(reverse("portal:report_sent", args=[report.pk])).status_code == 404
    assert portal.get("/portal/leads/99999999999999999999999/report/").status_code == 404
    assert BadLeadReport.objects.count() == 1


def test_anonymous_visitors_are_sent_to_log_in(client, rules):
    assignment = make_assignment()
    response = client.get(reverse("portal:lead_report", args=[assignment.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))
