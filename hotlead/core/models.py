"""Core models: the append-only audit log; the rate-limit counters."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditLog(models.Model):
    """One critical action. Rows are never updated or deleted (a database trigger refuses)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )
    actor_label = models.CharField(max_length=254, blank=True, help_text="E-mail or 'system' at the time")
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label or 'system'} {self.action}"


class RateLimitCounter(models.Model):
    """Attempts of one (scope, key) in one fixed window; written only by hotlead.core.ratelimit.

    A table rather than the database cache: the cache's `incr` reads then writes, so concurrent
    requests lose counts and a burst passes a limit many times over. Here one upsert counts atomically.
    """

    key = models.CharField(max_length=120, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class RateLimitOverride(models.Model):
    """A rate limit ops changed in the console (SPEC §12): wins over HOTLEAD_RATE_LIMITS and the settings."""

    scope = models.CharField(max_length=60, unique=True, help_text="e.g. lead_submit_ip, login_account")
    rule = models.CharField(max_length=30, help_text="count/seconds, e.g. 10/3600")
    note = models.CharField(max_length=500, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scope"]
        verbose_name = "rate limit"

    def __str__(self) -> str:
        return f"{self.scope} = {self.rule}"
