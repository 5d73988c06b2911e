"""In a real browser: a provider reports a lead in the portal, staff approve it in the console, the provider's
billing page shows the refund."""
from __future__ import annotations

import re

from hotlead.billing.enums import EntryKind
from hotlead.billing.models import LedgerEntry
from hotlead.billing.selectors import balance_cents
from hotlead.refunds.enums import AutoRule
from hotlead.refunds.models import AutoApprovalRule, BadLeadReport
from tests.browser.conftest import console_login
from tests.factories.accounts import PASSWORD, StaffFactory, totp_device_for
from tests.factories.distribution import make_assignment
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory
from tests.refunds.conftest import assert_books_balance


def test_provider_reports_staff_approve_refund_shows_in_billing(page, browser, live_server):
    # given: a provider who bought a $37.50 lead, and a staff member with an authenticator
    for code in AutoRule.values:
        AutoApprovalRule.objects.update_or_create(code=code, defaults={"enabled": True})
    provider = ProviderFactory(company_name="Ridge Roofing")
    assignment = make_assignment(provider=provider, level=LevelFactory(name="Exclusive", price_cents=3750))
    staff = StaffFactory()
    device = totp_device_for(staff)

    # when: the provider signs in, opens the lead and reports it
    page.goto("/portal/login/")
    page.fill("input[name='auth-username']", provider.user.email)
    page.fill("input[name='auth-password']", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/portal/$"))
    page.goto(f"/portal/leads/{assignment.pk}/")
    page.get_by_role("link", name=re.compile("report a bad lead", re.I)).click()  # the nav also has "Reports"
    page.wait_for_url(f"**/portal/leads/{assignment.pk}/report/")
    assert "Your return rate" in page.locator("[data-testid='return-rate']").inner_text()
    page.get_by_label("Wrong contact details").check()
    page.fill("textarea[name='details']", "The phone number belongs to someone else.")
    page.get_by_role("button", name="Send the report").click()
    # then: the report's page says it waits for review
    page.wait_for_url("**/portal/reports/*/")
    assert page.locator("[data-testid='report-status']").inner_text() == "Pending"
    report = BadLeadReport.objects.get(assignment=assignment)
    page.screenshot(path="/tmp/bad-lead-report-sent.png", full_page=True)

    # when: staff open the report in the console and approve it, confirming on the next page
    staff_context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    staff_context.set_default_timeout(15_000)
    console = staff_context.new_page()
    try:
        console_login(console, email=staff.email, password=PASSWORD, device=device)
        console.goto("/admin/refunds/badleadreport/?status__exact=pending")
        assert "Ridge Roofing" in console.content() and "2.00% (1/50)" in console.content()
        console.goto(f"/admin/refunds/badleadreport/{report.pk}/change/")
        console.get_by_role("link", name="Approve and refund").first.click()
        console.wait_for_url(f"**/admin/refunds/badleadreport/{report.pk}/approve/")
        console.fill("#decision-note", "The number is not the submitter's.")
        console.screenshot(path="/tmp/bad-lead-approve-confirm.png", full_page=True)
        console.get_by_role("button", name="Yes, approve and refund").click()
        console.wait_for_url(f"**/admin/refunds/badleadreport/{report.pk}/change/")
        assert f"Approved and refunded: #{report.pk}." in console.content()
    finally:
        staff_context.close()

    # then: exactly one refund of the charged amount; the provider sees it on the billing page
    refund = LedgerEntry.objects.get(kind=EntryKind.REFUND)
    assert refund.amount_cents == 3750 and refund.refund_of_id == assignment.charge_entry_id
    assert balance_cents(provider_id=provider.pk) == 3750
    assert_books_balance(provider)
    page.goto("/portal/billing/")
    refund_row = page.locator("tr", has_text=f"Refund for bad-lead report #{report.pk}")
    assert refund_row.count() == 1 and "+$37.50" in refund_row.inner_text()
    page.screenshot(path="/tmp/bad-lead-billing.png", full_page=True)
    page.goto(f"/portal/reports/{report.pk}/")
    assert page.locator("[data-testid='report-status']").inner_text() == "Approved"
    assert page.locator("[data-testid='report-refund']").inner_text() == "$37.50"
