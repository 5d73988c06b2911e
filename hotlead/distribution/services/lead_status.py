"""The engine's only way to move a lead: approved|unsold → distributed|unsold (SPEC §3).

The lead belongs to the leads app; this respects its lifecycle table and writes its history.
The caller holds the lead's row lock.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from hotlead.core.exceptions import Conflict
from hotlead.leads.enums import ALLOWED_TRANSITIONS, LeadStatus
from hotlead.leads.models import Lead, LeadEvent

if TYPE_CHECKING:
    from hotlead.accounts.models import User


def lead_outcome_set(*, lead: Lead, to_status: str, buyers: int, now: datetime, actor: User | None = None,
                     data: dict | None = None) -> Lead:
    """Record the outcome of a run. An unsold lead that stays unsold writes no new history row."""
    from_status = lead.status
    if to_status not in (LeadStatus.DISTRIBUTED, LeadStatus.UNSOLD) or \
            to_status not in ALLOWED_TRANSITIONS.get(from_status, set()):
        raise Conflict(
            f"A lead that is {LeadStatus(from_status).label.lower()} cannot become "
            f"{LeadStatus(to_status).label.lower()}.",
            details={"status": from_status, "requested": to_status},
        )
    changes: dict = {"status": to_status, "buyers_count": buyers, "updated_at": now}
    if to_status != from_status:
        changes["status_changed_at"] = now
    if to_status == LeadStatus.DISTRIBUTED:
        changes["distributed_at"] = now
    Lead.objects.filter(pk=lead.pk).update(**changes)
    for name, value in changes.items():
        setattr(lead, name, value)
    if to_status != from_status:
        LeadEvent.objects.create(
            lead=lead, from_status=from_status, to_status=to_status,
            action="distributed" if to_status == LeadStatus.DISTRIBUTED else "unsold",
            actor=actor if getattr(actor, "pk", None) else None, data={**(data or {}), "buyers": buyers},
        )
    return lead
