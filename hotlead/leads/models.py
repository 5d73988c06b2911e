"""Categories, leads, their verification codes and history (SPEC §2, §3)."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from hotlead.core.models import TimeStampedModel
from hotlead.leads.enums import LeadStatus, RejectReason, Timeline
from hotlead.leads.references import reference_generate


class Category(TimeStampedModel):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Lead(TimeStampedModel):
    # Every index is written by every submission (docs/performance.md, "Lead intake"): none that another serves.
    created_at = models.DateTimeField(auto_now_add=True)  # read off lead_newest_first_idx and report_lead_created_idx
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # what the homeowner reads: short, unique, shown on the form, in the API and in every e-mail
    reference = models.CharField(max_length=12, unique=True, default=reference_generate, editable=False)
    # contact data, normalised by the intake service
    name = models.CharField(max_length=200)
    # e-mail and phone: looked up by value (the duplicate check, an exact search) with the indexes in Meta; no
    # index of their own, and no LIKE index (the console searches with icontains, which no b-tree serves)
    email = models.EmailField()
    phone = models.CharField(max_length=20, help_text="E.164")
    postal_code = models.CharField(max_length=12)  # indexed in Meta (no LIKE twin)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="leads")
    description = models.TextField(max_length=5000)
    budget_cents = models.PositiveIntegerField(null=True, blank=True)
    timeline = models.CharField(max_length=20, choices=Timeline.choices, blank=True)
    # consent record
    consent_text_version = models.CharField(max_length=40)
    consent_at = models.DateTimeField()
    consent_ip = models.GenericIPAddressField(null=True, blank=True)
    consent_user_agent = models.CharField(max_length=400, blank=True)
    # source
    source = models.CharField(max_length=64, default="web")  # indexed in Meta (no LIKE twin)
    utm_source = models.CharField(max_length=100, blank=True)
    utm_medium = models.CharField(max_length=100, blank=True)
    utm_campaign = models.CharField(max_length=100, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    api_client = models.CharField(max_length=100, blank=True)
    lead_source = models.ForeignKey(  # the partner that posted it with its API key (SPEC §8.2); null: our form/API
        "sources.LeadSource", null=True, blank=True, on_delete=models.PROTECT, related_name="leads",
        db_index=False)  # indexed in Meta where set
    # lifecycle
    status = models.CharField(  # indexed with created_at (Meta.indexes), which serves status alone too
        max_length=32, choices=LeadStatus.choices, default=LeadStatus.PENDING_VERIFICATION
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    possible_duplicate = models.BooleanField(default=False)  # indexed in Meta where true
    duplicate_of = models.ForeignKey(  # indexed in Meta where set
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="later_duplicates", db_index=False
    )
    reviewed_by = models.ForeignKey(  # indexed in Meta where set (empty on every new lead)
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField(max_length=20, choices=RejectReason.choices, blank=True)
    review_note = models.TextField(blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    distributed_at = models.DateTimeField(null=True, blank=True)
    buyers_count = models.PositiveIntegerField(default=0)
    # signals for objective bad-lead rules (SPEC §6)
    email_bounced = models.BooleanField(default=False)
    phone_valid = models.BooleanField(default=True)
    is_fraud = models.BooleanField(default=False)
    fraud_marked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            # the default ordering (console lead list, newest first): read off the index, no sort of the table
            models.Index(fields=["-created_at", "-id"], name="lead_newest_first_idx"),
            models.Index(fields=["email", "category", "created_at"]),
            models.Index(fields=["phone", "category", "created_at"]),
            # Plain b-trees, without the LIKE twins Django adds to an indexed text field (nothing here searches
            # with LIKE 'prefix%'); a column that is empty on most leads indexed only where set: a lookup of a
            # value is served the same, and a submission writes no entry for nothing
            models.Index(fields=["postal_code"], name="lead_postal_code_idx"),
            models.Index(fields=["source"], name="lead_source_label_idx"),
            models.Index(fields=["possible_duplicate"], name="lead_possible_duplicate_idx",
                         condition=models.Q(possible_duplicate=True)),
            models.Index(fields=["duplicate_of"], name="lead_duplicate_of_idx",
                         condition=models.Q(duplicate_of__isnull=False)),
            models.Index(fields=["reviewed_by"], name="lead_reviewed_by_idx",
                         condition=models.Q(reviewed_by__isnull=False)),
            models.Index(fields=["lead_source"], name="lead_lead_source_idx",
                         condition=models.Q(lead_source__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"Lead {self.reference} · {self.postal_code}"


class LeadVerification(models.Model):
    """One code sent to the submitter. The code and tokens are stored hashed."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="verifications")
    code_hash = models.CharField(max_length=128)
    link_token_hash = models.CharField(max_length=128)  # indexed in Meta (no LIKE twin)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    confirm_token_hash = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["link_token_hash"], name="leadverification_link_idx")]


class LeadEvent(models.Model):
    """The history of a lead: every status change and review decision."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=64)
    actor = models.ForeignKey(  # indexed in Meta where set (empty on the events of the intake and of jobs)
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["actor"], name="leadevent_actor_idx", condition=models.Q(actor__isnull=False))]
