"""Webhooks to a provider's own systems (SPEC §7), against a real HTTP receiver on 127.0.0.1."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client import REGISTRY
from standardwebhooks import Webhook

from hotlead.distribution.services.engine import lead_distribute
from hotlead.notifications.models import EmailEvent
from hotlead.ops.models import DeadLetter, DeadLetterStatus
from hotlead.ops.services import dead_letter_retry
from hotlead.webhooks import services
from hotlead.webhooks.enums import AttemptOutcome, DeliveryStatus, EventType
from hotlead.webhooks.models import WebhookDelivery, WebhookEndpoint
from hotlead.webhooks.services import (
    BACKOFF_SECONDS,
    DISABLE_AFTER_FAILURES,
    webhook_deliveries_due,
    webhook_delivery_attempt,
    webhook_endpoint_configure,
    webhook_event_emit,
)
from tests.distribution.conftest import approved_lead, seller
from tests.factories.providers import ProviderFactory
from tests.webhooks.conftest import headers_for

pytestmark = pytest.mark.django_db

API = "/api/v1/provider/webhook"


def put_webhook(client, provider, **body):
    return client.put(API, json.dumps(body), content_type="application/json", **headers_for(provider))


def configured(provider, url) -> str:
    """Set the provider's URL; return the secret (shown this once)."""
    _endpoint, secret = webhook_endpoint_configure(provider=provider, url=url)
    assert secret.startswith("whsec_")
    return secret


def emit(provider, now=None, **data):
    return webhook_event_emit(provider_id=provider.pk, type=EventType.LEAD_REFUNDED, data=data or {"n": 1}, now=now)


def metric(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- the event, its payload and its signature ------------------------------------------------------------

def test_a_sale_posts_lead_assigned_signed_with_the_buyers_view(client, receiver, roofing, exclusive,
                                                                  django_capture_on_commit_callbacks):
    # given a buyer whose endpoint is the receiver
    buyer = seller(exclusive).provider
    response = put_webhook(client, buyer, url=receiver.url)
    assert response.status_code == 200, response.content
    secret = response.json()["secret"]
    lead = approved_lead()
    # when the lead is sold (the outcome job and the delivery job run after commit)
    with django_capture_on_commit_callbacks(execute=True):
        lead_distribute(lead_id=lead.pk, trigger="approval")
    # then one signed POST arrived, verified by the Standard Webhooks library
    assert len(receiver.requests) == 1
    received = receiver.requests[0]
    assert received.path == "/hooks/hotlead"
    payload = Webhook(secret).verify(received.body, received.headers)
    assert payload["type"] == "lead.assigned" and payload["id"] == received.headers["webhook-id"]
    assert payload["id"].startswith("msg_") and payload["timestamp"]
    # and its data is exactly what GET /provider/leads/{id} shows the buyer
    assignment_id = payload["data"]["assignment_id"]
    view = client.get(f"/api/v1/provider/leads/{assignment_id}", **headers_for(buyer)).json()
    assert payload["data"] == view
    assert view["lead"]["email"] == lead.email and view["lead"]["phone"] == lead.phone
    # and the log says so
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.next_attempt_at) == (
        DeliveryStatus.SUCCEEDED, 1, 200, None)
    assert delivery.attempt_set.get().response_body == "ok"


def test_a_tampered_body_or_another_secret_fails_verification(receiver, provider):
    secret = configured(provider, receiver.url)
    delivery = emit(provider)
    webhook_delivery_attempt(delivery_id=delivery.pk)
    received = receiver.requests[0]
    with pytest.raises(Exception, match="signature"):
        Webhook(secret).verify(received.body.replace(b'"n":1', b'"n":2'), received.headers)
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 43 + "=").verify(received.body, received.headers)


def test_no_endpoint_or_an_unsubscribed_type_records_nothing(provider, receiver):
    assert emit(provider) is None
    webhook_endpoint_configure(provider=provider, url=receiver.url, events=["lead.assigned"])
    assert emit(provider) is None
    assert WebhookDelivery.objects.count() == 0


def test_a_rolled_back_change_sends_nothing(provider, receiver, django_capture_on_commit_callbacks):
    from django.db import transaction

    configured(provider, receiver.url)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                emit(provider)
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    assert callbacks == [] and receiver.requests == [] and WebhookDelivery.objects.count() == 0


# --- retries, the dead-letter queue -----------------------------------------------------------------------

def test_failures_are_retried_on_the_backoff_schedule_then_dead_lettered(provider, receiver):
    configured(provider, receiver.url)
    receiver.default = (500, {}, b"down for maintenance" * 500)
    t0 = timezone.now()
    delivery = emit(provider, now=t0)
    at = t0
    for number, wait in enumerate(BACKOFF_SECONDS, start=1):
        attempt = webhook_delivery_attempt(delivery_id=delivery.pk, now=at)
        assert (attempt.number, attempt.outcome, attempt.status_code) == (number, AttemptOutcome.HTTP_ERROR, 500)
        assert len(attempt.response_body) == 4096  # at most 4 KB of the answer is read and kept
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.RETRYING
        assert delivery.next_attempt_at == at + timedelta(seconds=wait)
        # not due a second early: neither the job nor the schedule sends it
        assert webhook_delivery_attempt(delivery_id=delivery.pk, now=at + timedelta(seconds=wait - 1)) is None
        assert webhook_deliveries_due(now=at + timedelta(seconds=wait - 1)) == 0
        assert webhook_deliveries_due(now=at + timedelta(seconds=wait)) == 1
        at += timedelta(seconds=wait)
    # the waits: about 1 min, 5 min, 30 min, 2 h, 8 h
    assert BACKOFF_SECONDS == (60, 300, 1800, 7200, 28800)
    last = webhook_delivery_attempt(delivery_id=delivery.pk, now=at)
    assert last.number == 6
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at, delivery.attempts) == (DeliveryStatus.DEAD, None, 6)
    assert len(receiver.requests) == 6
    letter = DeadLetter.objects.get()
    assert (letter.func, letter.args, letter.status, letter.attempts) == (
        "hotlead.webhooks.tasks.webhook_redeliver_job", [delivery.pk], DeadLetterStatus.OPEN, 6)
    # dead: nothing more is sent on its own
    assert webhook_delivery_attempt(delivery_id=delivery.pk, now=at + timedelta(days=1)) is None
    assert webhook_deliveries_due(now=at + timedelta(days=1)) == 0


def test_staff_retry_of_the_dead_letter_delivers_and_resolves_it(provider, receiver, staff_user,
                                                                 django_capture_on_commit_callbacks):
    configured(provider, receiver.url)
    receiver.answer(503, times=services.MAX_ATTEMPTS)
    delivery = emit(provider)
    now = timezone.now()
    for _ in range(services.MAX_ATTEMPTS):
        webhook_delivery_attempt(delivery_id=delivery.pk, now=now + timedelta(days=1))
        now += timedelta(days=1)
    letter = DeadLetter.objects.get()
    # when staff retry it (the receiver answers again)
    with django_capture_on_commit_callbacks(execute=True):
        dead_letter_retry(dead_letter_id=letter.pk, actor=staff_user)
    delivery.refresh_from_db()
    letter.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == services.MAX_ATTEMPTS + 1
    assert letter.status == DeadLetterStatus.RESOLVED
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1  # every attempt carries the event's id


def test_a_timeout_or_refused_connection_is_a_failed_attempt(provider, receiver, monkeypatch):
    configured(provider, receiver.url)
    receiver.server.shutdown()
    receiver.server.server_close()  # nothing listens any more
    delivery = emit(provider)
    attempt = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert attempt.outcome == AttemptOutcome.NETWORK_ERROR and attempt.status_code is None
    assert "Connection" in attempt.error or "refused" in attempt.error.lower()


def test_timeouts_are_3s_connect_and_10s_in_all():
    from hotlead.webhooks import transport

    assert (transport.CONNECT_TIMEOUT, transport.TOTAL_TIMEOUT, transport.MAX_BODY) == (3.0, 10.0, 4096)


def test_a_slow_endpoint_times_out(provider, receiver, monkeypatch):
    import time as _time

    from hotlead.webhooks import transport

    monkeypatch.setattr(transport, "TOTAL_TIMEOUT", 0.3)
    configured(provider, receiver.url)
    handler = receiver.server.RequestHandlerClass
    original = handler.do_POST

    def slow(self):
        _time.sleep(1.0)
        original(self)

    monkeypatch.setattr(handler, "do_POST", slow)
    delivery = emit(provider)
    attempt = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert attempt.outcome == AttemptOutcome.NETWORK_ERROR and attempt.error == "Timed out."
    assert attempt.latency_ms < 1000


# --- replay, test event, rotation ---------------------------------------------------------------------------

def test_replay_sends_the_same_event_id_and_body(client, provider, receiver, django_capture_on_commit_callbacks):
    secret = configured(provider, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        first = emit(provider)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{API}/deliveries/{first.pk}/replay", **headers_for(provider))
    assert response.status_code == 202, response.content
    replay = response.json()
    assert replay["id"] != first.pk and replay["replay_of"] == first.pk
    assert replay["event_id"] == first.event.msg_id
    assert len(receiver.requests) == 2
    a, b = receiver.requests
    assert a.headers["webhook-id"] == b.headers["webhook-id"] == first.event.msg_id
    assert a.body == b.body
    Webhook(secret).verify(b.body, b.headers)
    assert WebhookDelivery.objects.get(pk=replay["id"]).status == DeliveryStatus.SUCCEEDED


def test_send_test_event(client, provider, receiver, django_capture_on_commit_callbacks):
    secret = put_webhook(client, provider, url=receiver.url).json()["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{API}/test", **headers_for(provider))
    assert response.status_code == 202, response.content
    payload = Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    assert payload["type"] == "webhook.test"
    log = client.get(f"{API}/deliveries", **headers_for(provider)).json()["items"]
    assert [(d["event_type"], d["status"], d["attempt_log"][0]["status_code"]) for d in log] == [
        ("webhook.test", "succeeded", 200)]


def test_the_secret_is_shown_once_and_rotation_keeps_the_old_one_for_24_hours(client, provider, receiver):
    # the PUT that first sets a URL shows the secret; later answers never do
    first = put_webhook(client, provider, url=receiver.url).json()
    old_secret = first["secret"]
    assert old_secret.startswith("whsec_") and first["has_secret"] is True
    assert put_webhook(client, provider, url=receiver.url + "/v2").json()["secret"] is None
    got = client.get(API, **headers_for(provider))
    assert got.json()["secret"] is None and old_secret not in got.content.decode()
    # rotation shows the new one
    rotated = client.post(f"{API}/rotate-secret", **headers_for(provider))
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    assert new_secret not in client.get(API, **headers_for(provider)).content.decode()
    # during the overlap both secrets verify the same delivery
    delivery = emit(provider)
    webhook_delivery_attempt(delivery_id=delivery.pk)
    received = receiver.requests[-1]
    Webhook(new_secret).verify(received.body, received.headers)
    Webhook(old_secret).verify(received.body, received.headers)
    # after 24 hours only the new secret signs
    later = timezone.now() + timedelta(hours=24, seconds=1)
    delivery = emit(provider, now=later)
    webhook_delivery_attempt(delivery_id=delivery.pk, now=later)
    received = receiver.requests[-1]
    body = received.body.decode()
    signatures = received.headers["webhook-signature"].split(" ")
    assert signatures == [Webhook(new_secret).sign(received.headers["webhook-id"], later, body)]
    assert Webhook(old_secret).sign(received.headers["webhook-id"], later, body) not in signatures


def test_rotation_needs_a_url(client, provider):
    response = client.post(f"{API}/rotate-secret", **headers_for(provider))
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


# --- SSRF ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "192.168.0.10", "::1",
                                     "100.64.0.1", "::ffff:10.0.0.1"])
def test_a_name_resolving_to_an_internal_address_is_refused_at_delivery(provider, stranger, monkeypatch, address):
    from hotlead.webhooks import transport

    configured(provider, "https://crm.example.com/hooks")
    monkeypatch.setattr(transport, "_resolve", lambda host, port: [address])
    delivery = emit(provider)
    attempt = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert attempt.outcome == AttemptOutcome.REFUSED and address in attempt.error
    assert stranger.requests == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.RETRYING  # a failure like any other (DNS may be fixed)


def test_one_internal_answer_among_public_ones_is_refused(provider, monkeypatch):
    from hotlead.webhooks import transport

    configured(provider, "https://crm.example.com/hooks")
    monkeypatch.setattr(transport, "_resolve", lambda host, port: ["93.184.215.14", "10.0.0.7"])
    attempt = webhook_delivery_attempt(delivery_id=emit(provider).pk)
    assert attempt.outcome == AttemptOutcome.REFUSED and "10.0.0.7" in attempt.error


@pytest.mark.parametrize("host", ["127.0.0.1", "10.0.0.8", "169.254.169.254"])
def test_an_internal_ip_url_is_refused_when_set_and_when_delivering(client, provider, stranger, host):
    response = put_webhook(client, provider, url=f"https://{host}:{stranger.port}/x")
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
    # an endpoint stored before (or by hand) is refused again at delivery
    configured(provider, "https://crm.example.com/hooks")
    WebhookEndpoint.objects.filter(provider=provider).update(url=f"https://{host}:{stranger.port}/x")
    attempt = webhook_delivery_attempt(delivery_id=emit(provider).pk)
    assert attempt.outcome == AttemptOutcome.REFUSED and stranger.requests == []


def test_a_redirect_is_not_followed(provider, receiver, stranger):
    configured(provider, receiver.url)
    receiver.answer(302, headers={"Location": f"http://127.0.0.1:{stranger.port}/latest/meta-data/"})
    receiver.answer(307, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    for _ in range(2):
        attempt = webhook_delivery_attempt(delivery_id=emit(provider).pk)
        assert attempt.outcome == AttemptOutcome.HTTP_ERROR and "redirects are not followed" in attempt.error
    assert stranger.requests == [] and len(receiver.requests) == 2


def test_allowed_hosts_admit_an_internal_http_receiver_only_on_its_port(settings, provider, receiver, stranger):
    configured(provider, receiver.url)
    WebhookEndpoint.objects.filter(provider=provider).update(url=f"http://127.0.0.1:{stranger.port}/x")
    attempt = webhook_delivery_attempt(delivery_id=emit(provider).pk)
    assert attempt.outcome == AttemptOutcome.REFUSED and stranger.requests == []


# --- disabling after consecutive failures ---------------------------------------------------------------

def test_twenty_consecutive_failures_disable_the_endpoint_and_email_the_provider(client, provider, receiver):
    configured(provider, receiver.url)
    receiver.default = (500, {}, b"")
    # a success in between starts the count over
    for _ in range(DISABLE_AFTER_FAILURES - 1):
        webhook_delivery_attempt(delivery_id=emit(provider).pk)
    receiver.answer(200)
    webhook_delivery_attempt(delivery_id=emit(provider).pk)
    assert WebhookEndpoint.objects.get(provider=provider).consecutive_failures == 0
    for _ in range(DISABLE_AFTER_FAILURES - 1):
        webhook_delivery_attempt(delivery_id=emit(provider).pk)
    endpoint = WebhookEndpoint.objects.get(provider=provider)
    assert endpoint.enabled and EmailEvent.objects.filter(template="webhook_disabled").count() == 0
    # the 20th consecutive failure disables it
    webhook_delivery_attempt(delivery_id=emit(provider).pk)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_at and "20 consecutive" in endpoint.disabled_reason
    mail = EmailEvent.objects.get(template="webhook_disabled")
    assert mail.to == provider.user.email
    # retries pending are not sent; new events are logged as not sent
    sent = len(receiver.requests)
    assert webhook_deliveries_due(now=timezone.now() + timedelta(days=1)) > 0
    for delivery in WebhookDelivery.objects.filter(status=DeliveryStatus.RETRYING):
        assert webhook_delivery_attempt(delivery_id=delivery.pk, now=timezone.now() + timedelta(days=1)) is None
    assert emit(provider).status == DeliveryStatus.CANCELLED
    assert len(receiver.requests) == sent
    assert client.get(API, **headers_for(provider)).json()["enabled"] is False
    # one click enables it again, and the count starts over
    response = put_webhook(client, provider, url=receiver.url, enabled=True)
    assert response.json()["enabled"] is True and response.json()["consecutive_failures"] == 0
    receiver.default = (204, {}, b"")
    attempt = webhook_delivery_attempt(delivery_id=emit(provider).pk)
    assert attempt.outcome == AttemptOutcome.SUCCESS and attempt.status_code == 204


# --- isolation -------------------------------------------------------------------------------------------

def test_another_providers_delivery_is_a_404(client, provider, receiver):
    configured(provider, receiver.url)
    mine = emit(provider)
    other = ProviderFactory()
    response = client.post(f"{API}/deliveries/{mine.pk}/replay", **headers_for(other))
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert client.post(f"{API}/deliveries/99999999/replay", **headers_for(provider)).status_code == 404
    assert client.get(f"{API}/deliveries", **headers_for(other)).json()["items"] == []
    assert [d["id"] for d in client.get(f"{API}/deliveries", **headers_for(provider)).json()["items"]] == [mine.pk]
    assert WebhookDelivery.objects.count() == 1


def test_the_api_requires_a_provider(client, staff_headers):
    assert client.get(API).status_code == 401
    assert client.get(API, **staff_headers).status_code in (401, 403)


def test_the_delivery_log_filters_and_pages(client, provider, receiver):
    configured(provider, receiver.url)
    receiver.answer(500)
    failed = emit(provider)
    webhook_delivery_attempt(delivery_id=failed.pk)
    ok = [emit(provider) for _ in range(3)]
    h = headers_for(provider)
    retrying = client.get(f"{API}/deliveries?status=retrying", **h).json()["items"]
    assert [d["id"] for d in retrying] == [failed.pk]
    assert retrying[0]["next_attempt_at"] is not None and retrying[0]["attempt_log"][0]["status_code"] == 500
    page = client.get(f"{API}/deliveries?limit=2", **h).json()
    assert [d["id"] for d in page["items"]] == [ok[2].pk, ok[1].pk]
    rest = client.get(f"{API}/deliveries?limit=2&before={page['next_before']}", **h).json()
    assert [d["id"] for d in rest["items"]] == [ok[0].pk, failed.pk] and rest["next_before"] is None


# --- other events, metrics -----------------------------------------------------------------------------

def test_a_subscription_status_change_emits_an_event(provider, receiver, exclusive):
    from hotlead.levels.models import Subscription
    from hotlead.levels.services.subscriptions import subscription_pause
    from hotlead.webhooks.models import WebhookEvent

    configured(provider, receiver.url)
    subscription = Subscription.objects.create(provider=provider, level=exclusive)
    subscription_pause(subscription_id=subscription.pk, provider=provider)
    event = WebhookEvent.objects.get(type="subscription.status_changed")
    data = json.loads(event.body)["data"]
    assert (data["subscription_id"], data["level"], data["from"], data["to"]) == (
        subscription.pk, "exclusive", "active", "paused")


def test_metrics_count_outcomes_and_latency(provider, receiver, django_capture_on_commit_callbacks):
    configured(provider, receiver.url)
    before_ok = metric("hotlead_webhook_deliveries_total", outcome="success")
    before_err = metric("hotlead_webhook_deliveries_total", outcome="http_error")
    before_n = metric("hotlead_webhook_delivery_latency_seconds_count", outcome="success")
    receiver.answer(500)
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_attempt(delivery_id=emit(provider).pk)
        webhook_delivery_attempt(delivery_id=emit(provider).pk)
    assert metric("hotlead_webhook_deliveries_total", outcome="success") == before_ok + 1
    assert metric("hotlead_webhook_deliveries_total", outcome="http_error") == before_err + 1
    assert metric("hotlead_webhook_delivery_latency_seconds_count", outcome="success") == before_n + 1


def test_the_scrape_shows_what_waits_for_a_retry_and_disabled_endpoints(client, provider, receiver):
    from prometheus_client.parser import text_string_to_metric_families

    def scrape() -> dict[str, float]:
        text = client.get("/metrics").content.decode()
        return {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples
                if s.name.startswith("hotlead_webhook_")}

    configured(provider, receiver.url)
    assert scrape()["hotlead_webhook_deliveries_retrying"] == 0
    receiver.answer(500)
    webhook_delivery_attempt(delivery_id=emit(provider).pk)
    figures = scrape()
    assert figures["hotlead_webhook_deliveries_retrying"] == 1
    assert figures["hotlead_webhook_endpoints_disabled_now"] == 0
    assert figures["hotlead_webhook_deliveries_total"] >= 1
    WebhookEndpoint.objects.filter(provider=provider).update(enabled=False)
    assert scrape()["hotlead_webhook_endpoints_disabled_now"] == 1


def test_old_delivered_events_are_deleted_but_not_those_still_retrying(provider, receiver):
    from hotlead.webhooks.models import WebhookAttempt, WebhookEvent
    from hotlead.webhooks.services import webhook_events_cleanup

    configured(provider, receiver.url)
    done = emit(provider)
    webhook_delivery_attempt(delivery_id=done.pk)
    receiver.answer(500)
    waiting = emit(provider)
    webhook_delivery_attempt(delivery_id=waiting.pk)
    recent = emit(provider)
    WebhookEvent.objects.filter(pk__in=[done.event_id, waiting.event_id]).update(
        created_at=timezone.now() - timedelta(days=91))
    assert webhook_events_cleanup() == 1
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {waiting.event_id, recent.event_id}
    assert not WebhookAttempt.objects.filter(delivery_id=done.pk).exists()


@pytest.mark.parametrize("in_database", [True, False])
def test_a_sale_that_drains_the_balance_also_sends_the_subscription_change(settings, receiver, roofing, exclusive,
                                                                            in_database,
                                                                            django_capture_on_commit_callbacks):
    from hotlead.webhooks.models import WebhookEvent

    settings.HOTLEAD = {**settings.HOTLEAD, "DISTRIBUTION_IN_DATABASE": in_database}
    subscription = seller(exclusive, balance=exclusive.price_cents)  # exactly one lead's worth
    configured(subscription.provider, receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        lead_distribute(lead_id=approved_lead().pk, trigger="approval")
    types = sorted(WebhookEvent.objects.values_list("type", flat=True))
    assert types == ["lead.assigned", "subscription.status_changed"]
    change = json.loads(WebhookEvent.objects.get(type="subscription.status_changed").body)["data"]
    assert (change["subscription_id"], change["from"], change["to"]) == (subscription.pk, "active", "inactive_funds")
    assert sorted(json.loads(r.body)["type"] for r in receiver.requests) == types
