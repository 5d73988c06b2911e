"""Real, importable job functions for the job tests (jobs run inline: Q_CLUSTER["sync"] in tests)."""
from __future__ import annotations

from django_q.exceptions import TimeoutException

calls: list[tuple] = []
FAILURES_LEFT = {"count": 0}


def record_call(*args, **kwargs) -> str:
    calls.append((args, kwargs))
    return "done"


def always_fails(*args, **kwargs) -> None:
    calls.append((args, kwargs))
    raise RuntimeError("the peer did not answer")


def fails_then_succeeds(*args, **kwargs) -> str:
    """Fails while FAILURES_LEFT["count"] > 0, counting down."""
    calls.append((args, kwargs))
    if FAILURES_LEFT["count"] > 0:
        FAILURES_LEFT["count"] -= 1
        raise ConnectionError("temporarily unavailable")
    return "done"


def times_out() -> None:
    """What django-q2's SIGALRM handler raises when a job passes Q_CLUSTER["timeout"]."""
    calls.append(((), {}))
    raise TimeoutException("Task exceeded maximum timeout value (60 seconds)")


def capture_request_id() -> None:
    from hotlead.core.request_context import current_request_id

    calls.append(((current_request_id(),), {}))
