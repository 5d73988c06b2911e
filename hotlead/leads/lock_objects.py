"""Row locks of leads, their verification codes and categories; their place in the global order: hotlead.core.locks."""
from __future__ import annotations

from datetime import datetime

from hotlead.core.locks import lock_taken
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Category, Lead, LeadVerification


def lead_lock(*, of_self: bool = False, **lookup) -> Lead | None:
    """The lead (by pk or public_id), locked; `of_self` locks only its own row where the query joins others."""
    locking = Lead.objects.select_for_update(of=("self",)) if of_self else Lead.objects.select_for_update()
    lead = locking.filter(**lookup).first()
    lock_taken("lead", lead.pk if lead else None)
    return lead


def lead_locked(lead_id: int) -> None:
    """Report a lead lock taken by hand-written SQL (the engine reads the lead with its lock in one statement)."""
    lock_taken("lead", lead_id)


def leads_unverified_lock(*, created_before: datetime, limit: int) -> list[Lead]:
    """Up to `limit` leads still unverified, oldest first; rows being verified right now are skipped."""
    lock_taken("lead", waits=False)
    return list(
        Lead.objects.select_for_update(skip_locked=True)
        .filter(status=LeadStatus.PENDING_VERIFICATION, created_at__lt=created_before)
        .order_by("created_at", "id")[:limit]
    )


def verification_current_lock(*, lead: Lead) -> LeadVerification | None:
    """The lead's live verification code (not superseded, not used), locked under the lead's lock."""
    lock_taken("lead_verification", lead.pk)
    return (
        LeadVerification.objects.select_for_update()
        .filter(lead=lead, superseded_at__isnull=True, used_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


def category_lock(*, slug: str) -> Category | None:
    lock_taken("category", slug)
    return Category.objects.select_for_update().filter(slug=slug).first()
