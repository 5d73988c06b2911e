"""Delivery to the provider's own systems (SPEC §7): one endpoint per provider, the events sent to it,
each delivery of an event (a replay is a new delivery of the same event) and every HTTP attempt."""
from __future__ import annotations

from django.db import models

from hotlead.webhooks.enums import SUBSCRIBABLE, AttemptOutcome, DeliveryStatus, EventType


def _all_events() -> list[str]:
    return list(SUBSCRIBABLE)


class WebhookEndpoint(models.Model):
    provider = models.OneToOneField("providers.Provider", on_delete=models.CASCADE, related_name="webhook_endpoint")
    url = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True)
    events = models.JSONField(default=_all_events, blank=True, help_text="Event types sent to this endpoint")
    # Standard Webhooks secrets ("whsec_" + base64). Shown once; never returned by a read.
    secret = models.CharField(max_length=100, blank=True)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.url or "(no URL)"


class WebhookEvent(models.Model):
    """One event for one provider; its id (`msg_…`) is the `webhook-id` of every delivery and replay."""

    msg_id = models.CharField(max_length=40, unique=True)
    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="webhook_events")
    type = models.CharField(max_length=40, choices=EventType.choices, db_index=True)
    body = models.TextField(help_text="The exact JSON sent: {id, type, timestamp, data}")
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} {self.msg_id}"


class WebhookDelivery(models.Model):
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="webhook_deliveries")
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays")
    status = models.CharField(max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["provider", "-id"], name="webhook_delivery_provider"),
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due",
                         condition=models.Q(status__in=["pending", "retrying"])),
        ]

    def __str__(self) -> str:
        return f"delivery #{self.pk} of {self.event_id} ({self.status})"


class WebhookAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_set")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    url = models.CharField(max_length=200)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    response_body = models.TextField(blank=True, help_text="The first 4 KB of the answer")

    class Meta:
        ordering = ["delivery_id", "number"]
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_unique")]

    def __str__(self) -> str:
        return f"attempt {self.number} of delivery #{self.delivery_id}"
