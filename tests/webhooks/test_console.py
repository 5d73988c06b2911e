"""The console's webhook pages: the delivery log with filters, Replay (same event id), endpoints re-enabled."""
from __future__ import annotations

import pytest
from django.urls import reverse

from hotlead.core.models import AuditLog
from hotlead.webhooks.enums import DeliveryStatus, EventType
from hotlead.webhooks.models import WebhookDelivery, WebhookEndpoint
from hotlead.webhooks.services import webhook_delivery_attempt, webhook_endpoint_configure, webhook_event_emit
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def _emit(provider):
    return webhook_event_emit(provider_id=provider.pk, type=EventType.LEAD_REFUNDED, data={"n": 1})


def test_the_log_lists_and_filters_deliveries_without_secrets(staff_console, receiver):
    provider = ProviderFactory(company_name="Ridge Roofing")
    _endpoint, secret = webhook_endpoint_configure(provider=provider, url=receiver.url)
    receiver.answer(500, b"CRM down")
    failed = _emit(provider)
    webhook_delivery_attempt(delivery_id=failed.pk)
    ok = _emit(provider)
    url = reverse("admin:webhooks_webhookdelivery_changelist")
    html = staff_console.get(url).content.decode()
    assert failed.event.msg_id in html and ok.event.msg_id in html and "Ridge Roofing" in html
    filtered = staff_console.get(url, {"status__exact": "retrying"}).content.decode()
    assert failed.event.msg_id in filtered and ok.event.msg_id not in filtered
    detail = staff_console.get(reverse("admin:webhooks_webhookdelivery_change", args=[failed.pk])).content.decode()
    assert "CRM down" in detail and "<td>500</td>" in detail
    endpoint_page = staff_console.get(reverse("admin:webhooks_webhookendpoint_change",
                                              args=[WebhookEndpoint.objects.get().pk])).content.decode()
    assert secret not in endpoint_page and secret not in detail and secret not in html


def test_replay_from_the_console_asks_then_sends_the_same_event(staff_console, staff_user, receiver,
                                                                django_capture_on_commit_callbacks):
    provider = ProviderFactory()
    webhook_endpoint_configure(provider=provider, url=receiver.url)
    first = _emit(provider)
    webhook_delivery_attempt(delivery_id=first.pk)
    url = reverse("admin:webhooks_webhookdelivery_replay_row", args=[first.pk])
    page = staff_console.get(url)
    assert page.status_code == 200 and "Replay these deliveries?" in page.content.decode()
    assert WebhookDelivery.objects.count() == 1  # asking changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_console.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    replay = WebhookDelivery.objects.exclude(pk=first.pk).get()
    assert replay.event_id == first.event_id and replay.replay_of_id == first.pk
    assert replay.status == DeliveryStatus.SUCCEEDED
    assert receiver.requests[0].headers["webhook-id"] == receiver.requests[1].headers["webhook-id"]
    assert AuditLog.objects.filter(action="webhook.replayed", actor=staff_user).count() == 1


def test_a_disabled_endpoint_is_enabled_again_from_the_console(staff_console, receiver):
    provider = ProviderFactory()
    webhook_endpoint_configure(provider=provider, url=receiver.url)
    endpoint = WebhookEndpoint.objects.get()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False, consecutive_failures=20,
                                                          disabled_reason="20 consecutive failed deliveries.")
    url = reverse("admin:webhooks_webhookendpoint_enable_row", args=[endpoint.pk])
    assert staff_console.post(url, {"confirm": "yes"}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 0 and endpoint.disabled_at is None
