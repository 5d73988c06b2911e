"""Issue 14, the roofer's side: inbox rows to decide whom to call, reject-and-report in one step, honest return
rate, times in the provider's zone, the missed-leads notice from the traces, no register page when signed in."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from hotlead.distribution.models import DistributionRun
from hotlead.distribution.services.engine import lead_distribute
from hotlead.levels.models import Subscription
from hotlead.refunds.enums import AutoRule
from hotlead.refunds.models import AutoApprovalRule, BadLeadReport
from tests.distribution.conftest import approved_lead, make_level
from tests.factories.accounts import totp_device_for
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory
from tests.factories.providers import ProviderFactory


@pytest.fixture
def provider(db):
    return ProviderFactory(timezone="America/New_York")


@pytest.fixture
def auto_rules(db) -> None:
    """The automatic-approval rules, switched on (transactional tests flush the seeded rows)."""
    for code in AutoRule.values:
        AutoApprovalRule.objects.update_or_create(code=code, defaults={"enabled": True})


@pytest.fixture
def portal(provider) -> Client:
    client = Client()
    client.force_login(provider.user)
    return client


# --- inbox rows -------------------------------------------------------------------------------------------

def test_an_inbox_row_has_what_a_buyer_needs_to_decide_whom_to_call_first(portal, provider, roofing):
    level = make_level("semi-exclusive", rank=1, price_cents=6_000, max_recipients=3)
    lead = LeadFactory(status="distributed", name="Dana Q. Roof", email="dana@example.org", phone="+14155550111",
                       postal_code="94110", budget_cents=500_000, timeline="asap", category=roofing,
                       description="Water comes through the ceiling of the kitchen every time it rains. " * 3)
    make_assignment(lead=lead, provider=provider, level=level, assigned_at=timezone.now() - timedelta(hours=3))
    make_assignment(lead=lead, provider=ProviderFactory(), level=level)

    html = portal.get("/portal/inbox/").content.decode()

    row = re.search(r'<li class="card lead-row".*?</li>', html, re.S).group(0)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    assert "Dana · Roofing" in text and "Roof" not in text.split("·")[0]  # the first name only
    assert "Water comes through the ceiling of the kitchen every time it rains." in text and "…" in text
    assert "San Francisco, CA 94110" in text
    assert "$5,000.00" in text and "ASAP (as soon as possible)" in text
    assert "3 hours ago" in text and "2 of 3" in text
    assert 'href="tel:+14155550111"' in row and 'href="mailto:dana@example.org"' in row


def test_the_inbox_page_reads_its_rows_in_a_fixed_number_of_queries(portal, provider, roofing,
                                                                    django_assert_max_num_queries):
    level = make_level("shared", rank=1, price_cents=2_500, max_recipients=5)
    for _ in range(15):
        make_assignment(provider=provider, level=level, lead=LeadFactory(status="distributed", category=roofing))

    with django_assert_max_num_queries(12):
        response = portal.get("/portal/inbox/")
    assert response.content.decode().count('data-testid="inbox-row"') == 15


# --- the lead page: accept / reject explained, reject and report in one step --------------------------------

def test_the_lead_page_explains_accept_and_reject_and_offers_the_report_with_the_reject(portal, provider):
    assignment = make_assignment(provider=provider)

    html = portal.get(f"/portal/leads/{assignment.pk}/").content.decode()

    assert 'data-testid="decision-help"' in html
    assert "accepting costs nothing more" in html and "Rejecting alone does <em>not</em> refund the lead" in html
    assert 'name="report"' in html and 'name="report_reason"' in html
    assert f"Reference {assignment.lead.reference}" in html


def test_reject_and_report_in_one_step_files_the_report_and_rejects(portal, provider, auto_rules):
    AutoApprovalRule.objects.update(enabled=False)
    assignment = make_assignment(provider=provider)

    response = portal.post(f"/portal/leads/{assignment.pk}/reject/", {
        "reason": "Nobody by that name at this number", "report": "on", "report_reason": "wrong_contact",
        "report_details": "The number belongs to a bakery."})

    report = BadLeadReport.objects.get(assignment=assignment)
    assert response.status_code == 302 and response.url == f"/portal/reports/{report.pk}/"
    assert (report.reason, report.details, report.status) == ("wrong_contact", "The number belongs to a bakery.",
                                                              "pending")
    assignment.refresh_from_db()
    assert (assignment.status, assignment.reject_reason) == ("rejected", "Nobody by that name at this number")


def test_reject_and_report_when_a_rule_refunds_at_once_leaves_the_lead_refunded(portal, provider, auto_rules):
    assignment = make_assignment(provider=provider, lead=LeadFactory(status="distributed", phone_valid=False))

    portal.post(f"/portal/leads/{assignment.pk}/reject/", {
        "reason": "Fake number", "report": "on", "report_reason": "wrong_contact"})

    assignment.refresh_from_db()
    assert assignment.status == "refunded" and assignment.bad_lead_report.status == "approved"


def test_reject_and_report_needs_a_reason_for_the_report_and_then_does_neither(portal, provider):
    assignment = make_assignment(provider=provider)

    response = portal.post(f"/portal/leads/{assignment.pk}/reject/", {"reason": "Fake", "report": "on"})

    # POST-redirect-GET: the lead page shows the form's error after the redirect
    assert response.status_code == 302 and response["Location"] == f"/portal/leads/{assignment.pk}/"
    assert "Choose what is wrong with the lead" in portal.get(response["Location"]).content.decode()
    assignment.refresh_from_db()
    assert assignment.status == "assigned" and not BadLeadReport.objects.exists()


def test_after_the_window_the_reject_form_no_longer_offers_the_report(portal, provider):
    assignment = make_assignment(provider=provider, assigned_at=timezone.now() - timedelta(days=8))

    html = portal.get(f"/portal/leads/{assignment.pk}/").content.decode()
    portal.post(f"/portal/leads/{assignment.pk}/reject/", {"reason": "Old", "report": "on",
                                                             "report_reason": "wrong_contact"})

    assert 'name="report"' not in html
    assignment.refresh_from_db()
    assert assignment.status == "rejected" and not BadLeadReport.objects.exists()


# --- honest figures -------------------------------------------------------------------------------------------

def test_the_return_rate_counts_the_leads_actually_bought(portal, provider, auto_rules):
    reported = make_assignment(provider=provider)
    BadLeadReport.objects.create(assignment=reported, provider=provider, reason="other", details="x")
    fresh = make_assignment(provider=provider)

    html = portal.get(f"/portal/leads/{fresh.pk}/report/").content.decode()

    assert "Your return rate: <strong>1 of your 2 leads</strong>" in html and "reported as bad (50%)" in html
    assert "2.00%" not in html and "on your last 50 leads" not in html


def test_bad_lead_pages_show_times_in_the_providers_zone_without_a_double_period(portal, provider, auto_rules):
    # 11:46 UTC is 6:46 AM in New York (EST)
    sold_at = datetime(2026, 12, 1, 11, 46, tzinfo=UTC)
    assignment = make_assignment(provider=provider, assigned_at=sold_at)
    assignment.status, assignment.accepted_at = "accepted", sold_at
    assignment.save(update_fields=["status", "accepted_at"])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.utils.timezone.now", lambda: sold_at + timedelta(hours=1))
        report_form = portal.get(f"/portal/leads/{assignment.pk}/report/").content.decode()
    lead_page = portal.get(f"/portal/leads/{assignment.pk}/").content.decode()

    assert "on Dec 1, 2026, 6:46 AM (America/New_York)" in report_form
    assert "until Dec 8, 2026, 6:46 AM (America/New_York)." in report_form
    assert "(UTC)" not in report_form and "11:46" not in report_form
    assert "You accepted this lead on Dec 1, 2026, 6:46 AM." in lead_page
    assert ".." not in re.sub(r"<[^>]+>", "", lead_page).replace("...", "")


def test_the_report_page_shows_times_in_the_providers_zone(portal, provider, auto_rules):
    assignment = make_assignment(provider=provider)
    report = BadLeadReport.objects.create(assignment=assignment, provider=provider, reason="other", details="x")
    BadLeadReport.objects.filter(pk=report.pk).update(created_at=datetime(2026, 12, 1, 11, 46, tzinfo=UTC))

    html = portal.get(f"/portal/reports/{report.pk}/").content.decode()

    assert "Filed Dec 1, 2026, 6:46 AM (America/New_York)" in html and "(UTC)" not in html
    assert "1 of your 1 lead reported as bad (100%)" in html


# --- the missed-leads notice, from the stored traces ------------------------------------------------------------

def test_the_home_page_says_how_many_leads_a_low_balance_cost_this_week(portal, provider, roofing):
    # given: our provider subscribed at $60 a lead with $10 on the account, a funded competitor
    level = make_level("semi-exclusive", rank=1, price_cents=6_000, max_recipients=1)
    for p, balance in ((provider, 1_000), (ProviderFactory(balance_cents=100_000), None)):
        p.categories.set([roofing])
        p.service_areas.create(kind="code", value="94110")
        if balance:
            from hotlead.billing.services.ledger import deposit_post

            deposit_post(provider_id=p.pk, amount_cents=balance, key=f"fund-{p.pk}")
        Subscription.objects.create(provider=p, level=level)
    # when: three leads are sold without us, one of them more than 7 days ago
    runs = [lead_distribute(lead_id=approved_lead(category=roofing).pk, trigger="approval") for _ in range(3)]
    DistributionRun.objects.filter(pk=runs[0].pk).update(started_at=timezone.now() - timedelta(days=8))
    assert all(provider.pk in r.trace["levels"][0]["skipped_providers"]["balance"] for r in runs)

    html = portal.get("/portal/").content.decode()

    # then
    notice = re.search(r'data-testid="missed-leads">(.*?)</p>', html, re.S).group(1)
    assert "You missed 2 leads in the last 7 days because your balance was below $60.00." in " ".join(notice.split())
    assert 'href="/portal/billing/"' in notice


def test_a_subscription_paused_for_funds_counts_as_missed_too_and_a_funded_provider_sees_nothing(portal, provider,
                                                                                                 roofing):
    level = make_level("shared", rank=1, price_cents=2_500, max_recipients=5)
    provider.categories.set([roofing])
    provider.service_areas.create(kind="code", value="94110")
    Subscription.objects.create(provider=provider, level=level, status="inactive_funds")
    run = lead_distribute(lead_id=approved_lead(category=roofing).pk, trigger="approval")
    assert provider.pk in run.trace["levels"][0]["skipped_providers"]["inactive"]

    html = portal.get("/portal/").content.decode()
    assert "You missed 1 lead in the last 7 days because your balance was below $25.00." in " ".join(html.split())

    funded = ProviderFactory(balance_cents=100_000)
    client = Client()
    client.force_login(funded.user)
    assert 'data-testid="missed-leads"' not in client.get("/portal/").content.decode()


# --- signed in: no register or login page -----------------------------------------------------------------------

def test_a_signed_in_provider_is_sent_home_from_register_and_login(portal):
    register = portal.get("/portal/register/")
    login = portal.get("/portal/login/")
    login_next = portal.get("/portal/login/?next=/portal/billing/")

    assert (register.status_code, register.url) == (302, "/portal/")
    assert (login.status_code, login.url) == (302, "/portal/")
    assert (login_next.status_code, login_next.url) == (302, "/portal/billing/")


def test_signed_out_or_half_signed_in_visitors_still_see_the_pages(db, client, provider):
    assert client.get("/portal/register/").status_code == 200
    assert client.get("/portal/login/").status_code == 200
    # a session that has not yet given its authenticator code is not sent home (and not logged out)
    totp_device_for(provider.user)
    client.force_login(provider.user)
    assert client.get("/portal/login/").status_code == 200
    assert client.get("/portal/register/").status_code == 200
    assert "_auth_user_id" in client.session


def test_the_demos_python_reading_of_the_traces_agrees_with_the_sql(provider, roofing, monkeypatch):
    from django.db import connection

    from hotlead.distribution.selectors.runs import provider_missed_for_balance

    level = make_level("semi-exclusive", rank=1, price_cents=6_000, max_recipients=1)
    provider.categories.set([roofing])
    provider.service_areas.create(kind="code", value="94110")
    Subscription.objects.create(provider=provider, level=level)
    for _ in range(2):
        lead_distribute(lead_id=approved_lead(category=roofing).pk, trigger="approval")

    in_sql = provider_missed_for_balance(provider_id=provider.pk)
    monkeypatch.setattr(connection, "vendor", "sqlite")
    in_python = provider_missed_for_balance(provider_id=provider.pk)

    assert in_sql == in_python and (in_sql.count, in_sql.price_cents) == (2, 6_000)
