"""E-mail (SPEC §11): every message is an EmailEvent, delivered by a job.

Templates live in hotlead/notifications/templates/emails/<name>.subject.txt, <name>.txt, <name>.html
(the HTML extends emails/_base.html). The context is stored with the event (retries render it again),
so it must hold JSON values only; seal secrets (codes, links with tokens) before passing them.
"""
from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import get_template
from django.utils import timezone

from hotlead.core.exceptions import Conflict, NotFound
from hotlead.core.rows import Row
from hotlead.core.services import audit_record
from hotlead.notifications.lock_objects import email_event_lock, email_events_lost_lock
from hotlead.notifications.models import EmailEvent, EmailStatus
from hotlead.ops.jobs import job_enqueue, job_queue_row
from hotlead.ops.models import DeadLetter, DeadLetterStatus
from hotlead.ops.services import dead_letter_resolve

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

DELIVER = "hotlead.notifications.tasks.email_deliver"
DELIVER_MANY = "hotlead.notifications.tasks.email_deliver_many"
# A claim ("sending") older than this was interrupted: no send takes minutes (the job timeout is 60 s).
STALE_SENDING_MINUTES = 10
# A queued e-mail never tried this long after it was queued lost its job (the Redis broker drops the jobs a
# killed worker held): it is queued again. The claim in email_deliver makes an extra job harmless.
LOST_JOB_MINUTES = 5
INTERRUPTED_ERROR = ("Interrupted while sending (the worker stopped): it may or may not have gone out. "
                     "Resend it if the recipient did not get it.")


def email_queue(*, template: str, to: str, context: dict | None = None, related=None,
                dedupe_key: str | None = None, deliver: bool = True) -> EmailEvent | None:
    """Record an e-mail as queued and deliver it after commit. A repeated dedupe_key sends nothing (None).

    deliver=False records it only: the caller hands several to `emails_deliver` (one job for all)."""
    event = email_event_build(template=template, to=to, context=context, related=related, dedupe_key=dedupe_key)
    try:
        with transaction.atomic():
            event.save(force_insert=True)
    except IntegrityError:
        if dedupe_key and EmailEvent.objects.filter(dedupe_key=dedupe_key).exists():
            return None  # already queued under this dedupe_key
        raise
    if deliver:
        job_enqueue(DELIVER, event.pk, task_name=f"email {template}")
    return event


# The e-mail templates found once in this process: templates do not go away while it runs (every lead's e-mail
# looked its three templates up again)
_templates_found: set[str] = set()


def email_event_build(*, template: str, to: str, context: dict | None = None, related=None,
                      dedupe_key: str | None = None) -> EmailEvent:
    """A queued e-mail, checked (its templates exist, its context is JSON) but not saved (`email_queue` saves it)."""
    return EmailEvent(**_email_event_values(template=template, to=to, context=context, related=related,
                                            dedupe_key=dedupe_key))


def email_event_row(*, pk: int, template: str, to: str, context: dict | None = None, related=None,
                    dedupe_key: str | None = None) -> Row:
    """`email_event_build` as a row (its id drawn) for `rows_insert`: the lead intake writes its e-mail with the
    lead in one statement (hotlead.core.rows), then `email_delivery_row` or `emails_deliver`."""
    return Row(EmailEvent, {"id": pk, **_email_event_values(template=template, to=to, context=context,
                                                            related=related, dedupe_key=dedupe_key)})


def _email_event_values(*, template: str, to: str, context: dict | None, related, dedupe_key: str | None) -> dict:
    if template not in _templates_found:
        for suffix in (".subject.txt", ".txt", ".html"):
            get_template(f"emails/{template}{suffix}")  # a missing template fails here, in the caller
        _templates_found.add(template)
    context = context or {}
    try:
        json.dumps(context)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"E-mail context must hold JSON values: {exc}") from exc
    values = {"template": template, "to": to, "context": context, "dedupe_key": dedupe_key}
    if related is not None:
        values.update(related_type=related._meta.label_lower, related_id=str(related.pk))
    return values


def email_delivery_row(event_id: int, *, template: str) -> Row | None:
    """The delivery job of an e-mail written with `email_event_row` as a queue row to write with it; None when
    jobs are not queued in this database: then `emails_deliver([event_id])` once it is written."""
    return job_queue_row(DELIVER, event_id, task_name=f"email {template}")


def emails_deliver(events: list[EmailEvent | int | None]) -> None:
    """One delivery job, after commit, for e-mails recorded with deliver=False (or their ids; None is skipped).

    A burst (a sale's "new lead" e-mails to every buyer) then costs one job and one mail connection instead of
    one of each per message. Each e-mail is still claimed and sent on its own: exactly once, a failure retried."""
    ids = [event if isinstance(event, int) else event.pk for event in events if event is not None]
    if len(ids) == 1:
        job_enqueue(DELIVER, ids[0], task_name="email")
    elif ids:
        job_enqueue(DELIVER_MANY, ids, task_name=f"email ×{len(ids)}")


@transaction.atomic
def email_resend(*, event_id: int, actor: AbstractBaseUser | None) -> EmailEvent:
    """Queue a failed e-mail again (staff, from the console)."""
    event = email_event_lock(event_id=event_id)
    if event is None:
        raise NotFound("No such e-mail.")
    if event.status != EmailStatus.FAILED:
        raise Conflict("Only a failed e-mail can be sent again.")
    event.status = EmailStatus.QUEUED
    event.save(update_fields=["status", "updated_at"])
    audit_record(action="email.resent", actor=actor, obj=event,
                 changes={"status": [EmailStatus.FAILED, EmailStatus.QUEUED], "template": event.template})
    job_enqueue(DELIVER, event.pk, task_name=f"email {event.template}")
    # The delivery job that gave up is in the dead-letter queue: this resend settles it (a batch's too: its
    # other e-mails that failed stay listed as failed e-mails, each resendable).
    open_letters = DeadLetter.objects.filter(status=DeadLetterStatus.OPEN)
    batches = [dl for dl in open_letters.filter(func=DELIVER_MANY)  # few rows; JSON containment differs by database
               if dl.args and isinstance(dl.args[0], list) and event.pk in dl.args[0]]
    for dead_letter in [*open_letters.filter(func=DELIVER, args=[event.pk]), *batches]:
        dead_letter_resolve(dead_letter_id=dead_letter.pk, actor=actor,
                            note=f"E-mail {event.pk} was queued again from the e-mail events page.")
    return event


@transaction.atomic
def emails_recover(*, now=None) -> tuple[int, int]:
    """After a crash: (interrupted sends failed, lost deliveries queued again).

    A delivery claim ("sending") a killed worker left behind becomes failed — shown in the console and
    resendable by staff, never sent again automatically, since the worker may have died after the SMTP
    server accepted the message. A queued e-mail that was never tried LOST_JOB_MINUTES after it was last
    queued gets a new delivery job (its own may have been lost with the worker)."""
    now = now or timezone.now()
    stale = settings.HOTLEAD.get("EMAIL_SENDING_STALE_SECONDS", STALE_SENDING_MINUTES * 60)
    lost_after = settings.HOTLEAD.get("EMAIL_LOST_JOB_SECONDS", LOST_JOB_MINUTES * 60)
    interrupted = EmailEvent.objects.filter(
        status=EmailStatus.SENDING, updated_at__lt=now - timedelta(seconds=stale)
    ).update(status=EmailStatus.FAILED, error=INTERRUPTED_ERROR, updated_at=now)
    lost = email_events_lost_lock(queued_before=now - timedelta(seconds=lost_after), limit=5000)
    if lost:
        EmailEvent.objects.filter(pk__in=[pk for pk, _ in lost]).update(updated_at=now)
        for pk, template in lost:
            job_enqueue(DELIVER, pk, task_name=f"email {template}")
    return interrupted, len(lost)
