"""Every e-mail the product sends is an EmailEvent (SPEC §11)."""
from __future__ import annotations

from django.db import models


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    # Claimed by a delivery job (committed before the SMTP call): no other run sends it. A claim older than
    # STALE_SENDING_MINUTES was interrupted (worker killed mid-send) and is failed for staff to resend.
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    BOUNCED = "bounced", "Bounced"  # sent, then reported undeliverable by the e-mail provider


class EmailEvent(models.Model):
    template = models.CharField(max_length=64)  # indexed in Meta (no LIKE twin)
    to = models.EmailField()
    subject = models.CharField(max_length=300, blank=True)
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED)  # as template
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    related_type = models.CharField(max_length=100, blank=True)
    related_id = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # plain b-trees, without the LIKE twins Django adds to an indexed text field (nothing searches with LIKE)
        indexes = [models.Index(fields=["template"], name="emailevent_template_idx"),
                   models.Index(fields=["status"], name="emailevent_status_idx")]

    def __str__(self) -> str:
        return f"{self.template} → {self.to} ({self.status})"
