from django.db import models


class EventType(models.TextChoices):
    LEAD_ASSIGNED = "lead.assigned", "A lead was sold to you"
    LEAD_REFUNDED = "lead.refunded", "A bought lead was refunded"
    SUBSCRIPTION_STATUS_CHANGED = "subscription.status_changed", "A subscription changed status"
    TEST = "webhook.test", "Test event (sent on request)"


# What a provider can subscribe to (the test event is always sent when asked for).
SUBSCRIBABLE = [EventType.LEAD_ASSIGNED.value, EventType.LEAD_REFUNDED.value,
                EventType.SUBSCRIPTION_STATUS_CHANGED.value]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"            # queued, no attempt yet
    RETRYING = "retrying", "Retrying"         # failed at least once, next attempt at next_attempt_at
    SUCCEEDED = "succeeded", "Succeeded"      # a 2xx answer
    DEAD = "dead", "Failed (dead letter)"     # every attempt failed: in the dead-letter queue
    CANCELLED = "cancelled", "Not sent (endpoint disabled)"


class AttemptOutcome(models.TextChoices):
    SUCCESS = "success", "2xx"
    HTTP_ERROR = "http_error", "Non-2xx answer"
    NETWORK_ERROR = "network_error", "Network error or timeout"
    REFUSED = "refused", "Refused (address not allowed)"
