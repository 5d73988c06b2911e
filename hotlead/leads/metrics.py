"""Lead funnel metrics (SPEC §11). prometheus-client's multiprocess mode makes them add up across processes.

Counters are moved only after the transaction commits (see services), so a rolled-back change never counts.
"""
from __future__ import annotations

from prometheus_client import Counter

from hotlead.leads.enums import RejectReason

# `source` is free text from the client; only these values become label values (cardinality stays bounded).
KNOWN_SOURCES = frozenset({"web", "api", "partner", "referral", "ads", "import"})

LEADS_SUBMITTED = Counter("hotlead_leads_submitted", "Leads submitted, by source", ["source"])
LEADS_VERIFIED = Counter("hotlead_leads_verified", "Leads whose e-mail was verified")
LEADS_CONFIRMED = Counter("hotlead_leads_confirmed", "Leads confirmed by the submitter (sent to review)")
LEADS_APPROVED = Counter("hotlead_leads_approved", "Leads approved by a reviewer")
LEADS_REJECTED = Counter("hotlead_leads_rejected", "Leads rejected by a reviewer, by reason", ["reason"])
LEADS_EXPIRED = Counter("hotlead_leads_expired", "Unverified leads expired by the scheduled job")

# Every label value exists from the start, so rates and alerts see a 0 rather than no series.
for _source in (*KNOWN_SOURCES, "other"):
    LEADS_SUBMITTED.labels(source=_source)
for _reason in RejectReason.values:
    LEADS_REJECTED.labels(reason=_reason)


def source_label(source: str) -> str:
    value = (source or "").lower()
    return value if value in KNOWN_SOURCES else "other"
