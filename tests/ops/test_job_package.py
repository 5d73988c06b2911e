"""The queue row a lead's e-mail job is written as (`job_queue_row`): the package django-q2's `async_task` would
give its broker, built without async_task's per-call extras — checked against async_task itself, and run by a worker
as any queued job."""
from __future__ import annotations

import pytest
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage
from django_q.tasks import async_task

from hotlead.core.rows import rows_insert
from hotlead.ops import jobs as ops_jobs
from hotlead.ops.jobs import RUNNER, job_queue_row
from tests.ops import jobs

pytestmark = pytest.mark.django_db


class _Kept:
    """A broker that keeps what async_task gives it."""

    list_key = "hotlead"

    def __init__(self):
        self.package = None

    def enqueue(self, package):
        self.package = package


def _as_async_task_packs_it(func_path, args, meta, *, task_name):
    broker = _Kept()
    async_task(RUNNER, func_path, args, {}, meta, broker=broker, task_name=task_name,
               **ops_jobs._options(func_path))
    return SignedPackage.loads(broker.package)


@pytest.mark.parametrize("func_path", ["tests.ops.jobs.record_call", "reports.tasks.export_run_job"])
def test_the_package_is_the_task_async_task_packs(func_path, monkeypatch):
    # given: the ORM broker queueing for workers; one job without and one with its own timeout (settings)
    monkeypatch.setattr(Conf, "SYNC", False)
    meta = ops_jobs._job_meta(func_path, [7], {})
    # when
    ours = SignedPackage.loads(ops_jobs._package(func_path, [7], {}, meta, task_name="job x"))
    theirs = _as_async_task_packs_it(func_path, [7], meta, task_name="job x")
    # then: the same task but for its own id and time (the worker reads every other key)
    assert ours.keys() == theirs.keys()
    assert {k: v for k, v in ours.items() if k not in ("id", "started")} == {
        k: v for k, v in theirs.items() if k not in ("id", "started")}
    assert len(ours["id"]) == len(theirs["id"]) == 32 and ours["started"].tzinfo is not None
    assert ("timeout" in ours) == (func_path == "reports.tasks.export_run_job") and ours["ack_failure"] is True


def test_a_queue_row_written_with_a_change_is_run_by_a_worker_as_a_queued_job(monkeypatch):
    # given: the job's row written (as the intake writes it, in one statement)
    monkeypatch.setattr(Conf, "SYNC", False)
    rows_insert([job_queue_row("tests.ops.jobs.record_call", 7, "x", task_name="record")])
    row = OrmQ.objects.get()
    task = SignedPackage.loads(row.payload)
    assert (row.key, task["func"], task["name"]) == (Conf.CLUSTER_NAME, RUNNER, "record")
    # when: a worker runs it as django-q2 does (the function with the task's args and kwargs)
    from django.utils.module_loading import import_string

    import_string(task["func"])(*task["args"], **task["kwargs"])
    # then
    assert jobs.calls == [((7, "x"), {})]
