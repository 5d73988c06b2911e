"""Jobs of the leads app (run by django-q2 through hotlead.ops.jobs; each is idempotent)."""
from __future__ import annotations

from hotlead.leads.services.intake import lead_expire_unverified


def leads_expire_unverified_job() -> int:
    """Hourly: expire leads still unverified after the TTL, batch after batch until none is left."""
    total = 0
    while expired := lead_expire_unverified():
        total += expired
    return total
