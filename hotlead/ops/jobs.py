"""One way to run background work (SPEC §11): `job_enqueue(...)` after commit, retried, dead-lettered.

    job_enqueue("hotlead.notifications.tasks.email_deliver", event.pk)

- The job is handed to django-q2 only when the surrounding transaction commits (a rolled-back
  change queues nothing). With the ORM broker (no Redis) the queue is a table of the same database:
  the job's row is written inside the transaction instead, and workers see it when it commits — the
  same promise in one commit. Arguments must be JSON values: they are stored with the retry and,
  if every attempt fails, in the dead-letter table.
- `job_run` wraps the real function. A failed attempt (an exception, or django-q2's timeout)
  is retried after BACKOFF_SECONDS by a one-off django-q2 Schedule, up to MAX_ATTEMPTS; then the
  job is recorded as a DeadLetter for staff to retry or resolve.
- Every job must be idempotent: the ORM broker is at-least-once (a killed worker's task comes
  back after Q_CLUSTER["retry"] seconds) and retries re-run it.
"""
from __future__ import annotations

import contextvars
import json
import logging
import os
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.brokers import get_broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.exceptions import TimeoutException
from django_q.models import OrmQ, Schedule
from django_q.signing import SignedPackage

from hotlead.core.request_context import current_request_id, request_id_var
from hotlead.core.rows import Row
from hotlead.ops.dead_letters import dead_letter_record, dead_letter_succeeded
from hotlead.ops.metrics import JOB_DURATION, JOBS

logger = logging.getLogger("hotlead.jobs")

RUNNER = "hotlead.ops.jobs.job_run"
MAX_ATTEMPTS = 5
# Wait before attempt 2, 3, 4 and 5: about 45 minutes from the first failure to the dead-letter table.
BACKOFF_SECONDS = (30, 120, 600, 1800)


@dataclass(frozen=True)
class JobContext:
    """What a running job may ask about itself (e.g. to know whether this is its last attempt)."""

    job_id: str
    func: str
    attempt: int
    max_attempts: int

    @property
    def is_last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


_current_job: contextvars.ContextVar[JobContext | None] = contextvars.ContextVar("current_job", default=None)


def job_current() -> JobContext | None:
    """The job being run by this worker, or None outside `job_run`."""
    return _current_job.get()


def task_label(func_path: str) -> str:
    """A short, bounded label for metrics and names: the function's name."""
    return func_path.rsplit(".", 1)[-1]


def job_enqueue(func_path: str, *args: Any, task_name: str | None = None, **kwargs: Any) -> str:
    """Queue `func_path(*args, **kwargs)` once the current transaction commits; return the job id."""
    return job_submit(func_path, list(args), kwargs, task_name=task_name)


def job_submit(func_path: str, args: list, kwargs: dict, *, task_name: str | None = None,
               job_id: str | None = None, dead_letter_id: int | None = None) -> str:
    """`job_enqueue` with explicit args/kwargs (and, for a retry from the DLQ, the dead letter)."""
    meta = _job_meta(func_path, args, kwargs, job_id=job_id, dead_letter_id=dead_letter_id)
    if _queue_is_this_transaction():
        # The ORM broker's queue is a table of this database: its row is written with the change and seen by the
        # workers only when the change commits (rolled back with it) — one commit for both instead of two.
        _push(func_path, args, kwargs, meta, task_name=task_name, counted_on_commit=True)
    else:
        transaction.on_commit(lambda: _push(func_path, args, kwargs, meta, task_name=task_name))
    return meta["job_id"]


def _job_meta(func_path: str, args: list, kwargs: dict, *, job_id: str | None = None,
              dead_letter_id: int | None = None) -> dict:
    import_string(func_path)  # a typo fails here, in the caller, not in a worker later
    try:
        json.dumps([args, kwargs])
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Job arguments must be JSON values (ids, strings, numbers): {exc}") from exc
    return {
        "job_id": job_id or uuid.uuid4().hex,
        "attempt": 1,
        "first_failed_at": None,
        "dead_letter_id": dead_letter_id,
        "request_id": current_request_id(),
    }


def job_queue_row(func_path: str, *args: Any, task_name: str | None = None) -> Row | None:
    """`job_enqueue` as an unsaved row of the ORM broker's queue table, for a caller that writes it with the change
    it belongs to (`hotlead.core.rows.rows_insert`: one statement, or inside the change's transaction): workers see
    it when the change commits. None when jobs are not queued in this database's table (the Redis broker, inline
    jobs): then call `job_enqueue`. Counted as enqueued at commit (outside a transaction: now)."""
    if Conf.SYNC or Conf.ORM != DEFAULT_DB_ALIAS or not isinstance(_broker(), ORM):
        return None
    meta = _job_meta(func_path, list(args), {})
    package = _package(func_path, list(args), {}, meta, task_name=task_name)
    transaction.on_commit(lambda: _count("enqueued", func_path))
    return Row(OrmQ, {"key": _broker().list_key or Conf.CLUSTER_NAME, "payload": package, "lock": timezone.now()})


def _package(func_path: str, args: list, kwargs: dict, meta: dict, *, task_name: str | None) -> str:
    """The signed package django-q2's `async_task` would give its broker for our runner — the same task, signed by
    django-q2's own `SignedPackage` — without what it does per call on the way: a second, human-readable id for
    the name (we name every job), its loop over options, a log line and the `pre_enqueue` signal (no receiver in
    this project). A lead's e-mail job cost more to pack than to write. tests/ops/test_job_package.py compares the
    two for every option this project sets."""
    task = {"id": uuid.uuid4().hex, "name": task_name or f"{task_label(func_path)}#{meta['attempt']}",
            "func": RUNNER, "args": (func_path, args, kwargs, meta), **_options(func_path)}
    if Conf.CACHED:
        task["cached"] = Conf.CACHED
    if Conf.ACK_FAILURES:
        task["ack_failure"] = Conf.ACK_FAILURES
    task["kwargs"] = {}
    task["started"] = timezone.now()
    return SignedPackage.dumps(task)


def _queue_is_this_transaction() -> bool:
    """True inside a transaction on the database that the ORM broker queues jobs in (not inline "sync" jobs)."""
    return (not Conf.SYNC and bool(Conf.ORM) and transaction.get_connection(Conf.ORM).in_atomic_block
            and isinstance(_broker(), ORM))


_brokers: dict[int, Any] = {}


def _broker():
    """This process's django-q2 broker, made once: `async_task` would build one per call — for Redis a new
    connection (and a package-metadata lookup) per queued job. Keyed by pid: a forked worker makes its own."""
    pid = os.getpid()
    if pid not in _brokers:
        _brokers.clear()
        _brokers[pid] = get_broker()
    return _brokers[pid]


def _hand_over(func_path: str, args: list, kwargs: dict, meta: dict, *, broker, task_name: str | None) -> None:
    """django-q2's `async_task` for our runner: it packs and signs the job and gives it to `broker`."""
    from django_q.tasks import async_task  # looked up per call: tests replace django_q.tasks.async_task

    async_task(RUNNER, func_path, args, kwargs, meta, broker=broker,
               task_name=task_name or f"{task_label(func_path)}#{meta['attempt']}", **_options(func_path))


def _push(func_path: str, args: list, kwargs: dict, meta: dict, *, task_name: str | None = None,
          counted_on_commit: bool = False) -> None:
    if counted_on_commit:  # inside the caller's transaction: a failure rolls the change back with the job
        _hand_over(func_path, args, kwargs, meta, broker=_broker(), task_name=task_name)
        transaction.on_commit(lambda: _count("enqueued", func_path))
        return
    try:
        _hand_over(func_path, args, kwargs, meta, broker=_broker(), task_name=task_name)
    except Exception as exc:
        # The change it belongs to is committed; a job that cannot be queued must not vanish.
        logger.exception("job enqueue failed", extra={"task": func_path, "job_id": meta["job_id"]})
        dead_letter_record(func=func_path, args=args, kwargs=kwargs, error=f"Could not be queued: {exc!r}",
                           attempts=0, first_failed_at=None, job_id=meta["job_id"],
                           dead_letter_id=meta.get("dead_letter_id"))
        _count("dead_lettered", func_path)
        return
    _count("enqueued", func_path)


def _options(func_path: str) -> dict:
    # A job may run longer than Q_CLUSTER["timeout"] when settings name it (the report exports, issue 12).
    timeout = settings.HOTLEAD.get("JOB_TIMEOUTS", {}).get(func_path)
    return {"timeout": int(timeout)} if timeout else {}


def _count(event: str, func_path: str) -> None:
    JOBS.labels(event=event, task=task_label(func_path)).inc()


def job_run(func_path: str, args: list, kwargs: dict, meta: dict | None = None) -> Any:
    """Run one attempt; on failure schedule the next one or dead-letter the job.

    Never raises: django-q2 sees every attempt as done, and our retries and DLQ take over.
    """
    meta = {"job_id": uuid.uuid4().hex, "attempt": 1, "first_failed_at": None, "dead_letter_id": None,
            "request_id": None, **(meta or {})}
    attempt = int(meta["attempt"])
    label = task_label(func_path)
    # Logs of the job carry the id of the request that queued it (or the job's own id).
    request_token = request_id_var.set(meta.get("request_id") or f"job-{meta['job_id']}")
    job_token = _current_job.set(JobContext(meta["job_id"], func_path, attempt, MAX_ATTEMPTS))
    started = time.perf_counter()
    try:
        try:
            func = import_string(func_path)
        except ImportError as exc:
            # The code is gone (renamed in a release): retrying cannot help.
            _failed(func_path, args, kwargs, meta, exc, permanent=True)
            return None
        try:
            result = func(*args, **kwargs)
        except (Exception, TimeoutException) as exc:  # TimeoutException is a SystemExit: django-q2's timeout
            JOB_DURATION.labels(task=label, outcome="failure").observe(time.perf_counter() - started)
            _failed(func_path, args, kwargs, meta, exc)
            return None
        JOB_DURATION.labels(task=label, outcome="success").observe(time.perf_counter() - started)
        _count("completed", func_path)
        if meta.get("dead_letter_id"):
                dead_letter_succeeded(dead_letter_id=meta["dead_letter_id"])
        return result
    finally:
        _current_job.reset(job_token)
        request_id_var.reset(request_token)


def _failed(func_path: str, args: list, kwargs: dict, meta: dict, exc: BaseException, *,
            permanent: bool = False) -> None:
    attempt = int(meta["attempt"])
    first_failed_at = meta.get("first_failed_at") or timezone.now().isoformat()
    # The error's type only: its message may carry personal data; the full text goes to the DLQ row.
    logger.warning("job failed", extra={"task": func_path, "job_id": meta["job_id"], "attempt": attempt,
                                        "error": type(exc).__name__})
    _count("failed", func_path)
    if permanent or attempt >= MAX_ATTEMPTS:
        error = "".join(traceback.format_exception(exc))
        dead_letter_record(func=func_path, args=args, kwargs=kwargs, error=error, attempts=attempt,
                           first_failed_at=first_failed_at, job_id=meta["job_id"],
                           dead_letter_id=meta.get("dead_letter_id"))
        _count("dead_lettered", func_path)
        logger.error("job dead-lettered", extra={"task": func_path, "job_id": meta["job_id"], "attempts": attempt})
        return
    delay = BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)]
    _retry_later(func_path, args, kwargs, {**meta, "attempt": attempt + 1, "first_failed_at": first_failed_at},
                 delay=delay)


def _retry_later(func_path: str, args: list, kwargs: dict, meta: dict, *, delay: int) -> None:
    """django-q2 has no delayed task: a one-off Schedule (deleted once it fires) is the delay."""
    Schedule.objects.create(
        func=RUNNER,
        args=repr((func_path, args, kwargs, meta)),
        schedule_type=Schedule.ONCE,
        repeats=-1,
        next_run=timezone.now() + timedelta(seconds=delay),
        name=f"retry {task_label(func_path)[:60]} #{meta['attempt']} {meta['job_id'][:12]}",
    )
