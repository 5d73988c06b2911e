"""Distribution metrics (SPEC §11). Moved only after the lead's transaction commits.

Label values are bounded: level slugs (a handful, staff-managed), skip reasons (an enum),
triggers and outcomes (enums).
"""
from __future__ import annotations

from prometheus_client import Counter, Histogram

ASSIGNMENTS_CREATED = Counter(
    "hotlead_assignments_created", "Leads sold to a provider (assignments created), by level", ["level"]
)
ASSIGNMENTS_SKIPPED = Counter(
    "hotlead_assignments_skipped",
    "Subscriptions passed over by the distribution engine, by first failing reason (SPEC §4.1)",
    ["reason"],
)
LEADS_UNSOLD = Counter("hotlead_leads_unsold", "Distribution runs that ended with the lead unsold, by trigger",
                       ["trigger"])
LEADS_RECOVERED = Counter(
    "hotlead_leads_recovered",
    "Approved leads queued again by the recovery sweep (their distribution job was lost or late)",
)
DISTRIBUTION_DURATION = Histogram(
    "hotlead_distribution_duration_seconds",
    "Duration of one distribution run (one lead, one transaction), by outcome",
    ["outcome"],
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
