"""E-mail (SPEC §11): every message is an EmailEvent, delivered by a job.

Templates live in hotlead/notifications/templates/emails/<name>.subject.txt, <name>.txt, <name>.html.
"""
from __future__ import annotations

from django.db import IntegrityError, transaction

from hotlead.notifications.models import EmailEvent
from hotlead.ops.jobs import job_enqueue


def email_queue(*, template: str, to: str, context: dict | None = None, related=None,
                dedupe_key: str | None = None) -> EmailEvent | None:
    """Record an e-mail as queued and deliver it after commit. A repeated dedupe_key sends nothing."""
    fields = {"template": template, "to": to, "context": context or {}, "dedupe_key": dedupe_key}
    if related is not None:
        fields.update(related_type=related._meta.label_lower, related_id=str(related.pk))
    try:
        with transaction.atomic():
            event = EmailEvent.objects.create(**fields)
    except IntegrityError:
        return None  # already queued under this dedupe_key
    job_enqueue("hotlead.notifications.tasks.email_deliver", event.pk)
    return event
