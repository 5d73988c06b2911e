"""Jobs: deliver one recorded e-mail."""
from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from hotlead.notifications.models import EmailEvent, EmailStatus


def email_render(event: EmailEvent) -> tuple[str, str, str]:
    context = {**event.context, "public_url": settings.HOTLEAD_PUBLIC_URL}
    subject = render_to_string(f"emails/{event.template}.subject.txt", context).strip()
    text = render_to_string(f"emails/{event.template}.txt", context)
    html = render_to_string(f"emails/{event.template}.html", context)
    return subject, text, html


def email_deliver(event_id: int) -> None:
    """Send once: a sent event is never sent again (the job may run more than once)."""
    event = EmailEvent.objects.get(pk=event_id)
    if event.status == EmailStatus.SENT:
        return
    EmailEvent.objects.filter(pk=event_id).update(attempts=F("attempts") + 1)
    try:
        subject, text, html = email_render(event)
        message = EmailMultiAlternatives(subject=subject, body=text, to=[event.to])
        message.attach_alternative(html, "text/html")
        message.send()
    except Exception as exc:
        EmailEvent.objects.filter(pk=event_id).update(status=EmailStatus.FAILED, error=repr(exc)[:2000])
        raise
    EmailEvent.objects.filter(pk=event_id).update(status=EmailStatus.SENT, sent_at=timezone.now(), error="",
                                                  subject=subject[:300])
