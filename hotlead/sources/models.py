"""Lead sources (SPEC §8.2): partners that post leads server to server with an API key."""
from __future__ import annotations

from django.conf import settings
from django.db import models

from hotlead.core.models import TimeStampedModel


class LeadSource(TimeStampedModel):
    """A partner (a lead seller, a site with its own form). Its key is shown once and stored as a SHA-256
    digest only (the key carries 256 random bits, so a fast digest is enough: nothing to brute-force)."""

    name = models.CharField(max_length=200, unique=True)
    contact = models.CharField(max_length=254, blank=True, help_text="Who to call at the partner (name, e-mail)")
    notes = models.TextField(blank=True, max_length=5000)
    verified_upstream = models.BooleanField(
        default=False, help_text="The partner verifies the submitter's e-mail itself: its leads skip our "
                                 "e-mail verification and go straight to review")
    rate_limit = models.CharField(max_length=30, blank=True,
                                  help_text="count/seconds for this source's leads; empty: the default "
                                            "(lead_submit_source)")
    key_prefix = models.CharField(max_length=16, unique=True, help_text="Shown to tell keys apart; not secret")
    key_hash = models.CharField(max_length=64, unique=True)
    key_rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.revoked_at is None
