"""The job helper: after commit only, bounded retries with back-off, then the dead-letter table."""
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from hotlead.ops.jobs import BACKOFF_SECONDS, MAX_ATTEMPTS, job_enqueue
from hotlead.ops.metrics import JOB_DURATION, JOBS
from hotlead.ops.models import DeadLetter, DeadLetterStatus
from tests.ops import jobs
from tests.ops.helpers import retries_run_all, retry_schedules

pytestmark = pytest.mark.django_db


def _jobs_count(event: str, task: str) -> float:
    return JOBS.labels(event=event, task=task)._value.get()


def test_a_job_runs_after_the_transaction_commits(django_capture_on_commit_callbacks):
    # given / when
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        job_enqueue("tests.ops.jobs.record_call", 7, "x", flag=True)
        # then: nothing ran while the transaction was open
        assert jobs.calls == []
    # then
    assert len(callbacks) == 1
    assert jobs.calls == [((7, "x"), {"flag": True})]
    assert not retry_schedules().exists() and not DeadLetter.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_enqueues_nothing():
    # given
    from django_q.models import OrmQ, Task

    completed_before = _jobs_count("enqueued", "record_call")
    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        job_enqueue("tests.ops.jobs.record_call", 1)
        raise RuntimeError("the business action failed")
    # then
    assert jobs.calls == []
    assert Task.objects.count() == 0 and OrmQ.objects.count() == 0
    assert _jobs_count("enqueued", "record_call") == completed_before


@pytest.fixture
def orm_broker_queue(monkeypatch):
    """Jobs queued for a real worker in the ORM broker's table (tests otherwise run them inline)."""
    from django_q.conf import Conf
    from django_q.models import OrmQ

    monkeypatch.setattr(Conf, "SYNC", False)
    return OrmQ.objects


@pytest.mark.django_db(transaction=True)
def test_with_the_orm_broker_the_job_row_is_written_in_the_transaction_and_visible_at_commit(orm_broker_queue):
    # given
    enqueued_before = _jobs_count("enqueued", "record_call")
    # when
    with transaction.atomic():
        job_enqueue("tests.ops.jobs.record_call", 3)
        # then: the row is part of the transaction (no second commit); not counted until it commits
        assert orm_broker_queue.count() == 1
        assert _jobs_count("enqueued", "record_call") == enqueued_before
    # then
    assert orm_broker_queue.count() == 1 and jobs.calls == []
    assert _jobs_count("enqueued", "record_call") == enqueued_before + 1


@pytest.mark.django_db(transaction=True)
def test_with_the_orm_broker_a_rolled_back_transaction_leaves_no_job_row(orm_broker_queue):
    # given
    enqueued_before = _jobs_count("enqueued", "record_call")
    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        job_enqueue("tests.ops.jobs.record_call", 4)
        raise RuntimeError("the business action failed")
    # then
    assert orm_broker_queue.count() == 0
    assert _jobs_count("enqueued", "record_call") == enqueued_before


@pytest.mark.django_db(transaction=True)
def test_a_job_enqueued_outside_a_transaction_runs_at_once():
    job_enqueue("tests.ops.jobs.record_call", "now")
    assert jobs.calls == [(("now",), {})]


def test_a_job_that_always_fails_is_dead_lettered_after_its_last_attempt(django_capture_on_commit_callbacks):
    # given
    failed_before = _jobs_count("failed", "always_fails")
    dead_before = _jobs_count("dead_lettered", "always_fails")
    started = timezone.now()
    # when: the first attempt runs at commit, the next ones when their back-off passes
    with django_capture_on_commit_callbacks(execute=True):
        job_id = job_enqueue("tests.ops.jobs.always_fails", 42, reason="demo")
    assert len(jobs.calls) == 1
    retry = retry_schedules().get()
    assert started + timedelta(seconds=BACKOFF_SECONDS[0]) <= retry.next_run
    assert retry.next_run <= timezone.now() + timedelta(seconds=BACKOFF_SECONDS[0])
    rounds = retries_run_all()
    # then
    assert rounds == MAX_ATTEMPTS - 1
    assert len(jobs.calls) == MAX_ATTEMPTS == 5
    dead = DeadLetter.objects.get()
    assert dead.func == "tests.ops.jobs.always_fails" and dead.task_name == "always_fails"
    assert dead.task_id == job_id
    assert dead.args == [42] and dead.kwargs == {"reason": "demo"}
    assert dead.attempts == MAX_ATTEMPTS
    assert dead.status == DeadLetterStatus.OPEN
    assert "RuntimeError: the peer did not answer" in dead.error and "Traceback" in dead.error
    assert started <= dead.first_failed_at < dead.last_failed_at <= timezone.now()
    assert not retry_schedules().exists()
    assert _jobs_count("failed", "always_fails") == failed_before + MAX_ATTEMPTS
    assert _jobs_count("dead_lettered", "always_fails") == dead_before + 1


def test_a_job_that_recovers_is_not_dead_lettered(django_capture_on_commit_callbacks):
    # given: the peer fails twice, then answers
    jobs.FAILURES_LEFT["count"] = 2
    # when
    with django_capture_on_commit_callbacks(execute=True):
        job_enqueue("tests.ops.jobs.fails_then_succeeds", "a")
    rounds = retries_run_all()
    # then
    assert rounds == 2 and len(jobs.calls) == 3
    assert not DeadLetter.objects.exists()


def test_each_retry_waits_longer(django_capture_on_commit_callbacks):
    # given
    jobs.FAILURES_LEFT["count"] = 3
    with django_capture_on_commit_callbacks(execute=True):
        job_enqueue("tests.ops.jobs.fails_then_succeeds")
    waits = []
    # when: step through the retries one by one
    from django_q.brokers import get_broker
    from django_q.scheduler import scheduler

    while retry_schedules().exists():
        schedule = retry_schedules().get()
        waits.append(round((schedule.next_run - timezone.now()).total_seconds()))
        retry_schedules().update(next_run=timezone.now() - timedelta(seconds=1))
        scheduler(broker=get_broker())
    # then
    assert waits == list(BACKOFF_SECONDS[:3])
    assert tuple(sorted(BACKOFF_SECONDS)) == BACKOFF_SECONDS


def test_a_timed_out_job_is_retried_like_a_failure(django_capture_on_commit_callbacks):
    # given: django-q2's timeout is a SystemExit, not an Exception
    with django_capture_on_commit_callbacks(execute=True):
        job_enqueue("tests.ops.jobs.times_out")
    # when
    retries_run_all()
    # then
    dead = DeadLetter.objects.get()
    assert dead.attempts == MAX_ATTEMPTS and "TimeoutException" in dead.error


def test_a_job_whose_code_is_gone_is_dead_lettered_at_once():
    # given: a retry queued by an older release names a function that no longer exists
    from hotlead.ops.jobs import job_run

    # when
    result = job_run("tests.ops.jobs.renamed_away", [1], {}, {"job_id": "j1", "attempt": 2})
    # then
    assert result is None
    dead = DeadLetter.objects.get()
    assert dead.attempts == 2 and dead.task_id == "j1" and "ImportError" in dead.error
    assert not retry_schedules().exists()


def test_enqueue_refuses_a_function_that_does_not_exist():
    with pytest.raises(ImportError):
        job_enqueue("tests.ops.jobs.no_such_job")


def test_enqueue_refuses_arguments_that_are_not_json():
    with pytest.raises(TypeError, match="JSON"):
        job_enqueue("tests.ops.jobs.record_call", timezone.now())


def test_a_job_measures_its_duration(django_capture_on_commit_callbacks):
    # given
    def observations():
        return sum(b.get() for b in JOB_DURATION.labels(task="record_call", outcome="success")._buckets)

    before = observations()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        job_enqueue("tests.ops.jobs.record_call")
    # then
    assert observations() == before + 1


def test_a_job_runs_under_the_request_id_that_queued_it(django_capture_on_commit_callbacks):
    # given
    from hotlead.core.request_context import request_id_var

    token = request_id_var.set("req-abc-123")
    try:
        # when
        with django_capture_on_commit_callbacks(execute=True):
            job_enqueue("tests.ops.jobs.capture_request_id")
    finally:
        request_id_var.reset(token)
    # then: its log lines carry the id of the request that queued it
    assert jobs.calls == [(("req-abc-123",), {})]


def test_a_job_queued_outside_a_request_logs_under_its_job_id(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job_id = job_enqueue("tests.ops.jobs.capture_request_id")
    assert jobs.calls == [((f"job-{job_id}",), {})]
