"""In a real browser: the provider's inbox, a lead accepted, a subscription created with a filter and paused,
and the billing page listing a charge."""
from __future__ import annotations

import re

from hotlead.levels.models import Subscription
from tests.factories.accounts import PASSWORD
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory


def portal_login(page, provider) -> None:
    page.goto("/portal/login/")
    page.fill("input[name='auth-username']", provider.user.email)
    page.fill("input[name='auth-password']", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/portal/$"))


def test_open_the_inbox_open_a_lead_and_accept_it(page):
    # given: a lead sold to this provider and to one other, at a level of up to three buyers
    level = LevelFactory(name="Semi-exclusive", slug="semi-exclusive", rank=2, price_cents=6000, max_recipients=3)
    provider = ProviderFactory(company_name="Ridge Roofing", contact_name="Robin Ridge")
    lead = LeadFactory(status="distributed", name="Dana Roof", email="dana@example.org", phone="+14155550111",
                       postal_code="94110", description="The skylight leaks when it rains.")
    assignment = make_assignment(lead=lead, provider=provider, level=level)
    make_assignment(lead=lead, provider=ProviderFactory(), level=level)

    # when: the provider signs in and opens the inbox from the navigation
    portal_login(page, provider)
    assert page.get_by_test_id("kpi-received").inner_text().strip() == "1"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
    page.wait_for_url("**/portal/inbox/")

    # then: the lead is listed with what the buyer needs to decide whom to call first (issue 14)
    row = page.get_by_test_id("inbox-row")
    assert row.count() == 1
    assert "94110" in row.inner_text() and "2 of 3" in row.inner_text() and "$60.00" in row.inner_text()
    assert "Dana" in row.inner_text() and "The skylight leaks when it rains." in row.inner_text()
    assert row.get_by_test_id("inbox-call").get_attribute("href") == "tel:+14155550111"
    assert row.get_by_test_id("inbox-mail").get_attribute("href") == "mailto:dana@example.org"

    # when: the lead is opened
    row.get_by_role("link", name=re.compile("Open")).click()
    page.wait_for_url(f"**/portal/leads/{assignment.pk}/")

    # then: the contact data and "sold to 2 of 3"
    contact = page.get_by_test_id("lead-contact").inner_text()
    assert "Dana Roof" in contact and "dana@example.org" in contact and "+14155550111" in contact
    assert page.get_by_test_id("sold-to").inner_text() == "Sold to 2 of 3"
    assert page.get_by_test_id("report-bad-lead").is_visible()

    # when: accepted
    page.get_by_test_id("accept").click()

    # then
    page.wait_for_url(f"**/portal/leads/{assignment.pk}/")
    assert page.get_by_test_id("lead-status").inner_text() == "Accepted"
    assert page.get_by_text("Lead accepted").is_visible()
    assert page.get_by_test_id("accept").count() == 0
    assignment.refresh_from_db()
    assert assignment.status == "accepted"

    # and on a phone-sized screen the inbox does not scroll sideways
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto("/portal/inbox/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.get_by_test_id("inbox-row").get_by_text("Accepted").is_visible()


def test_create_a_subscription_with_a_filter_and_pause_it(page):
    # given: a funded provider and a level
    LevelFactory(name="Shared", slug="shared", rank=3, price_cents=2500, max_recipients=5)
    provider = ProviderFactory(balance_cents=10_000)

    # when: subscribing with a postal-code filter and a daily cap
    portal_login(page, provider)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Subscriptions").click()
    page.get_by_test_id("new-subscription").click()
    page.wait_for_url("**/portal/subscriptions/new/")
    page.get_by_label("Competition level").select_option("shared")
    page.get_by_label("Daily lead cap").fill("4")
    page.get_by_label("ZIP code prefixes").fill("941")
    page.get_by_test_id("save-subscription").click()

    # then: it is listed as active, with its filter
    page.wait_for_url("**/portal/subscriptions/")
    card = page.get_by_test_id("subscription")
    assert card.count() == 1
    assert card.get_by_test_id("subscription-status").inner_text() == "Active"
    assert "ZIP code starts with 941" in card.inner_text() and "4 a day" in card.inner_text()
    subscription = Subscription.objects.get(provider=provider)
    assert subscription.filters == [{"field": "postal_code", "op": "prefix", "value": "941"}]

    # when: paused
    card.get_by_test_id("pause").click()

    # then
    page.wait_for_url("**/portal/subscriptions/")
    assert page.get_by_test_id("subscription-status").inner_text() == "Paused"
    assert "Paused: no leads until you resume." in page.get_by_test_id("subscription-reason").inner_text()
    assert page.get_by_test_id("resume").is_visible()
    subscription.refresh_from_db()
    assert subscription.status == "paused"


def test_the_billing_page_lists_a_charge(page):
    # given: a provider who bought a $60.00 lead
    level = LevelFactory(name="Semi-exclusive", slug="semi-exclusive", rank=2, price_cents=6000, max_recipients=3)
    provider = ProviderFactory()
    assignment = make_assignment(provider=provider, level=level,
                                 lead=LeadFactory(status="distributed", postal_code="94112"))

    # when
    portal_login(page, provider)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
    page.wait_for_url("**/portal/billing/")

    # then: the charge, linked to its lead, after the deposit that funded it
    charge = page.locator("[data-testid='ledger-row'][data-kind='charge']")
    assert charge.count() == 1
    assert "Charge" in charge.inner_text() and "-$60.00" in charge.inner_text()
    charge.get_by_role("link", name=re.compile("lead in 94112")).click()
    page.wait_for_url(f"**/portal/leads/{assignment.pk}/")
