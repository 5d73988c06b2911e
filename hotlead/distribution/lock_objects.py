"""Row locks of assignments; their place in the global order: hotlead.core.locks.

Each locks the assignment row only (`OF self`), never the lead, level or charge it is read with.
"""
from __future__ import annotations

from hotlead.core.locks import lock_taken
from hotlead.distribution.models import Assignment
from hotlead.leads.models import Lead


def assignment_lock(*, assignment_id: int, provider_id: int | None = None,
                    with_money: bool = False) -> Assignment | None:
    """The assignment (the provider's own when `provider_id` is given), locked; `with_money` reads its lead,
    charge entry and category along."""
    lock_taken("assignment", assignment_id)
    locking = Assignment.objects.select_for_update(of=("self",))
    if with_money:
        locking = locking.select_related("lead", "charge_entry", "category")
    if provider_id is not None:
        locking = locking.filter(provider_id=provider_id)
    return locking.filter(pk=assignment_id).first()


def lead_assignments_lock(*, lead: Lead) -> list[Assignment]:
    """Every assignment of the lead, locked in provider order (so runs over overlapping buyers then take their
    account locks in the same order), with lead, charge entry and category."""
    lock_taken("assignment")
    return list(
        Assignment.objects.select_for_update(of=("self",)).select_related("lead", "charge_entry", "category")
        .filter(lead=lead).order_by("provider_id", "id")
    )
