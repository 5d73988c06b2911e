"""Competition levels and providers' subscriptions to them (SPEC §2, §4.4)."""
from __future__ import annotations

from django.db import models

from hotlead.core.models import TimeStampedModel
from hotlead.levels.enums import SubscriptionStatus


class CompetitionLevel(TimeStampedModel):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=64, unique=True)
    rank = models.PositiveIntegerField(help_text="1 is tried first")
    price_cents = models.PositiveIntegerField()
    max_recipients = models.PositiveIntegerField(default=1, help_text="1 = exclusive")
    active = models.BooleanField(default=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rank"], condition=models.Q(archived_at__isnull=True), name="level_rank_unique_live"
            ),
            models.CheckConstraint(condition=models.Q(max_recipients__gte=1), name="level_max_recipients_gte_1"),
        ]

    def __str__(self) -> str:
        return self.name


class Subscription(TimeStampedModel):
    """A provider's standing order at one level: status, filters, caps, schedule."""

    provider = models.ForeignKey("providers.Provider", on_delete=models.CASCADE, related_name="subscriptions")
    level = models.ForeignKey(CompetitionLevel, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(
        max_length=20, choices=SubscriptionStatus.choices, default=SubscriptionStatus.ACTIVE, db_index=True
    )
    filters = models.JSONField(default=list, blank=True)
    daily_cap = models.PositiveIntegerField(null=True, blank=True)
    weekly_cap = models.PositiveIntegerField(null=True, blank=True)
    monthly_cap = models.PositiveIntegerField(null=True, blank=True)
    monthly_budget_cents = models.PositiveIntegerField(null=True, blank=True)
    # {"days": [0-6 (Mon=0)], "start": "HH:MM", "end": "HH:MM"} in the provider's time zone; null = always
    schedule = models.JSONField(null=True, blank=True)
    last_served_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["level__rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "level"],
                condition=~models.Q(status="cancelled"),
                name="subscription_unique_live",
            )
        ]
        indexes = [
            # last_served_at is in no index: every sale moves it, and an update that touches no indexed column
            # can stay on its page (HOT) instead of adding an entry to every index of the table
            models.Index(fields=["level", "status"], name="subscription_level_status_idx"),
            # the engine reads a level's subscriptions in provider order from this (an index-only scan)
            models.Index(fields=["level", "provider", "status"], name="subscription_level_scan_idx",
                         condition=~models.Q(status="cancelled")),
            # and finds the few in the lead's category and area from this one
            models.Index(fields=["level", "provider"], name="subscription_live_idx",
                         condition=models.Q(status__in=["active", "paused"])),
        ]

    def __str__(self) -> str:
        return f"{self.provider} @ {self.level}"
