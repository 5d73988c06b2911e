"""In a real browser (Chromium, 1440×900): the console as an ops tool — the review queue driven by the keyboard,
the tabbed lead page with its plain-language trace and fresh data right after Approve, only the actions that
fit, the provider page's sections, and a lead list that fits the screen."""
from __future__ import annotations

import re

import pytest

from hotlead.leads.models import Lead
from hotlead.providers.models import Provider
from tests.browser.conftest import console_login
from tests.distribution.conftest import make_level, seller
from tests.factories.accounts import PASSWORD, StaffFactory, totp_device_for
from tests.factories.leads import CategoryFactory, LeadFactory

WIDE = {"width": 1440, "height": 900}


@pytest.fixture
def console(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=WIDE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    staff = StaffFactory()
    console_login(page, email=staff.email, password=PASSWORD, device=totp_device_for(staff))
    yield page
    context.close()


@pytest.fixture
def market(transactional_db):
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    exclusive = make_level("exclusive", rank=1, price_cents=12_000, max_recipients=1)
    bay = seller(exclusive, categories=[roofing])
    Provider.objects.filter(pk=bay.provider_id).update(company_name="Bay Roofing Co.")
    return {"roofing": roofing, "provider": Provider.objects.get(pk=bay.provider_id)}


def test_review_queue_approve_and_reject_with_the_keyboard(console, market):
    from datetime import timedelta

    from django.utils import timezone

    first, second, third = (LeadFactory(category=market["roofing"], name=name) for name in ("Ann", "Ben", "Cat"))
    for lead, hours in ((first, 3), (second, 2), (third, 1)):
        Lead.objects.filter(pk=lead.pk).update(created_at=timezone.now() - timedelta(hours=hours))

    console.goto("/admin/")
    console.get_by_role("link", name=re.compile("Review queue")).click()  # the sidebar badge's link
    console.wait_for_url("**/admin/leads/lead/review/")
    assert "3 leads waiting for review" in console.locator("[data-testid='waiting']").inner_text()
    rows = console.locator("tr[data-row]")
    assert rows.first.get_attribute("data-lead-id") == str(first.pk)  # oldest first
    assert "Exclusive: 1 buyer at $120.00" in rows.first.locator("[data-testid='prediction']").inner_text()

    # a: approve the current (first) row
    with console.expect_navigation():
        console.keyboard.press("a")
    console.wait_for_selector("text=Approved 1 lead")
    assert Lead.objects.get(pk=first.pk).status == "distributed"
    assert console.locator("tr[data-row]").count() == 2

    # j moves to the second row; r opens its reason; Enter rejects
    console.keyboard.press("j")
    assert console.locator("tr.hl-current").get_attribute("data-lead-id") == str(third.pk)
    console.keyboard.press("r")
    focused = console.locator("tr.hl-current select[name='reason']")
    assert focused.evaluate("el => el === document.activeElement")
    focused.select_option("spam")
    with console.expect_navigation():
        focused.press("Enter")
    console.wait_for_selector("text=Rejected (spam) 1 lead")
    assert Lead.objects.get(pk=third.pk).status == "rejected"
    assert Lead.objects.get(pk=second.pk).status == "pending_review"
    console.reload()  # POST-redirect-GET: a reload is a plain GET
    assert "1 lead waiting for review" in console.locator("[data-testid='waiting']").inner_text()
    console.screenshot(path="/tmp/console-review-queue.png", full_page=True)


def test_bulk_reject_from_the_queue(console, market):
    leads = [LeadFactory(category=market["roofing"]) for _ in range(3)]
    console.goto("/admin/leads/lead/review/")
    console.keyboard.press("x")
    console.keyboard.press("j")
    console.keyboard.press("x")
    assert console.locator("[data-testid='selected-count']").inner_text() == "2 selected"
    console.select_option("#bulk-reason", "duplicate")
    console.click("#bulk-reject")
    console.wait_for_selector("text=Rejected (duplicate) 2 leads")
    assert [Lead.objects.get(pk=lead.pk).status for lead in leads] == ["rejected", "rejected", "pending_review"]


def test_lead_page_tabs_plain_trace_and_fresh_data_right_after_approve(console, market):
    lead = LeadFactory(category=market["roofing"], name="Pat Submitter")
    console.goto(f"/admin/leads/lead/{lead.pk}/change/")
    actions = console.locator(f"a[href^='/admin/leads/lead/{lead.pk}/']")
    hrefs = {a.get_attribute("href").split("/")[-2] for a in actions.all()}
    assert {"approve", "reject"} <= hrefs and not {"distribute", "mark-fraud"} & hrefs  # only what fits

    console.get_by_role("link", name="Approve").first.click()
    console.get_by_role("button", name="Yes, approve").click()
    console.wait_for_url(f"**/admin/leads/lead/{lead.pk}/change/")

    # fresh right after the action: status, buyers and trace, with no reload
    def field(label: str):
        return console.locator(".field-row", has=console.locator("label", has_text=re.compile(f"^{label}$")))

    assert field("Status").locator(".readonly").inner_text() == "Distributed"
    assert field("What this means").locator(".readonly").inner_text() == "Sold to 1 buyer."

    def tab(name: str):
        return console.locator("#lead_form a").filter(has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))

    story = console.locator("[data-testid='run-story']").first
    assert not story.is_visible()  # on the Sales & trace tab
    tab("Sales & trace").click()
    story.wait_for(state="visible")  # the tab switch is Alpine's, a moment after the click
    assert "Sold to Bay Roofing Co. at Exclusive, $120.00 — it had never had a lead at this level." \
        in story.inner_text()
    assert field("Sales").locator(".readonly").inner_text() == "Sold to 1 buyer (Bay Roofing Co.) for $120.00."
    tab("Contact").click()
    story.wait_for(state="hidden")
    assert lead.email in field("Email").inner_text() and field("Email").is_visible()
    tab("History").click()
    assert "Approved" in field("History").inner_text()
    # a sold lead offers neither Approve, Reject nor Distribute
    hrefs = {a.get_attribute("href").split("/")[-2] for a in actions.all()}
    assert not {"approve", "reject", "distribute"} & hrefs and "mark-fraud" in hrefs
    console.screenshot(path="/tmp/console-lead-page.png", full_page=True)


def test_provider_page_sections_and_suspend_or_reinstate(console, market):
    provider = market["provider"]
    console.goto(f"/admin/providers/provider/{provider.pk}/change/")
    for name in ("balance", "flags", "ledger", "subscriptions", "purchases", "reports", "missed", "audit"):
        assert console.locator(f"section[data-section='{name}']").is_visible(), name
    assert console.locator("[data-testid='balance']").inner_text() == "$1,000.00"
    assert console.get_by_role("link", name="Suspend").count() == 1
    assert console.get_by_role("link", name="Reinstate").count() == 0

    console.get_by_role("link", name="Record deposit").click()
    console.wait_for_url(f"**/admin/billing/account/{provider.pk}/deposit/")
    console.go_back()
    console.get_by_role("link", name="Suspend").first.click()
    console.fill("#status-reason", "Chargeback under review")
    console.get_by_role("button", name="Yes, suspend").click()
    console.wait_for_url(f"**/admin/providers/provider/{provider.pk}/change/")
    assert console.get_by_role("link", name="Reinstate").count() == 1
    assert console.get_by_role("link", name="Suspend").count() == 0
    assert "Provider: suspended" in console.locator("section[data-section='audit']").inner_text()
    console.screenshot(path="/tmp/console-provider-page.png", full_page=True)


OVERFLOWING = """() => {
    const scrolls = el => el === document.documentElement
        || ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    const wide = [document.documentElement, ...document.querySelectorAll('*')]
        .filter(el => el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1 && scrolls(el));
    return wide.map(el => el.tagName + '.' + el.className + ' ' + el.scrollWidth + '>' + el.clientWidth);
}"""


def test_the_lead_list_fits_1440_pixels(console, market):
    for i in range(12):
        LeadFactory(category=market["roofing"], name=f"Someone With A Rather Long Name {i}",
                    email=f"a.very.long.email.address.{i}@example-company-domain.org", budget_cents=1_250_000)
    console.goto("/admin/leads/lead/")
    assert console.locator("#result_list tbody tr").count() == 12
    assert console.evaluate(OVERFLOWING) == []
    assert len(console.content().encode()) < 190_000
    console.screenshot(path="/tmp/console-lead-list.png", full_page=True)


def test_the_other_working_lists_fit_1440_pixels(console, market):
    from hotlead.billing.services.ledger import deposit_post
    from hotlead.distribution.services.engine import lead_distribute
    from tests.distribution.conftest import approved_lead

    lead = approved_lead(category=market["roofing"])
    lead_distribute(lead_id=lead.pk, trigger="approval")
    deposit_post(provider_id=market["provider"].pk, amount_cents=123_456, key="wire:1",
                 memo="Wire transfer received from the provider's bank")
    for url in ("/admin/providers/provider/", "/admin/billing/deposit/", "/admin/billing/ledgerentry/",
                "/admin/distribution/assignment/", "/admin/distribution/distributionrun/",
                "/admin/core/auditlog/", "/admin/leads/lead/review/"):
        console.goto(url)
        assert console.evaluate(OVERFLOWING) == [], url
