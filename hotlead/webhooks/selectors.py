"""Reads of webhooks: the provider's endpoint and delivery log (another provider's delivery is NotFound)."""
from __future__ import annotations

from django.db.models import QuerySet

from hotlead.core.exceptions import NotFound
from hotlead.core.pagination import MAX_DB_ID, keyset_after
from hotlead.webhooks.enums import DeliveryStatus
from hotlead.webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoint_for_provider(*, provider_id: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(provider_id=provider_id).first()


def deliveries_for_provider(*, provider_id: int | None, status: str | None = None, event_type: str | None = None,
                            before_id: int | None = None, limit: int = 50) -> list[WebhookDelivery]:
    """Newest first, with the event and the attempts; provider_id=None: every provider (staff)."""
    qs: QuerySet = WebhookDelivery.objects.select_related("event", "provider").prefetch_related("attempt_set")
    if provider_id is not None:
        qs = qs.filter(provider_id=provider_id)
    if status:
        qs = qs.filter(status=status)
    if event_type:
        qs = qs.filter(event__type=event_type)
    if before_id:  # the API's `before` is a plain id (next_before), not an opaque cursor
        qs = keyset_after(qs, ("-id",), (before_id,))
    return list(qs.order_by("-id")[:limit])


def delivery_get_for_provider(*, provider_id: int, delivery_id: int) -> WebhookDelivery:
    if not 0 < delivery_id <= MAX_DB_ID:
        raise NotFound("No such webhook delivery.")
    delivery = (WebhookDelivery.objects.select_related("event").prefetch_related("attempt_set")
                .filter(pk=delivery_id, provider_id=provider_id).first())
    if delivery is None:
        raise NotFound("No such webhook delivery.")
    return delivery


def webhook_state_counts() -> dict[str, int]:
    """For the scrape-time gauges: deliveries waiting for a retry, endpoints disabled."""
    return {
        "retrying": WebhookDelivery.objects.filter(status=DeliveryStatus.RETRYING).count(),
        "disabled": WebhookEndpoint.objects.filter(enabled=False).exclude(url="").count(),
    }
