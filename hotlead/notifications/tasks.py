"""Jobs: deliver one recorded e-mail."""
from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from hotlead.notifications.models import EmailEvent, EmailStatus
from hotlead.ops.jobs import job_current

ERROR_MAX_CHARS = 2000


def email_render(event: EmailEvent) -> tuple[str, str, str]:
    context = {**event.context, "public_url": settings.HOTLEAD_PUBLIC_URL}
    subject = " ".join(render_to_string(f"emails/{event.template}.subject.txt", context).split())
    text = render_to_string(f"emails/{event.template}.txt", context)
    html = render_to_string(f"emails/{event.template}.html", context)
    return subject, text, html


def email_deliver(event_id: int) -> None:
    """Send once. The row lock keeps two runs of the same job (at-least-once) from both sending;
    a sent event is never sent again. A failure raises, so the job mechanism retries it."""
    try:
        with transaction.atomic():
            event = EmailEvent.objects.select_for_update().filter(pk=event_id).first()
            if event is None or event.status == EmailStatus.SENT:
                return
            subject, text, html = email_render(event)
            message = EmailMultiAlternatives(subject=subject, body=text, to=[event.to])
            message.attach_alternative(html, "text/html")
            message.send()
            EmailEvent.objects.filter(pk=event_id).update(
                status=EmailStatus.SENT, attempts=F("attempts") + 1, sent_at=timezone.now(), error="",
                subject=subject[:300], updated_at=timezone.now(),
            )
    except Exception as exc:
        job = job_current()
        # Queued while the job mechanism will try again; failed once it has given up.
        status = EmailStatus.QUEUED if job is not None and not job.is_last_attempt else EmailStatus.FAILED
        EmailEvent.objects.filter(pk=event_id).exclude(status=EmailStatus.SENT).update(
            status=status, attempts=F("attempts") + 1, error=f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS],
            updated_at=timezone.now(),
        )
        raise
