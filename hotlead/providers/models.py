"""Service providers, their service areas and preferences (SPEC §7)."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from hotlead.core.models import TimeStampedModel
from hotlead.providers.enums import AreaKind, AssignmentNotify, ProviderStatus


class Provider(TimeStampedModel):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="provider")
    company_name = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=200)
    phone = models.CharField(max_length=20, help_text="E.164")
    timezone = models.CharField(max_length=64, default="America/New_York")
    status = models.CharField(
        max_length=32, choices=ProviderStatus.choices, default=ProviderStatus.PENDING_VERIFICATION,
        db_index=True,
    )
    email_verified_at = models.DateTimeField(null=True, blank=True)
    categories = models.ManyToManyField("leads.Category", blank=True, related_name="providers")
    # notification preferences
    notify_assignments = models.CharField(
        max_length=20, choices=AssignmentNotify.choices, default=AssignmentNotify.INSTANT
    )
    low_balance_threshold_cents = models.PositiveIntegerField(default=5000)
    # delivery to the provider's own systems
    webhook_url = models.URLField(blank=True)
    webhook_secret = models.CharField(max_length=128, blank=True)
    # staff actions
    suspended_reason = models.TextField(blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    flagged = models.BooleanField(default=False, db_index=True)
    flagged_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["company_name", "id"]
        indexes = [
            # the few providers that cannot buy (SPEC §4.1 rule 1), read by every eligibility query
            models.Index(fields=["id"], name="provider_not_live_idx",
                         condition=~models.Q(status="active") | models.Q(email_verified_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.company_name

    @property
    def is_active(self) -> bool:
        return self.status == ProviderStatus.ACTIVE


class ServiceArea(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="service_areas")
    kind = models.CharField(max_length=10, choices=AreaKind.choices, default=AreaKind.CODE)
    value = models.CharField(max_length=12, help_text="Upper-case, no spaces")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "kind", "value"], name="service_area_unique"),
        ]
        indexes = [models.Index(fields=["kind", "value", "provider"])]

    def __str__(self) -> str:
        return f"{self.value}{'*' if self.kind == AreaKind.PREFIX else ''}"
