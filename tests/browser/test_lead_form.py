"""The public form at `/` in Chromium: submit → code from the e-mail → confirm; then the lead in the console."""
from __future__ import annotations

import re

import pytest
from django.core import mail

from hotlead.core.models import AuditLog
from hotlead.leads.models import Lead, LeadEvent
from tests.browser.conftest import console_login
from tests.factories.accounts import PASSWORD, StaffFactory, totp_device_for
from tests.factories.leads import CategoryFactory

pytestmark = pytest.mark.django_db(transaction=True)


def code_from_mail(to: str) -> str:
    message = [m for m in mail.outbox if m.to == [to] and "Your Hot Lead code" in m.subject][-1]
    return re.search(r"code: (\d{6})$", message.subject).group(1)


def fill_details(page, **values) -> None:
    for field, value in values.items():
        if field == "category":
            page.select_option("#category", value)
        else:
            page.fill(f"#{field}", value)


def test_submit_verify_confirm_then_review_in_the_console(page, live_server):
    # given: a category, and a staff member with an authenticator app
    CategoryFactory(slug="roofing", name="Roofing")
    staff = StaffFactory()
    device = totp_device_for(staff)

    # when: the submitter sends the form with a bad e-mail and without consent
    page.goto("/")
    fill_details(page, name="Dana Roof", email="dana-at-example.org", phone="(415) 867-5309",
                 postal_code="9411", category="roofing", description="Leaking skylight over the kitchen",
                 budget="$2,500")
    page.click("text=Send my request")

    # then: the errors are shown next to those fields, and nothing was stored
    page.wait_for_selector("#error-email:not([hidden])")
    assert "valid e-mail" in page.text_content("#error-email")
    assert "consent" in page.text_content("#error-consent").lower()
    assert "Enter a US ZIP code: 5 digits" in page.text_content("#error-postal_code")  # issue 14
    assert page.get_attribute("#email", "aria-invalid") == "true"
    assert Lead.objects.count() == 0

    # when: fixed and sent again
    page.fill("#email", "dana@example.org")
    page.fill("#postal_code", "94 110")
    page.check("#consent")
    page.click("text=Send my request")

    # then: the code step; the code arrives by e-mail; the keyboard submits it
    page.wait_for_selector("#step-code:not([hidden])")
    assert page.text_content("#code-email") == "dana@example.org"
    page.fill("#code", code_from_mail("dana@example.org"))
    page.press("#code", "Enter")

    # then: the confirm step shows what the server stored
    page.wait_for_selector("#step-confirm:not([hidden])")
    summary = page.text_content("#summary")
    for expected in ("Dana Roof", "dana@example.org", "+14158675309", "Roofing", "94110", "$2,500"):
        assert expected in summary
    page.click("#confirm")
    page.wait_for_selector("#step-done:not([hidden])")
    lead = Lead.objects.get()
    assert page.text_content("#done-reference") == lead.reference  # short, e.g. HL-7K3Q9 (issue 14)
    assert (lead.status, lead.budget_cents, lead.consent_text_version) == ("pending_review", 250000, "2026-01")
    assert any(m.subject == "We received your request for Roofing" for m in mail.outbox)

    # when: a reviewer logs into the console with the TOTP code and opens the review queue
    console_login(page, email=staff.email, password=PASSWORD, device=device)
    page.goto("/admin/leads/lead/review/")

    # then: the lead is there (the queue shows the lead and its name; the e-mail is on the lead's page)
    row = page.locator(f"tr[data-lead-id='{lead.pk}']")
    assert str(lead.public_id)[:8] in row.inner_text() and lead.name[:20] in row.inner_text()

    # when: the reviewer opens it and approves it, confirming on the next page
    page.goto(f"/admin/leads/lead/{lead.pk}/change/")
    assert "Leaking skylight over the kitchen" in page.content()
    page.goto(f"/admin/leads/lead/{lead.pk}/approve/")
    page.click("button:has-text('Yes, approve')")
    page.wait_for_url(f"**/admin/leads/lead/{lead.pk}/change/")

    # then: the decision is recorded and audited
    assert LeadEvent.objects.filter(lead=lead, action="approved", actor=staff).count() == 1
    assert AuditLog.objects.filter(action="lead.approve", object_id=str(lead.pk), actor=staff).count() == 1


def test_the_emailed_link_verifies_and_lands_on_the_confirm_step(page, live_server):
    CategoryFactory(slug="plumbing", name="Plumbing")
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/")
    # a phone-sized screen needs no sideways scrolling
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    fill_details(page, name="Lee Pipe", email="lee@example.org", phone="+1 415 555 0123", postal_code="10001",
                 category="plumbing", description="Burst pipe under the sink")
    page.check("#consent")
    page.click("text=Send my request")
    page.wait_for_selector("#step-code:not([hidden])")

    # when: the submitter opens the link from the e-mail (a new tab) instead of typing the code
    body = [m for m in mail.outbox if m.to == ["lee@example.org"]][-1].body
    fragment = re.search(r"/(#lead=[0-9a-f-]+&token=[A-Za-z0-9_\-]+)", body).group(1)
    tab = page.context.new_page()
    tab.goto(f"{live_server.url}/{fragment}")

    # then: verified, on the confirm step, and the token is gone from the address bar
    tab.wait_for_selector("#step-confirm:not([hidden])")
    assert "token=" not in tab.url
    assert Lead.objects.get().status == "verified"
    assert "Burst pipe under the sink" in tab.text_content("#summary")
    tab.click("#confirm")
    tab.wait_for_selector("#step-done:not([hidden])")
    assert Lead.objects.get().status == "pending_review"
