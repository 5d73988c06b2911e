"""The portal's webhook page (Django client) and the profile's webhook URL, which the endpoint keeps."""
from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from hotlead.providers.models import Provider
from hotlead.webhooks.enums import EventType
from hotlead.webhooks.models import WebhookDelivery, WebhookEndpoint
from hotlead.webhooks.services import webhook_endpoint_configure, webhook_event_emit
from tests.factories.providers import ProviderFactory
from tests.webhooks.conftest import headers_for

pytestmark = pytest.mark.django_db


def portal_for(provider) -> Client:
    client = Client()
    client.force_login(provider.user)
    return client


def test_a_url_set_in_the_profile_is_the_endpoints_and_the_webhook_page_shows_it(client, provider):
    profile = {"company_name": "Acme", "contact_name": "Al", "phone": "+14155550100", "categories": [],
               "timezone": "America/Chicago", "webhook_url": "https://crm.example.com/hook"}
    response = client.put("/api/v1/provider/profile", json.dumps(profile), content_type="application/json",
                          **headers_for(provider))
    assert response.status_code == 200, response.content
    endpoint = WebhookEndpoint.objects.get(provider=provider)
    assert endpoint.url == "https://crm.example.com/hook" and endpoint.secret.startswith("whsec_")
    got = client.get("/api/v1/provider/webhook", **headers_for(provider)).json()
    assert got["url"] == "https://crm.example.com/hook" and got["has_secret"] and got["secret"] is None
    # and the other way round: the webhook API's URL shows in the profile
    client.put("/api/v1/provider/webhook", json.dumps({"url": "https://crm.example.com/v2"}),
               content_type="application/json", **headers_for(provider))
    assert Provider.objects.get(pk=provider.pk).webhook_url == "https://crm.example.com/v2"
    assert client.get("/api/v1/provider/profile", **headers_for(provider)).json()["webhook_url"] == \
        "https://crm.example.com/v2"


def test_put_refuses_unknown_events_and_plain_http(client, provider):
    bad = client.put("/api/v1/provider/webhook", json.dumps({"url": "https://crm.example.com/h", "events": ["x"]}),
                     content_type="application/json", **headers_for(provider))
    assert bad.status_code == 422
    plain = client.put("/api/v1/provider/webhook", json.dumps({"url": "http://crm.example.com/h"}),
                       content_type="application/json", **headers_for(provider))
    assert plain.status_code == 422 and WebhookEndpoint.objects.count() == 0


def test_the_portal_page_shows_the_secret_once(provider):
    portal = portal_for(provider)
    response = portal.post(reverse("portal:webhook"), {"url": "https://crm.example.com/hook",
                                                        "events": ["lead.assigned"]})
    html = response.content.decode()
    secret = WebhookEndpoint.objects.get(provider=provider).secret
    assert response.status_code == 200 and secret in html
    assert secret not in portal.get(reverse("portal:webhook")).content.decode()
    assert WebhookEndpoint.objects.get(provider=provider).events == ["lead.assigned"]


def test_the_portal_cannot_replay_another_providers_delivery(provider):
    other = ProviderFactory()
    webhook_endpoint_configure(provider=other, url="https://crm.example.org/h")
    theirs = webhook_event_emit(provider_id=other.pk, type=EventType.LEAD_REFUNDED, data={"n": 1})
    webhook_endpoint_configure(provider=provider, url="https://crm.example.com/h")
    portal = portal_for(provider)
    response = portal.post(reverse("portal:webhook_replay", args=[theirs.pk]))
    assert response.status_code == 404 and WebhookDelivery.objects.count() == 1
    assert theirs.event.msg_id not in portal.get(reverse("portal:webhook")).content.decode()


def test_the_portal_page_needs_a_login(client):
    response = client.get(reverse("portal:webhook"))
    assert response.status_code == 302 and "/portal/login/" in response["Location"]
