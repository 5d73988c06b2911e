"""A lead's lifecycle (SPEC §3): status changes with their history, the sale's outcome, fraud, review."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from hotlead.core.exceptions import Conflict, NotFound, ValidationFailed
from hotlead.core.services import audit_record
from hotlead.leads import metrics
from hotlead.leads.enums import ALLOWED_TRANSITIONS, LeadStatus, RejectReason
from hotlead.leads.lock_objects import lead_lock
from hotlead.leads.models import Lead, LeadEvent
from hotlead.leads.signals import lead_approved
from hotlead.notifications.services import email_queue

if TYPE_CHECKING:
    from hotlead.accounts.models import User

REVIEW_NOTE_MAX = 2000
# What the submitter reads when a request is rejected: the reason in plain words (the staff note stays internal).
REJECT_REASON_TEXT = {
    RejectReason.SPAM: "it looked like an automated or advertising message rather than a request for work.",
    RejectReason.DUPLICATE: "we already have the same request from you, and we pass each job on only once.",
    RejectReason.INCOMPLETE: "it did not say enough about the job for a provider to contact you about it.",
    RejectReason.OUT_OF_AREA: "we have no providers for this service where the job is.",
    RejectReason.TEST: "it was marked as a test request.",
    RejectReason.OTHER: "it does not meet our rules for requests we can pass on.",
}

def lead_locked(**lookup) -> Lead:
    lead = lead_lock(**lookup)
    if lead is None:
        raise NotFound("No such lead.")
    return lead


def after_commit(func, *args) -> None:
    transaction.on_commit(lambda: func(*args))


# --- the lifecycle -------------------------------------------------------------------------------

def _transition_check(from_status: str, to_status: str, *, allowed: set[str] | None = None) -> None:
    """Conflict unless the lifecycle (narrowed to `allowed`, when given) lets `from_status` become `to_status`."""
    permitted = ALLOWED_TRANSITIONS.get(from_status, set())
    if to_status not in (permitted if allowed is None else permitted & allowed):
        raise Conflict(
            f"A lead that is {LeadStatus(from_status).label.lower()} cannot become "
            f"{LeadStatus(to_status).label.lower()}.",
            details={"status": from_status, "requested": to_status},
        )


def transition_locked(lead: Lead, *, to_status: str, action: str, actor: User | None = None, note: str = "",
                data: dict | None = None, changes: dict | None = None) -> LeadEvent:
    """Move a lead (whose row the caller has locked) and write its history; Conflict if not allowed."""
    from_status = lead.status
    _transition_check(from_status, to_status)
    now = timezone.now()
    lead.status = to_status
    lead.status_changed_at = now
    for field, value in (changes or {}).items():
        setattr(lead, field, value)
    lead.save(update_fields=["status", "status_changed_at", "updated_at", *(changes or {})])
    return LeadEvent.objects.create(
        lead=lead, from_status=from_status, to_status=to_status, action=action,
        actor=actor if getattr(actor, "pk", None) else None, note=note, data=data or {},
    )


@transaction.atomic
def lead_transition(*, lead_id: int, to_status: str, action: str, actor: User | None = None, note: str = "",
                    data: dict | None = None, changes: dict | None = None) -> Lead:
    """Lock the lead, move it to `to_status` (Conflict if the lifecycle forbids it), record the event.

    For other apps (distribution: approved → distributed | unsold); `changes` sets further lead fields.
    """
    lead = lead_locked(pk=lead_id)
    transition_locked(lead, to_status=to_status, action=action, actor=actor, note=note, data=data, changes=changes)
    return lead


def lead_outcome_set(*, lead: Lead, to_status: str, buyers: int, now: datetime, actor: User | None = None,
                     data: dict | None = None) -> Lead:
    """Record a distribution run's outcome: approved|unsold → distributed|unsold (SPEC §3).

    For the engine, inside its transaction, with the lead's row lock already held. An unsold lead that
    stays unsold writes no new history row.
    """
    from_status = lead.status
    _transition_check(from_status, to_status, allowed={LeadStatus.DISTRIBUTED, LeadStatus.UNSOLD})
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


def lead_fraud_set(*, lead_public_id) -> tuple[Lead, bool]:
    """Lock the lead and mark it fraudulent, once; True when this call marked it. For refunds' lead_mark_fraud."""
    lead = lead_lock(of_self=True, public_id=lead_public_id)
    if lead is None:
        raise NotFound("No such lead.")
    if lead.is_fraud:
        return lead, False
    lead.is_fraud = True
    lead.fraud_marked_at = timezone.now()
    lead.save(update_fields=["is_fraud", "fraud_marked_at"])
    return lead, True


# --- review ----------------------------------------------------------------------------------------

@transaction.atomic
def lead_approve(*, lead_id: int, actor: User | None, note: str = "") -> Lead:
    """Approve a lead in review: audit, tell the submitter, queue distribution after commit."""
    note = (note or "").strip()
    if len(note) > REVIEW_NOTE_MAX:
        raise ValidationFailed.for_field("note", f"Use at most {REVIEW_NOTE_MAX} characters.")
    lead = lead_locked(pk=lead_id)
    from_status = lead.status
    now = timezone.now()
    transition_locked(lead, to_status=LeadStatus.APPROVED, action="approved", actor=actor, note=note,
                changes={"reviewed_by": actor, "reviewed_at": now, "approved_at": now, "review_note": note})
    audit_record(action="lead.approve", actor=actor, obj=lead,
                 changes={"status": [from_status, LeadStatus.APPROVED], "note": note,
                          "public_id": str(lead.public_id)})
    email_queue(
        template="lead_approved", to=lead.email,
        context={"name": lead.name, "category": lead.category.name, "lead_id": str(lead.public_id),
                 "reference": lead.reference},
        related=lead, dedupe_key=f"lead_approved:{lead.pk}",
    )
    lead_approved.send(sender=Lead, lead=lead)  # distribution queues the sale (after commit)
    after_commit(metrics.LEADS_APPROVED.inc)
    return lead


@transaction.atomic
def lead_reject(*, lead_id: int, actor: User | None, reason: str, note: str = "") -> Lead:
    """Reject a lead in review with a reason code (SPEC §3) and an optional note; audit-logged."""
    note = (note or "").strip()
    errors = []
    if reason not in RejectReason.values:
        errors.append({"field": "reason", "message": f"Choose one of: {', '.join(RejectReason.values)}."})
    if len(note) > REVIEW_NOTE_MAX:
        errors.append({"field": "note", "message": f"Use at most {REVIEW_NOTE_MAX} characters."})
    if errors:
        raise ValidationFailed(details={"fields": errors})
    lead = lead_locked(pk=lead_id)
    from_status = lead.status
    transition_locked(lead, to_status=LeadStatus.REJECTED, action="rejected", actor=actor, note=note,
                data={"reason": reason},
                changes={"reviewed_by": actor, "reviewed_at": timezone.now(), "reject_reason": reason,
                         "review_note": note})
    audit_record(action="lead.reject", actor=actor, obj=lead,
                 changes={"status": [from_status, LeadStatus.REJECTED], "reason": reason, "note": note,
                          "public_id": str(lead.public_id)})
    email_queue(
        template="lead_rejected", to=lead.email, related=lead, dedupe_key=f"lead_rejected:{lead.pk}",
        context={"name": lead.name, "category": lead.category.name, "lead_id": str(lead.public_id),
                 "reference": lead.reference, "reason": reason, "reason_text": REJECT_REASON_TEXT[reason]},
    )
    after_commit(metrics.LEADS_REJECTED.labels(reason=reason).inc)
    return lead


