"""A bounced address (POST /api/v1/webhooks/email-events): the e-mail event and every lead with the address are
marked, so the bad-lead rule "the lead's e-mail bounced" has a real signal (SPEC §6)."""
from __future__ import annotations

import dataclasses

from django.db import transaction
from django.utils import timezone

from hotlead.leads.models import Lead
from hotlead.notifications.bounces import BounceOutcome, email_event_bounce_record


@transaction.atomic
def email_bounce_record(*, address: str, permanent: bool, message: str = "", provider_message_id: str = "",
                        email_event_id: int | None = None) -> BounceOutcome:
    """The e-mail event (notifications) and, for a permanent bounce, the leads. Idempotent."""
    outcome = email_event_bounce_record(address=address, permanent=permanent, message=message,
                                        provider_message_id=provider_message_id, email_event_id=email_event_id)
    if not outcome.bounced:
        return outcome
    return dataclasses.replace(outcome, leads_marked=leads_email_mark_bounced(email=address.strip()))


@transaction.atomic
def leads_email_mark_bounced(*, email: str) -> int:
    """The address bounced (the e-mail provider said so): every lead with it gets `email_bounced`, the signal of
    the bad-lead auto-approval rule (SPEC §6). Returns how many leads changed."""
    email = (email or "").strip()
    if not email:
        return 0
    return Lead.objects.filter(email__iexact=email, email_bounced=False).update(email_bounced=True,
                                                                               updated_at=timezone.now())
