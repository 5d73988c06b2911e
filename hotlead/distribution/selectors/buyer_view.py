"""The buyer's view of a lead they bought: GET /api/v1/provider/leads/{id} and the `lead.assigned` webhook
send exactly this (one builder, so the two cannot drift apart)."""
from __future__ import annotations

from hotlead.distribution.models import Assignment


def assignment_buyer_view(assignment: Assignment) -> dict:
    """`assignment` as returned by `inbox.assignment_get_for_provider` (lead, level, category, report, buyers)."""
    lead = assignment.lead
    report = getattr(assignment, "bad_lead_report", None)
    return {
        "assignment_id": assignment.pk,
        "lead_id": lead.public_id,
        "status": assignment.status,
        "level": assignment.level.slug,
        "price_cents": assignment.price_cents,
        "assigned_at": assignment.assigned_at,
        "buyers_count": assignment.buyers_count,
        "max_buyers": assignment.level.max_recipients,
        "accepted_at": assignment.accepted_at,
        "rejected_at": assignment.rejected_at,
        "reject_reason": assignment.reject_reason or None,
        "bad_lead_report": None if report is None else {
            "id": report.pk, "reason": report.reason, "status": report.status, "created_at": report.created_at,
        },
        "lead": {
            "name": lead.name,
            "email": lead.email,
            "phone": lead.phone,
            "postal_code": lead.postal_code,
            "category": assignment.category.slug,
            "description": lead.description,
            "budget_cents": lead.budget_cents,
            "timeline": lead.timeline or None,
            "created_at": lead.created_at,
        },
    }
