"""A bounced address (POST /api/v1/webhooks/email-events): the e-mail event and every lead with the address are
marked, so the bad-lead rule "the lead's e-mail bounced" has a real signal (SPEC §6)."""
from __future__ import annotations

import dataclasses

from django.db import transaction

from hotlead.leads.services import leads_email_mark_bounced
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
