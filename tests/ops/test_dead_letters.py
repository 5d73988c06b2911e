"""Dead letters: retry (runs the job again, resolves itself on success), resolve, cleanup; all audited."""
from datetime import timedelta

import pytest
from django.utils import timezone

from hotlead.core.exceptions import Conflict, DomainRuleViolation, NotFound
from hotlead.core.models import AuditLog
from hotlead.ops.jobs import MAX_ATTEMPTS, job_enqueue
from hotlead.ops.models import DeadLetter, DeadLetterStatus
from hotlead.ops.services import dead_letter_cleanup, dead_letter_resolve, dead_letter_retry
from tests.factories.ops import DeadLetterFactory
from tests.ops import jobs
from tests.ops.helpers import retries_run_all

pytestmark = pytest.mark.django_db


def test_retry_from_the_dlq_runs_the_job_again_and_resolves_it(staff_user, django_capture_on_commit_callbacks):
    # given: a job that failed all its attempts while its peer was down
    jobs.FAILURES_LEFT["count"] = MAX_ATTEMPTS
    with django_capture_on_commit_callbacks(execute=True):
        job_enqueue("tests.ops.jobs.fails_then_succeeds", "order-7")
    retries_run_all()
    dead = DeadLetter.objects.get()
    assert dead.status == DeadLetterStatus.OPEN and len(jobs.calls) == MAX_ATTEMPTS
    # when: the peer is back and staff retry
    with django_capture_on_commit_callbacks(execute=True):
        dead_letter_retry(dead_letter_id=dead.pk, actor=staff_user)
    # then: the job ran once more, with its arguments, and the dead letter resolved itself
    assert len(jobs.calls) == MAX_ATTEMPTS + 1 and jobs.calls[-1] == (("order-7",), {})
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.RESOLVED and dead.retry_count == 1
    assert dead.retried_at is not None and dead.resolved_at is not None
    assert "Succeeded on retry" in dead.note
    assert DeadLetter.objects.count() == 1
    actions = list(AuditLog.objects.filter(object_id=str(dead.pk)).order_by("id").values_list("action", "actor"))
    assert actions == [("dead_letter.retried", staff_user.pk), ("dead_letter.succeeded", None)]


def test_a_retried_job_that_fails_again_reopens_the_same_dead_letter(staff_user, django_capture_on_commit_callbacks):
    # given
    dead = DeadLetterFactory(func="tests.ops.jobs.always_fails", args=[1], attempts=MAX_ATTEMPTS)
    first_failed_at = dead.first_failed_at
    # when
    with django_capture_on_commit_callbacks(execute=True):
        retried = dead_letter_retry(dead_letter_id=dead.pk, actor=staff_user)
    assert retried.status == DeadLetterStatus.RETRIED
    retries_run_all()
    # then: one row, open again, with every attempt counted
    assert DeadLetter.objects.count() == 1
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.OPEN
    assert dead.attempts == 2 * MAX_ATTEMPTS and dead.retry_count == 1
    assert dead.first_failed_at == first_failed_at < dead.last_failed_at
    assert len(jobs.calls) == MAX_ATTEMPTS


def test_retry_is_queued_only_after_commit(staff_user, django_capture_on_commit_callbacks):
    dead = DeadLetterFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        dead_letter_retry(dead_letter_id=dead.pk, actor=staff_user)
    assert jobs.calls == [] and len(callbacks) == 1


def test_a_resolved_dead_letter_cannot_be_retried(staff_user):
    dead = DeadLetterFactory(status=DeadLetterStatus.RESOLVED, resolved_at=timezone.now())
    with pytest.raises(Conflict):
        dead_letter_retry(dead_letter_id=dead.pk, actor=staff_user)
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.RESOLVED and dead.retry_count == 0
    assert not AuditLog.objects.filter(action="dead_letter.retried").exists()


def test_a_job_whose_code_is_gone_cannot_be_retried(staff_user, django_capture_on_commit_callbacks):
    dead = DeadLetterFactory(func="hotlead.nowhere.tasks.old_job")
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(DomainRuleViolation) as err:
        dead_letter_retry(dead_letter_id=dead.pk, actor=staff_user)
    assert err.value.code == "task_unknown" and callbacks == []
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.OPEN


def test_resolve_closes_with_a_note_and_an_audit_entry(staff_user):
    dead = DeadLetterFactory()
    resolved = dead_letter_resolve(dead_letter_id=dead.pk, actor=staff_user, note="Sent by hand.")
    assert resolved.status == DeadLetterStatus.RESOLVED and resolved.note == "Sent by hand."
    entry = AuditLog.objects.get(action="dead_letter.resolved")
    assert entry.actor == staff_user and entry.object_type == "ops.deadletter" and entry.object_id == str(dead.pk)
    assert entry.changes == {"status": ["open", "resolved"], "note": "Sent by hand."}
    with pytest.raises(Conflict):
        dead_letter_resolve(dead_letter_id=dead.pk, actor=staff_user)
    assert AuditLog.objects.filter(action="dead_letter.resolved").count() == 1


def test_unknown_dead_letter_is_not_found(staff_user):
    with pytest.raises(NotFound):
        dead_letter_resolve(dead_letter_id=999999, actor=staff_user)


def test_cleanup_deletes_only_resolved_entries_past_the_retention(settings):
    # given
    settings.HOTLEAD = {**settings.HOTLEAD, "DLQ_RETENTION_DAYS": 30}
    now = timezone.now()
    old_resolved = DeadLetterFactory(status=DeadLetterStatus.RESOLVED, resolved_at=now - timedelta(days=31))
    recent_resolved = DeadLetterFactory(status=DeadLetterStatus.RESOLVED, resolved_at=now - timedelta(days=29))
    old_open = DeadLetterFactory(status=DeadLetterStatus.OPEN, first_failed_at=now - timedelta(days=90),
                                 last_failed_at=now - timedelta(days=90))
    old_retried = DeadLetterFactory(status=DeadLetterStatus.RETRIED, retried_at=now - timedelta(days=60))
    # when
    deleted = dead_letter_cleanup()
    # then
    assert deleted == 1
    assert set(DeadLetter.objects.values_list("pk", flat=True)) == {recent_resolved.pk, old_open.pk, old_retried.pk}
    assert not DeadLetter.objects.filter(pk=old_resolved.pk).exists()


def test_the_cleanup_job_runs_through_the_job_runner(settings):
    from hotlead.ops.jobs import job_run

    DeadLetterFactory(status=DeadLetterStatus.RESOLVED, resolved_at=timezone.now() - timedelta(days=400))
    assert job_run("hotlead.ops.tasks.dead_letter_cleanup", [], {}) == 1
    assert not DeadLetter.objects.exists()
