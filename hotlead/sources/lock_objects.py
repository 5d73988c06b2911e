"""Row locks of lead sources; their place in the global order: hotlead.core.locks."""
from __future__ import annotations

from hotlead.core.locks import lock_taken
from hotlead.sources.models import LeadSource


def lead_source_lock(*, source_id: int) -> LeadSource | None:
    lock_taken("lead_source", source_id)
    return LeadSource.objects.select_for_update().filter(pk=source_id).first()
