"""Webhook jobs. Thin: fetch by id, call one service. Idempotent: an attempt is made only when due."""
from __future__ import annotations

from hotlead.webhooks.services import webhook_deliveries_due, webhook_delivery_attempt, webhook_events_cleanup


def webhook_deliver_job(delivery_id: int) -> str:
    """One attempt of a delivery, if it is (still) due; failures are scheduled by the service, not raised."""
    attempt = webhook_delivery_attempt(delivery_id=delivery_id)
    return attempt.outcome if attempt else "nothing_to_do"


def webhook_redeliver_job(delivery_id: int) -> str:
    """A dead letter retried by staff: one more attempt; raises when it fails (the letter reopens)."""
    attempt = webhook_delivery_attempt(delivery_id=delivery_id, from_dead_letter=True)
    return attempt.outcome if attempt else "nothing_to_do"


def webhook_deliveries_due_job() -> int:
    """Every minute: queue the deliveries whose next attempt is due (retries, and any lost first attempt)."""
    return webhook_deliveries_due()


def webhook_events_cleanup_job() -> int:
    """Weekly: delete delivered events older than the retention (90 days)."""
    return webhook_events_cleanup()
