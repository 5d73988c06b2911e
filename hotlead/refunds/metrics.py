"""Metrics of bad leads and refunds (SPEC §11). Incremented after commit, so a rolled-back action counts nothing."""
from __future__ import annotations

from prometheus_client import Counter

BAD_LEADS_REPORTED = Counter(
    "hotlead_bad_leads_reported",
    "Bad-lead reports filed by providers, by reason",
    ["reason"],
)
REFUNDS_APPROVED = Counter(
    "hotlead_refunds_approved",
    "Refunds issued for bad leads, by how they were decided (staff, auto, fraud)",
    ["decided_by"],
)
REFUNDED_CENTS = Counter(
    "hotlead_refunded_cents",
    "Money refunded for bad leads, in cents, by how it was decided (staff, auto, fraud)",
    ["decided_by"],
)
