"""E-mail after crashes: exactly once per event, interrupted sends surfaced, lost jobs re-queued, one connection."""
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.utils import timezone

from hotlead.notifications import mailer
from hotlead.notifications.models import EmailEvent, EmailStatus
from hotlead.notifications.services import INTERRUPTED_ERROR, email_queue, emails_recover
from hotlead.notifications.tasks import email_deliver

CONTEXT = {"name": "Jane", "order": "A-17"}


class CountingSmtp(LocmemBackend):
    """Counts connections opened (TCP + TLS + AUTH on a real server) and can fail the next sends."""

    opened = 0
    failures = 0

    def open(self):
        CountingSmtp.opened += 1
        return True

    def send_messages(self, messages):
        if CountingSmtp.failures:
            CountingSmtp.failures -= 1
            raise ConnectionResetError("connection reset by peer")
        return super().send_messages(messages)


@pytest.fixture
def counting_smtp(settings):
    mailer.mail_connection_discard()
    settings.EMAIL_BACKEND = "tests.notifications.test_exactly_once.CountingSmtp"
    CountingSmtp.opened, CountingSmtp.failures = 0, 0
    yield CountingSmtp
    mailer.mail_connection_discard()


def _queued(n: int = 1) -> list[EmailEvent]:
    return [EmailEvent.objects.create(template="test_notice", to=f"p{i}@example.com", context=CONTEXT)
            for i in range(n)]


@pytest.mark.django_db
def test_a_run_that_finds_the_event_claimed_by_another_run_sends_nothing():
    # given: another run claimed the event and is talking to the SMTP server (or was killed doing so)
    event = _queued()[0]
    EmailEvent.objects.filter(pk=event.pk).update(status=EmailStatus.SENDING)
    # when: the broker hands the same job out again
    email_deliver(event.pk)
    # then
    assert mail.outbox == []
    event.refresh_from_db()
    assert event.status == EmailStatus.SENDING and event.attempts == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_of_the_same_job_send_the_email_once():
    # given
    event = _queued()[0]
    start = threading.Barrier(6)
    errors = []

    def run():
        try:
            start.wait()
            email_deliver(event.pk)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    # when: six workers run the job at the same moment
    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    assert errors == []
    assert len(mail.outbox) == 1
    event.refresh_from_db()
    assert event.status == EmailStatus.SENT and event.attempts == 1


@pytest.mark.django_db
def test_an_interrupted_send_becomes_failed_and_is_never_sent_again_automatically():
    # given: a worker claimed the event 11 minutes ago and was killed (the message may have gone out)
    event = _queued()[0]
    EmailEvent.objects.filter(pk=event.pk).update(status=EmailStatus.SENDING,
                                                  updated_at=timezone.now() - timedelta(minutes=11))
    fresh = _queued()[0]
    EmailEvent.objects.filter(pk=fresh.pk).update(status=EmailStatus.SENDING)  # being sent right now
    # when
    interrupted, requeued = emails_recover()
    # then
    assert (interrupted, requeued) == (1, 0)
    event.refresh_from_db()
    fresh.refresh_from_db()
    assert event.status == EmailStatus.FAILED and event.error == INTERRUPTED_ERROR
    assert fresh.status == EmailStatus.SENDING
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_queued_email_whose_job_was_lost_is_queued_again_and_sent_once():
    # given: two e-mails queued 6 minutes ago whose jobs died with a worker (never tried), one tried and waiting
    # for its back-off retry, one queued a minute ago (its job is still in the broker)
    old = timezone.now() - timedelta(minutes=6)
    lost = _queued(2)
    retrying, recent = _queued(2)
    EmailEvent.objects.filter(pk__in=[e.pk for e in lost]).update(updated_at=old)
    EmailEvent.objects.filter(pk=retrying.pk).update(updated_at=old, attempts=1, error="SMTPServerDisconnected")
    EmailEvent.objects.filter(pk=recent.pk).update(updated_at=timezone.now() - timedelta(minutes=1))
    # when: the recovery job runs (jobs run inline in tests)
    assert emails_recover() == (0, 2)
    # then: the lost ones went out, once each
    assert sorted(m.to[0] for m in mail.outbox) == ["p0@example.com", "p1@example.com"]
    assert set(EmailEvent.objects.filter(pk__in=[e.pk for e in lost]).values_list("status", flat=True)) == {"sent"}
    # and a second pass finds nothing to do
    assert emails_recover() == (0, 0)
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_one_mail_connection_serves_a_burst_of_emails(counting_smtp):
    # given
    events = _queued(20)
    # when: one worker process delivers them
    for event in events:
        email_deliver(event.pk)
    # then: every message went out over one connection
    assert len(mail.outbox) == 20
    assert counting_smtp.opened == 1


@pytest.mark.django_db
def test_a_failed_send_drops_the_connection_and_the_next_send_opens_a_new_one(counting_smtp):
    # given
    first, second = _queued(2)
    email_deliver(first.pk)
    counting_smtp.failures = 1
    # when: the server resets the connection
    with pytest.raises(ConnectionResetError):
        email_deliver(second.pk)
    second.refresh_from_db()
    assert second.status == EmailStatus.FAILED  # no job around it: nothing will retry (inside job_run: queued)
    EmailEvent.objects.filter(pk=second.pk).update(status=EmailStatus.QUEUED)
    email_deliver(second.pk)
    # then
    assert [m.to[0] for m in mail.outbox] == ["p0@example.com", "p1@example.com"]
    assert counting_smtp.opened == 2


@pytest.mark.django_db(transaction=True)
def test_email_queue_in_one_transaction_delivers_each_event_once(counting_smtp):
    # given / when
    events = [email_queue(template="test_notice", to=f"b{i}@example.com", context=CONTEXT, dedupe_key=f"k{i}")
              for i in range(3)]
    # then
    assert len(mail.outbox) == 3 and counting_smtp.opened == 1
    for event in events:
        event.refresh_from_db()
        assert event.status == EmailStatus.SENT and event.attempts == 1


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs in the worker (no except, no commit)."""


class DyingSmtp(LocmemBackend):
    """The server accepts the message, then the worker dies before it records the send."""

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        assert sent
        raise WorkerKilled


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_after_the_server_took_the_message_does_not_send_it_again(settings):
    # given
    mailer.mail_connection_discard()
    settings.EMAIL_BACKEND = "tests.notifications.test_exactly_once.DyingSmtp"
    event = _queued()[0]
    with pytest.raises(WorkerKilled):
        email_deliver(event.pk)
    mailer.mail_connection_discard()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # when: the broker hands the job out again (ORM retry), and the recovery job runs later
    email_deliver(event.pk)
    emails_recover(now=timezone.now() + timedelta(minutes=11))
    # then: one message; the event is failed with a note, for staff to check and resend
    assert len(mail.outbox) == 1
    event.refresh_from_db()
    assert event.status == EmailStatus.FAILED and event.error == INTERRUPTED_ERROR


@pytest.mark.django_db(transaction=True)
def test_a_sales_emails_go_out_in_one_job_over_one_connection(counting_smtp):
    # given: a lead sold to three buyers who want instant e-mails
    from django_q.models import Task

    from hotlead.distribution.services.engine import lead_distribute
    from tests.distribution.conftest import approved_lead, make_level, seller

    level = make_level("shared", rank=1, price_cents=2_500, max_recipients=3)
    for _ in range(3):
        seller(level)
    lead = approved_lead()
    # when: the sale's follow-up job runs (inline in tests)
    lead_distribute(lead_id=lead.pk, trigger="approval")
    # then: the submitter and the three buyers got their e-mail, each once, from one delivery job
    assert sorted(m.subject.split(":")[0] for m in mail.outbox) == [
        "3 pros received your Roofing request", "New lead", "New lead", "New lead"]
    batches = [t for t in Task.objects.filter(func="hotlead.ops.jobs.job_run")
               if t.args and t.args[0].startswith("hotlead.notifications.tasks.email_deliver")]
    assert [(t.args[0].rsplit(".", 1)[1], len(t.args[1][0])) for t in batches] == [("email_deliver_many", 4)]
    assert counting_smtp.opened == 1
    assert set(EmailEvent.objects.values_list("status", flat=True)) == {EmailStatus.SENT}


@pytest.mark.django_db
def test_a_batch_with_one_failing_message_sends_the_others_and_retries_only_that_one(counting_smtp):
    from hotlead.notifications.tasks import email_deliver_many

    events = _queued(3)
    counting_smtp.failures = 1  # the first message is refused
    with pytest.raises(ConnectionResetError):
        email_deliver_many([e.pk for e in events])
    assert sorted(m.to[0] for m in mail.outbox) == ["p1@example.com", "p2@example.com"]
    # the retry (the failed one is queued again inside a job; here: by hand) sends only the one left
    EmailEvent.objects.filter(pk=events[0].pk).update(status=EmailStatus.QUEUED)
    email_deliver_many([e.pk for e in events])
    assert sorted(m.to[0] for m in mail.outbox) == ["p0@example.com", "p1@example.com", "p2@example.com"]


@pytest.mark.django_db
def test_resending_an_email_of_a_batch_that_gave_up_settles_the_batchs_dead_letter(staff_user):
    from hotlead.notifications.services import DELIVER_MANY, email_resend
    from hotlead.ops.models import DeadLetter, DeadLetterStatus
    from tests.factories.ops import DeadLetterFactory

    first, second = _queued(2)
    EmailEvent.objects.filter(pk__in=[first.pk, second.pk]).update(status=EmailStatus.FAILED)
    batch = DeadLetterFactory(func=DELIVER_MANY, args=[[first.pk, second.pk]])
    other = DeadLetterFactory(func=DELIVER_MANY, args=[[second.pk]])
    email_resend(event_id=first.pk, actor=staff_user)
    assert DeadLetter.objects.get(pk=batch.pk).status == DeadLetterStatus.RESOLVED
    assert DeadLetter.objects.get(pk=other.pk).status == DeadLetterStatus.OPEN
