"""What follows a distribution run (SPEC §4, §7, §11): the submitter's and the buyers' e-mails, the digest.

Runs as a job after the lead's transaction commits, so the sale itself stays short. Idempotent: every
e-mail has a dedupe key.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hotlead.core.money import money_format
from hotlead.distribution.models import Assignment, DistributionRun
from hotlead.distribution.selectors.buyer_view import assignment_buyer_view
from hotlead.distribution.selectors.inbox import assignment_get_for_provider
from hotlead.leads.enums import LeadStatus
from hotlead.notifications.services import email_queue, emails_deliver
from hotlead.providers.enums import AssignmentNotify
from hotlead.webhooks.enums import EventType
from hotlead.webhooks.services import webhook_event_emit


def _currency() -> str:
    return settings.HOTLEAD.get("CURRENCY", "USD")


def _assignment_item(assignment: Assignment) -> dict:
    return {
        "assignment_id": assignment.pk,
        "category": assignment.category.name,
        "postal_code": assignment.lead.postal_code,
        "level": assignment.level.name,
        "price": money_format(assignment.price_cents, _currency()),
        "price_cents": assignment.price_cents,
        "reference": assignment.lead.reference,
    }


def _assigned_webhook(assignment: Assignment) -> None:
    """`lead.assigned` to the buyer's endpoint: the lead as GET /provider/leads/{id} shows it (once per sale)."""
    webhook_event_emit(
        provider_id=assignment.provider_id, type=EventType.LEAD_ASSIGNED,
        data=lambda: assignment_buyer_view(assignment_get_for_provider(provider_id=assignment.provider_id,
                                                                       assignment_id=assignment.pk)),
        dedupe_key=f"lead.assigned:{assignment.pk}",
    )


def lead_outcome_notify(*, lead_id: int, run_id: int) -> None:
    """After a run: tell the submitter how many pros received the request, and tell instant buyers."""
    run = DistributionRun.objects.select_related("lead__category").filter(pk=run_id, lead_id=lead_id).first()
    if run is None:
        return
    lead = run.lead
    base = {"name": lead.name, "category": lead.category.name, "postal_code": lead.postal_code,
            "lead_id": str(lead.public_id), "reference": lead.reference}
    if run.outcome != LeadStatus.DISTRIBUTED:
        if lead.status == LeadStatus.UNSOLD:  # a later run may have sold it already
            email_queue(
                template="lead_outcome", to=lead.email, related=lead, dedupe_key=f"lead_outcome:{lead.pk}:unsold",
                context={**base, "sold": False, "buyers_count": 0,
                         "freshness_hours": settings.HOTLEAD.get("UNSOLD_FRESHNESS_HOURS", 24)},
            )
        return
    assignments = list(
        Assignment.objects.filter(lead_id=lead.pk)
        .select_related("provider__user", "level", "category", "lead").order_by("provider_id")
    )
    with transaction.atomic():
        # one delivery job (and one mail connection) for the submitter's and every instant buyer's e-mail
        events = [email_queue(
            template="lead_outcome", to=lead.email, related=lead, dedupe_key=f"lead_outcome:{lead.pk}:distributed",
            context={**base, "sold": True, "buyers_count": len(assignments),
                     # who will call: the buyers' company names and phone numbers, as they gave them
                     "companies": [{"name": a.provider.company_name, "phone": a.provider.phone}
                                   for a in assignments]},
            deliver=False,
        )]
        for assignment in assignments:
            provider = assignment.provider
            _assigned_webhook(assignment)
            if provider.notify_assignments != AssignmentNotify.INSTANT:
                continue
            events.append(email_queue(
                template="lead_assigned", to=provider.user.email, related=assignment,
                dedupe_key=f"lead_assigned:{assignment.pk}",
                context={**_assignment_item(assignment), "contact_name": provider.contact_name,
                         "sold_to": f"sold to {len(assignments)} of {assignment.level.max_recipients}"},
                deliver=False,
            ))
        emails_deliver(events)


def assignment_digest_send(*, day: date | None = None) -> int:
    """E-mail each daily-digest provider the leads they bought on `day` (UTC; default yesterday). Once per day."""
    day = day or (timezone.now() - timedelta(days=1)).date()
    start = datetime.combine(day, time.min, tzinfo=UTC)
    rows = (
        Assignment.objects.filter(assigned_at__gte=start, assigned_at__lt=start + timedelta(days=1),
                                  provider__notify_assignments=AssignmentNotify.DAILY_DIGEST)
        .select_related("provider__user", "level", "category", "lead").order_by("provider_id", "assigned_at", "id")
    )
    by_provider: dict[int, list[Assignment]] = defaultdict(list)
    for assignment in rows.iterator(chunk_size=500):
        by_provider[assignment.provider_id].append(assignment)
    sent = 0
    for assignments in by_provider.values():
        provider = assignments[0].provider
        with transaction.atomic():
            event = email_queue(
                template="assignment_digest", to=provider.user.email, related=provider,
                dedupe_key=f"assignment_digest:{provider.pk}:{day.isoformat()}",
                context={
                    "contact_name": provider.contact_name, "day": day.isoformat(), "count": len(assignments),
                    "total": money_format(sum(a.price_cents for a in assignments), _currency()),
                    "items": [_assignment_item(a) for a in assignments],
                },
            )
        sent += event is not None
    return sent
