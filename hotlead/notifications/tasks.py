"""Jobs: deliver recorded e-mails, each exactly once; fail the deliveries a killed worker interrupted."""
from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from hotlead.notifications.mailer import mail_connection, mail_connection_discard
from hotlead.notifications.models import EmailEvent, EmailStatus
from hotlead.notifications.services import emails_recover
from hotlead.ops.jobs import job_current

ERROR_MAX_CHARS = 2000


def email_render(event: EmailEvent) -> tuple[str, str, str]:
    context = {**event.context, "public_url": settings.HOTLEAD_PUBLIC_URL}
    subject = " ".join(render_to_string(f"emails/{event.template}.subject.txt", context).split())
    text = render_to_string(f"emails/{event.template}.txt", context)
    html = render_to_string(f"emails/{event.template}.html", context)
    return subject, text, html


def email_deliver(event_id: int) -> None:
    """Send once, whatever the broker does.

    The event is claimed first, by a conditional UPDATE queued → sending that commits before the SMTP
    call: of two runs of the same job (at-least-once delivery, or a job the broker handed out again
    after a crash) only one claims it, and a run that finds the event sending or sent does nothing. A
    worker killed between the claim and the confirmation leaves it "sending": it is never sent again
    automatically (it may have gone out) — `services.emails_recover` marks it failed for staff to resend.
    A send that raises puts it back to queued (the job mechanism retries it) or failed (last attempt).
    """
    claimed = EmailEvent.objects.filter(pk=event_id, status=EmailStatus.QUEUED).update(
        status=EmailStatus.SENDING, updated_at=timezone.now())
    if not claimed:
        return  # sent, being sent by another run, interrupted, given up or deleted
    event = EmailEvent.objects.get(pk=event_id)
    try:
        subject, text, html = email_render(event)
        message = EmailMultiAlternatives(subject=subject, body=text, to=[event.to], connection=mail_connection())
        message.attach_alternative(html, "text/html")
        message.send()
    except Exception as exc:
        mail_connection_discard()
        job = job_current()
        # Queued while the job mechanism will try again; failed once it has given up.
        status = EmailStatus.QUEUED if job is not None and not job.is_last_attempt else EmailStatus.FAILED
        EmailEvent.objects.filter(pk=event_id, status=EmailStatus.SENDING).update(
            status=status, attempts=F("attempts") + 1, error=f"{type(exc).__name__}: {exc}"[:ERROR_MAX_CHARS],
            updated_at=timezone.now(),
        )
        raise
    now = timezone.now()
    EmailEvent.objects.filter(pk=event_id, status=EmailStatus.SENDING).update(
        status=EmailStatus.SENT, attempts=F("attempts") + 1, sent_at=now, error="", subject=subject[:300],
        updated_at=now,
    )


def email_deliver_many(event_ids: list[int]) -> None:
    """A batch (services.emails_deliver): each e-mail delivered as by `email_deliver`, over this process's one
    connection. Failures do not stop the others; one is raised at the end, so the job mechanism retries the
    batch — the e-mails already sent are skipped by their claim."""
    failure: Exception | None = None
    for event_id in event_ids:
        try:
            email_deliver(event_id)
        except Exception as exc:  # noqa: BLE001 - recorded on the event by email_deliver; re-raised below
            failure = failure or exc
    if failure is not None:
        raise failure


def emails_recover_job() -> list[int]:
    """Every 5 minutes: fail interrupted sends, queue again deliveries whose job was lost (see email_deliver)."""
    return list(emails_recover())
