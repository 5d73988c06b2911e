"""The provider's webhook: endpoint, secret, test, delivery log and replay (SPEC §7). Thin: one call each."""
from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from api.auth import provider_auth
from api.schemas.webhooks import DeliveriesOut, DeliveriesQuery, DeliveryOut, WebhookIn, WebhookOut
from hotlead.webhooks.selectors import deliveries_for_provider, endpoint_for_provider
from hotlead.webhooks.services import (
    webhook_delivery_replay,
    webhook_endpoint_configure,
    webhook_secret_rotate,
    webhook_test_send,
)

router = Router(auth=provider_auth)


def endpoint_out(endpoint, secret: str | None = None) -> dict:
    if endpoint is None:
        return {"url": "", "enabled": False, "events": [], "has_secret": False, "consecutive_failures": 0,
                "disabled_at": None, "disabled_reason": "", "previous_secret_expires_at": None, "secret": None}
    return {"url": endpoint.url, "enabled": endpoint.enabled, "events": list(endpoint.events),
            "has_secret": bool(endpoint.secret), "consecutive_failures": endpoint.consecutive_failures,
            "disabled_at": endpoint.disabled_at, "disabled_reason": endpoint.disabled_reason,
            "previous_secret_expires_at": endpoint.previous_secret_expires_at, "secret": secret}


def delivery_out(delivery) -> dict:
    return {"id": delivery.pk, "event_id": delivery.event.msg_id, "event_type": delivery.event.type,
            "status": delivery.status, "attempts": delivery.attempts, "next_attempt_at": delivery.next_attempt_at,
            "last_status_code": delivery.last_status_code, "last_error": delivery.last_error,
            "created_at": delivery.created_at, "finished_at": delivery.finished_at,
            "replay_of": delivery.replay_of_id,
            "attempt_log": [{"number": a.number, "started_at": a.started_at, "url": a.url, "outcome": a.outcome,
                             "status_code": a.status_code, "latency_ms": a.latency_ms, "error": a.error,
                             "response_body": a.response_body} for a in delivery.attempt_set.all()]}


@router.get("/webhook", response=WebhookOut, summary="Your webhook endpoint (the secret is never shown here)")
def webhook_get(request: HttpRequest):
    return endpoint_out(endpoint_for_provider(provider_id=request.auth.pk))


@router.put("/webhook", response=WebhookOut,
            summary="Set your webhook URL, events, enabled; the first URL's answer carries the secret, once")
def webhook_put(request: HttpRequest, payload: WebhookIn):
    endpoint, secret = webhook_endpoint_configure(provider=request.auth, url=payload.url, enabled=payload.enabled,
                                                  events=payload.events, actor=request.auth.user)
    return endpoint_out(endpoint, secret)


@router.post("/webhook/rotate-secret", response=WebhookOut,
             summary="A new signing secret, shown once; the old one also signs for 24 hours")
def webhook_rotate(request: HttpRequest):
    endpoint, secret = webhook_secret_rotate(provider_id=request.auth.pk, actor=request.auth.user)
    return endpoint_out(endpoint, secret)


@router.post("/webhook/test", response={202: DeliveryOut}, summary="Send a webhook.test event now")
def webhook_test(request: HttpRequest):
    delivery = webhook_test_send(provider_id=request.auth.pk, actor=request.auth.user)
    return Status(202, delivery_out(delivery))


@router.get("/webhook/deliveries", response=DeliveriesOut, summary="The delivery log, newest first")
def webhook_deliveries(request: HttpRequest, filters: Query[DeliveriesQuery]):
    rows = deliveries_for_provider(provider_id=request.auth.pk, status=filters.status,
                                   event_type=filters.event_type, before_id=filters.before, limit=filters.limit + 1)
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    return {"items": [delivery_out(d) for d in rows], "next_before": rows[-1].pk if more and rows else None}


@router.post("/webhook/deliveries/{delivery_id}/replay", response={202: DeliveryOut},
             summary="Deliver the same event again (same webhook-id, so your endpoint can deduplicate)")
def webhook_replay(request: HttpRequest, delivery_id: int):
    delivery = webhook_delivery_replay(delivery_id=delivery_id, provider_id=request.auth.pk,
                                       actor=request.auth.user)
    return Status(202, delivery_out(delivery))
