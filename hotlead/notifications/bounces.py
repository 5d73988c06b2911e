"""Bounces reported by the e-mail provider (POST /api/v1/webhooks/email-events): the e-mail event we sent is
marked. The leads with the address are marked by leads.bounces, which calls this first (SPEC §6)."""
from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from hotlead.core.exceptions import WebhookNotConfigured
from hotlead.core.services import audit_record
from hotlead.notifications.lock_objects import email_events_to_address_for_update
from hotlead.notifications.models import EmailStatus


class EmailEventsNotConfigured(WebhookNotConfigured):
    default_message = "E-mail events are not configured on this server (HOTLEAD_EMAIL_EVENTS_SECRET)."


@dataclass(frozen=True)
class BounceOutcome:
    bounced: bool  # a permanent bounce: the address is marked
    email_event_id: int | None
    leads_marked: int = 0


@transaction.atomic
def email_event_bounce_record(*, address: str, permanent: bool, message: str = "", provider_message_id: str = "",
                              email_event_id: int | None = None) -> BounceOutcome:
    """Mark the e-mail we sent (the one named, else the newest sent to the address) as bounced, for a permanent
    bounce. Idempotent: a repeated notification changes nothing."""
    address = address.strip()
    events = email_events_to_address_for_update(address=address)
    event = (events.filter(pk=email_event_id).first() if email_event_id else None) or \
        events.filter(status__in=[EmailStatus.SENT, EmailStatus.BOUNCED]).order_by("-created_at", "-id").first()
    if not permanent:  # transient (mailbox full, greylisting): the address is not bad
        return BounceOutcome(False, event.pk if event else None)
    if event is not None and event.status != EmailStatus.BOUNCED:
        event.status = EmailStatus.BOUNCED
        event.error = f"Bounced: {message}"[:2000] + (f" ({provider_message_id})" if provider_message_id else "")
        event.save(update_fields=["status", "error", "updated_at"])
        audit_record(action="email.bounced", obj=event,
                     changes={"status": [EmailStatus.SENT, EmailStatus.BOUNCED], "template": event.template,
                              "at": timezone.now().isoformat()})
    return BounceOutcome(True, event.pk if event else None)
