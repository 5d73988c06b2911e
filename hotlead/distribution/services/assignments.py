"""What a provider does with a lead they bought: accept it or reject it (SPEC §7).

Only a freshly `assigned` lead can be accepted or rejected; every other move is a 409. Rejecting
never refunds — money comes back only through a bad-lead report (SPEC §6).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from hotlead.core.exceptions import Conflict, NotFound, ValidationFailed
from hotlead.core.services import audit_record
from hotlead.distribution.enums import AssignmentStatus
from hotlead.distribution.lock_objects import assignment_lock
from hotlead.distribution.models import Assignment
from hotlead.distribution.selectors.inbox import MAX_DB_ID
from hotlead.distribution.selectors.reject_rate import reject_rate_for_provider
from hotlead.providers.services import provider_flag

if TYPE_CHECKING:
    from hotlead.providers.models import Provider

REJECT_REASON_MAX_LENGTH = 500


def _assignment_lock(*, provider_id: int, assignment_id: int) -> Assignment:
    if not 0 < assignment_id <= MAX_DB_ID:
        raise NotFound("No such lead in your inbox.")
    assignment = assignment_lock(assignment_id=assignment_id, provider_id=provider_id)
    if assignment is None:
        raise NotFound("No such lead in your inbox.")
    return assignment


def _refuse_unless_assigned(assignment: Assignment, *, verb: str) -> None:
    if assignment.status != AssignmentStatus.ASSIGNED:
        raise Conflict(
            f"This lead is already {assignment.get_status_display().lower()}; only a new lead can be {verb}.",
            details={"status": assignment.status},
        )


@transaction.atomic
def assignment_accept(*, provider: Provider, assignment_id: int) -> Assignment:
    """assigned → accepted, for the provider who bought the lead."""
    assignment = _assignment_lock(provider_id=provider.pk, assignment_id=assignment_id)
    _refuse_unless_assigned(assignment, verb="accepted")
    assignment.status = AssignmentStatus.ACCEPTED
    assignment.accepted_at = timezone.now()
    assignment.save(update_fields=["status", "accepted_at"])
    audit_record(
        action="assignment.accept", actor=provider.user, obj=assignment,
        changes={"status": [AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED]},
    )
    return assignment


@transaction.atomic
def assignment_reject(*, provider: Provider, assignment_id: int, reason: str) -> Assignment:
    """assigned → rejected with the provider's reason. No money moves."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.for_field("reason", "Say why you reject this lead.")
    if "\x00" in reason:
        raise ValidationFailed.for_field("reason", "NUL characters are not allowed.")
    if len(reason) > REJECT_REASON_MAX_LENGTH:
        raise ValidationFailed.for_field("reason", f"At most {REJECT_REASON_MAX_LENGTH} characters.")
    assignment = _assignment_lock(provider_id=provider.pk, assignment_id=assignment_id)
    _refuse_unless_assigned(assignment, verb="rejected")
    assignment.status = AssignmentStatus.REJECTED
    assignment.rejected_at = timezone.now()
    assignment.reject_reason = reason
    assignment.save(update_fields=["status", "rejected_at", "reject_reason"])
    audit_record(
        action="assignment.reject", actor=provider.user, obj=assignment,
        changes={"status": [AssignmentStatus.ASSIGNED, AssignmentStatus.REJECTED], "reason": reason},
    )
    _provider_flag_on_reject_rate(provider=provider, assignment=assignment)
    return assignment


def assignment_refunded_set(*, assignment: Assignment) -> Assignment:
    """A bought lead's charge was returned (refunds): the assignment, locked by the caller, becomes `refunded`."""
    assignment.status = AssignmentStatus.REFUNDED
    assignment.refunded_at = timezone.now()
    assignment.save(update_fields=["status", "refunded_at"])
    return assignment


def _provider_flag_on_reject_rate(*, provider: Provider, assignment: Assignment) -> None:
    """SPEC §6: a reject rate above the maximum over the last N assignments flags the provider (audited once).

    A provider already flagged keeps its flag and reason (the flags report shows both rates); clearing a flag
    is a staff action."""
    rate = reject_rate_for_provider(provider_id=provider.pk)
    if not rate.over_cap:
        return
    reason = (f"Reject rate {rate.percent}% ({rate.rejects} rejections on the last {rate.window} assignments) "
              f"exceeds {rate.max_percent}%")
    # the provider's own rejection tipped the rate: the entry names them, as for the rejection itself
    provider_flag(provider=provider, reason=reason, replace_reason=False, actor=provider.user,
                  details={"rule": "reject_rate", "assignment": assignment.pk})
