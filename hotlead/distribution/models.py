"""Assignments (a lead sold to a provider), distribution runs and their traces (SPEC §4)."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from hotlead.distribution.enums import AssignmentStatus, RunTrigger


class Assignment(models.Model):
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="assignments")
    provider = models.ForeignKey("providers.Provider", on_delete=models.PROTECT, related_name="assignments")
    level = models.ForeignKey("levels.CompetitionLevel", on_delete=models.PROTECT, related_name="assignments")
    subscription = models.ForeignKey("levels.Subscription", on_delete=models.PROTECT, related_name="assignments")
    # denormalised from the lead so the inbox filters on one index
    category = models.ForeignKey("leads.Category", on_delete=models.PROTECT, related_name="+")
    price_cents = models.PositiveIntegerField(help_text="The level's price at the time of sale")
    status = models.CharField(
        max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.ASSIGNED, db_index=True
    )
    charge_entry = models.OneToOneField(
        "billing.LedgerEntry", on_delete=models.PROTECT, related_name="assignment"
    )
    reject_reason = models.CharField(max_length=500, blank=True)
    assigned_at = models.DateTimeField(db_index=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    # the postal code was inside the provider's areas at sale time (SPEC §6 auto-approval)
    in_area_at_sale = models.BooleanField(default=True)

    class Meta:
        ordering = ["-assigned_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "provider"], name="assignment_once_per_lead_provider"),
        ]
        indexes = [
            models.Index(fields=["provider", "-assigned_at", "-id"], name="assignment_inbox_idx"),
            models.Index(fields=["provider", "status", "-assigned_at", "-id"], name="assignment_inbox_status_idx"),
            models.Index(fields=["provider", "category", "-assigned_at", "-id"], name="assignment_inbox_cat_idx"),
            models.Index(fields=["subscription", "assigned_at"], name="assignment_caps_idx"),
        ]

    def __str__(self) -> str:
        return f"Sale of lead {str(self.lead.public_id)[:8]} to {self.provider}"


class DistributionRun(models.Model):
    """One run of the engine for one lead, with its trace (SPEC §4.5)."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="distribution_runs")
    trigger = models.CharField(max_length=20, choices=RunTrigger.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # the lead status the run left the lead in ("" while it runs); the choices give the console its words
    outcome = models.CharField(max_length=20, blank=True,
                               choices=[("distributed", "Distributed"), ("unsold", "Unsold")])
    buyers = models.PositiveIntegerField(default=0)
    # {"levels": [{"level", "considered", "skipped": {reason: n}, "chosen": [provider_id], "why": ...}]}
    trace = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        # the console's list of runs, newest first, read off an index (no sort of every run)
        # and the portal's "you missed N leads in the last 7 days" reads the recent runs' traces
        indexes = [models.Index(fields=["started_at"], name="distribution_run_started_idx"),
                   models.Index(fields=["-started_at", "-id"], name="run_newest_first_idx")]

    def __str__(self) -> str:
        started = f", {self.started_at:%d %b %Y %H:%M}" if self.started_at else ""
        return f"Distribution run #{self.pk} ({self.get_trigger_display().lower()}{started})"


class LevelCursor(models.Model):
    """The per-level round-robin cursor over provider ids (SPEC §4.2 rotation)."""

    level = models.OneToOneField("levels.CompetitionLevel", primary_key=True, on_delete=models.CASCADE,
                                 related_name="cursor")
    last_provider_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)
