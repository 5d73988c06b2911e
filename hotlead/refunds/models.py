"""Bad-lead reports and the auto-approval rules (SPEC §6)."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from hotlead.refunds.enums import AutoRule, BadLeadReason, ReportStatus


class BadLeadReport(models.Model):
    assignment = models.OneToOneField(
        "distribution.Assignment", on_delete=models.PROTECT, related_name="bad_lead_report"
    )
    provider = models.ForeignKey("providers.Provider", on_delete=models.PROTECT, related_name="bad_lead_reports")
    reason = models.CharField(max_length=20, choices=BadLeadReason.choices)
    details = models.TextField(blank=True, max_length=5000)
    status = models.CharField(max_length=20, choices=ReportStatus.choices, default=ReportStatus.PENDING,
                              db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    # the rule that approved the report automatically (blank: decided by staff, or still pending)
    auto_rule = models.CharField(max_length=40, choices=AutoRule.choices, blank=True)
    # the enabled rule the report matched when filed, even when the return-rate cap held it back
    matched_rule = models.CharField(max_length=40, choices=AutoRule.choices, blank=True)
    # the provider's return rate when the report was filed (see selectors.return_rate_for_provider)
    return_rate_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    return_rate_reports = models.PositiveIntegerField(null=True, blank=True)
    return_rate_assignments = models.PositiveIntegerField(null=True, blank=True)
    refund_entry = models.OneToOneField(
        "billing.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="bad_lead_report"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at", "-id"], name="badlead_status_created_idx")]

    def __str__(self) -> str:
        return f"Report #{self.pk}"

    @property
    def auto_suppressed(self) -> bool:
        """A rule matched but the provider's return rate was over the cap."""
        return bool(self.matched_rule) and not self.auto_rule


class AutoApprovalRule(models.Model):
    """An objective rule, switchable by staff in the console."""

    code = models.CharField(max_length=40, choices=AutoRule.choices, unique=True)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.get_code_display()
