"""In a real browser: a provider sets its webhook URL (the secret is shown once), sends a test event that
fails, reads the failure in the delivery log and replays it (same event id) once its receiver is up."""
from __future__ import annotations

import re

from standardwebhooks import Webhook

from hotlead.webhooks.enums import DeliveryStatus
from hotlead.webhooks.models import WebhookDelivery
from tests.factories.accounts import PASSWORD
from tests.factories.providers import ProviderFactory
from tests.webhooks.conftest import receiver  # noqa: F401 - fixture


def test_portal_delivery_log_and_replay(page, receiver):  # noqa: F811
    provider = ProviderFactory(company_name="Ridge Roofing")
    page.goto("/portal/login/")
    page.fill("input[name='auth-username']", provider.user.email)
    page.fill("input[name='auth-password']", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/portal/$"))

    # the webhook page, from the navigation
    page.get_by_role("link", name="Webhook").click()
    page.wait_for_url("**/portal/webhook/")
    assert page.locator("[data-testid='log-empty']").is_visible()
    page.fill("input[name='url']", receiver.url)
    page.get_by_test_id("save").click()
    secret = page.get_by_test_id("secret-value").inner_text()
    assert secret.startswith("whsec_")
    # shown once: the next visit does not show it
    page.goto("/portal/webhook/")
    assert page.get_by_test_id("new-secret").count() == 0 and secret not in page.content()

    # a test event while the receiver fails
    receiver.answer(500, b"CRM is down")
    page.get_by_test_id("send-test").click()
    page.wait_for_url("**/portal/webhook/")
    row = page.get_by_test_id("delivery-row").first
    assert row.get_by_test_id("delivery-status").inner_text() == "Retrying"
    assert "HTTP 500" in row.inner_text()
    event_id = row.get_by_test_id("event-id").inner_text()
    page.screenshot(path="/tmp/portal-webhook-failed.png", full_page=True)

    # replay it: the receiver answers now
    row.get_by_test_id("replay").click()
    page.wait_for_url("**/portal/webhook/")
    rows = page.get_by_test_id("delivery-row")
    assert rows.count() == 2
    newest = rows.first
    assert newest.get_by_test_id("delivery-status").inner_text() == "Succeeded"
    assert newest.get_by_test_id("event-id").inner_text() == event_id
    assert "replay of" in newest.inner_text()
    page.screenshot(path="/tmp/portal-webhook-replayed.png", full_page=True)

    # the receiver got the same event twice, signed with the secret the page showed
    assert [r.headers["webhook-id"] for r in receiver.requests] == [event_id, event_id]
    assert Webhook(secret).verify(receiver.requests[1].body, receiver.requests[1].headers)["type"] == "webhook.test"
    assert sorted(WebhookDelivery.objects.values_list("status", flat=True)) == sorted(
        [DeliveryStatus.RETRYING, DeliveryStatus.SUCCEEDED])

    # the filter shows only what is still retrying
    page.select_option("select[name='status']", "retrying")
    page.get_by_role("button", name="Filter").click()
    assert page.get_by_test_id("delivery-row").count() == 1
