"""One lead as the console and the admin API show it: the lead, its history, its sales and the engine's traces."""
from __future__ import annotations

import uuid

from hotlead.distribution.models import Assignment, DistributionRun
from hotlead.leads.selectors import lead_by_public_id, lead_history


def lead_assignments(*, lead_id: int):
    return Assignment.objects.filter(lead_id=lead_id).select_related("provider", "level").order_by("assigned_at", "id")


def lead_distribution_runs(*, lead_id: int):
    return DistributionRun.objects.filter(lead_id=lead_id).select_related("actor").order_by("-started_at", "-id")


def run_levels(run) -> list[dict]:
    """The per-level entries of a run's trace (SPEC §4.5), tolerant of a trace still being written."""
    levels = (run.trace or {}).get("levels") if isinstance(run.trace, dict) else None
    return [level for level in (levels or []) if isinstance(level, dict)]


def lead_admin_detail(*, public_id: uuid.UUID) -> dict:
    """Everything the admin API shows about one lead: the lead, its history, its sales and the engine's traces."""
    lead = lead_by_public_id(public_id=public_id)
    return {
        "id": lead.public_id,
        "status": lead.status,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "phone_valid": lead.phone_valid,
        "postal_code": lead.postal_code,
        "category": lead.category.slug,
        "description": lead.description,
        "budget_cents": lead.budget_cents,
        "timeline": lead.timeline,
        "consent": {"text_version": lead.consent_text_version, "at": lead.consent_at, "ip": lead.consent_ip,
                    "user_agent": lead.consent_user_agent},
        "source": {"source": lead.source, "utm_source": lead.utm_source, "utm_medium": lead.utm_medium,
                   "utm_campaign": lead.utm_campaign, "referrer": lead.referrer, "api_client": lead.api_client},
        "possible_duplicate": lead.possible_duplicate,
        "duplicate_of": lead.duplicate_of.public_id if lead.duplicate_of else None,
        "verified_at": lead.verified_at,
        "confirmed_at": lead.confirmed_at,
        "reviewed_by": lead.reviewed_by.email if lead.reviewed_by else None,
        "reviewed_at": lead.reviewed_at,
        "reject_reason": lead.reject_reason,
        "review_note": lead.review_note,
        "buyers_count": lead.buyers_count,
        "created_at": lead.created_at,
        "history": [
            {"at": event.created_at, "action": event.action, "from_status": event.from_status,
             "to_status": event.to_status, "actor": event.actor.email if event.actor else None,
             "note": event.note, "data": event.data}
            for event in lead_history(lead_id=lead.pk)
        ],
        "assignments": [
            {"id": a.pk, "provider_id": a.provider_id, "provider": a.provider.company_name, "level": a.level.slug,
             "price_cents": a.price_cents, "status": a.status, "assigned_at": a.assigned_at}
            for a in lead_assignments(lead_id=lead.pk)
        ],
        "distribution": {"runs": [
            {"id": run.pk, "trigger": run.trigger, "outcome": run.outcome, "buyers": run.buyers,
             "actor": run.actor.email if run.actor else None, "started_at": run.started_at,
             "finished_at": run.finished_at, "levels": run_levels(run)}
            for run in lead_distribution_runs(lead_id=lead.pk)
        ]},
    }
