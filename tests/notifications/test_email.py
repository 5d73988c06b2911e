"""E-mail: recorded as an event, delivered by a job, retried on failure, never sent twice."""
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from hotlead.core.models import AuditLog
from hotlead.notifications.models import EmailEvent, EmailStatus
from hotlead.notifications.services import email_queue, email_resend
from hotlead.notifications.tasks import email_deliver
from hotlead.ops.jobs import MAX_ATTEMPTS
from hotlead.ops.models import DeadLetter, DeadLetterStatus
from tests.ops.helpers import retries_run_all

pytestmark = pytest.mark.django_db
CONTEXT = {"name": "Jane", "order": "A-17"}


class FlakySmtp(LocmemBackend):
    """The SMTP server (the one thing that leaves the machine): refuses while `refusals` > 0."""

    refusals = 0

    def send_messages(self, messages):
        if FlakySmtp.refusals > 0:
            FlakySmtp.refusals -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky_smtp(settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_email.FlakySmtp"
    FlakySmtp.refusals = 0
    yield FlakySmtp
    FlakySmtp.refusals = 0


def test_an_email_is_queued_then_sent_by_a_job_after_commit(django_capture_on_commit_callbacks, settings):
    # given / when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event = email_queue(template="test_notice", to="jane@example.com", context=CONTEXT)
    # then: recorded, nothing sent before commit
    assert event.status == EmailStatus.QUEUED and mail.outbox == []
    # when: the transaction commits
    for callback in callbacks:
        callback()
    # then
    [message] = mail.outbox
    assert message.to == ["jane@example.com"] and message.subject == "Your order A-17 is ready"
    assert f"Order A-17 is ready: {settings.HOTLEAD_PUBLIC_URL}/orders/A-17" in message.body
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html" and "<strong>A-17</strong>" in html and "Hot Lead" in html
    event.refresh_from_db()
    assert event.status == EmailStatus.SENT and event.attempts == 1 and event.error == ""
    assert event.subject == "Your order A-17 is ready" and event.sent_at is not None


def test_related_object_is_recorded(django_capture_on_commit_callbacks):
    from tests.factories.ops import DeadLetterFactory

    related = DeadLetterFactory()
    with django_capture_on_commit_callbacks(execute=True):
        event = email_queue(template="test_notice", to="ops@example.com", context=CONTEXT, related=related)
    assert (event.related_type, event.related_id) == ("ops.deadletter", str(related.pk))


def test_a_repeated_dedupe_key_sends_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = email_queue(template="test_notice", to="jane@example.com", context=CONTEXT, dedupe_key="order:A-17")
        second = email_queue(template="test_notice", to="jane@example.com", context=CONTEXT,
                             dedupe_key="order:A-17")
    assert first is not None and second is None
    assert EmailEvent.objects.count() == 1 and len(mail.outbox) == 1


def test_a_sent_email_is_never_sent_again(django_capture_on_commit_callbacks):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        event = email_queue(template="test_notice", to="jane@example.com", context=CONTEXT)
    # when: the broker hands the same job out again (at-least-once)
    email_deliver(event.pk)
    # then
    assert len(mail.outbox) == 1
    event.refresh_from_db()
    assert event.attempts == 1


def test_a_failed_send_is_retried_by_the_job_mechanism(flaky_smtp, django_capture_on_commit_callbacks):
    # given: the SMTP server drops the first two connections
    flaky_smtp.refusals = 2
    # when
    with django_capture_on_commit_callbacks(execute=True):
        event = email_queue(template="test_notice", to="jane@example.com", context=CONTEXT)
    event.refresh_from_db()
    # then: still queued (a retry is scheduled), the error recorded
    assert event.status == EmailStatus.QUEUED and event.attempts == 1
    assert event.error == "SMTPServerDisconnected: Connection unexpectedly closed" and mail.outbox == []
    # when: the retries run
    retries_run_all()
    # then
    event.refresh_from_db()
    assert event.status == EmailStatus.SENT and event.attempts == 3 and event.error == ""
    assert len(mail.outbox) == 1 and not DeadLetter.objects.exists()


def test_an_email_that_never_goes_out_is_failed_and_dead_lettered(flaky_smtp, django_capture_on_commit_callbacks):
    # given
    flaky_smtp.refusals = MAX_ATTEMPTS
    # when
    with django_capture_on_commit_callbacks(execute=True):
        event = email_queue(template="test_notice", to="jane@example.com", context=CONTEXT)
    retries_run_all()
    # then
    event.refresh_from_db()
    assert event.status == EmailStatus.FAILED and event.attempts == MAX_ATTEMPTS and mail.outbox == []
    dead = DeadLetter.objects.get()
    assert dead.func == "hotlead.notifications.tasks.email_deliver" and dead.args == [event.pk]
    assert dead.attempts == MAX_ATTEMPTS


def test_resending_a_failed_email_sends_it_and_settles_its_dead_letter(
        flaky_smtp, staff_user, django_capture_on_commit_callbacks):
    # given: an e-mail that gave up
    flaky_smtp.refusals = MAX_ATTEMPTS
    with django_capture_on_commit_callbacks(execute=True):
        event = email_queue(template="test_notice", to="jane@example.com", context=CONTEXT)
    retries_run_all()
    # when: the SMTP server is back and staff resend it
    with django_capture_on_commit_callbacks(execute=True):
        email_resend(event_id=event.pk, actor=staff_user)
    # then
    event.refresh_from_db()
    assert event.status == EmailStatus.SENT and len(mail.outbox) == 1
    assert DeadLetter.objects.get().status == DeadLetterStatus.RESOLVED
    assert AuditLog.objects.filter(action="email.resent", actor=staff_user).count() == 1


def test_only_a_failed_email_can_be_resent(staff_user, django_capture_on_commit_callbacks):
    from hotlead.core.exceptions import Conflict

    with django_capture_on_commit_callbacks(execute=True):
        event = email_queue(template="test_notice", to="jane@example.com", context=CONTEXT)
    with pytest.raises(Conflict):
        email_resend(event_id=event.pk, actor=staff_user)
    assert len(mail.outbox) == 1


def test_a_missing_template_fails_in_the_caller():
    from django.template import TemplateDoesNotExist

    with pytest.raises(TemplateDoesNotExist):
        email_queue(template="no_such_message", to="jane@example.com")
    assert not EmailEvent.objects.exists()


def test_a_context_that_cannot_be_stored_fails_in_the_caller():
    from django.utils import timezone

    with pytest.raises(TypeError, match="JSON"):
        email_queue(template="test_notice", to="jane@example.com", context={"when": timezone.now()})
    assert not EmailEvent.objects.exists()
