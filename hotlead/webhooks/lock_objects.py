"""Row locks of webhook endpoints and deliveries; their place in the global order: hotlead.core.locks."""
from __future__ import annotations

from hotlead.core.locks import lock_taken
from hotlead.webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoint_lock(*, provider_id: int) -> WebhookEndpoint | None:
    """The provider's endpoint (one per provider), locked."""
    lock_taken("webhook_endpoint", provider_id)
    return WebhookEndpoint.objects.select_for_update().filter(provider_id=provider_id).first()


def delivery_claim_lock(*, delivery_id: int) -> WebhookDelivery | None:
    """The delivery (its event read along, not locked) for one attempt."""
    lock_taken("webhook_delivery", delivery_id)
    return WebhookDelivery.objects.select_for_update(of=("self",)).select_related("event").filter(pk=delivery_id) \
        .first()


def delivery_lock(*, delivery_id: int) -> WebhookDelivery:
    """The delivery and its event, locked to record an attempt."""
    lock_taken("webhook_delivery", delivery_id)
    return WebhookDelivery.objects.select_for_update().select_related("event").get(pk=delivery_id)
