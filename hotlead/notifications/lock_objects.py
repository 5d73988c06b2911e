"""Row locks of e-mail events; their place in the global order: hotlead.core.locks."""
from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from hotlead.core.locks import lock_taken
from hotlead.notifications.models import EmailEvent, EmailStatus


def email_event_lock(*, event_id: int) -> EmailEvent | None:
    lock_taken("email_event", event_id)
    return EmailEvent.objects.select_for_update().filter(pk=event_id).first()


def email_events_to_address_for_update(*, address: str) -> QuerySet[EmailEvent]:
    """The e-mails sent to an address, as a locking query: the row the caller reads from it is locked."""
    lock_taken("email_event")
    return EmailEvent.objects.select_for_update().filter(to__iexact=address)


def email_events_lost_lock(*, queued_before: datetime, limit: int) -> list[tuple[int, str]]:
    """(id, template) of queued e-mails no job has tried since `queued_before`; rows another run holds are
    skipped."""
    lock_taken("email_event", waits=False)
    return list(EmailEvent.objects.select_for_update(skip_locked=True).filter(
        status=EmailStatus.QUEUED, attempts=0, updated_at__lt=queued_before
    ).order_by("id").values_list("pk", "template")[:limit])
