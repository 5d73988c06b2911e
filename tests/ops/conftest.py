import pytest

from tests.ops import jobs


@pytest.fixture(autouse=True)
def _job_state():
    jobs.calls.clear()
    jobs.FAILURES_LEFT["count"] = 0
    yield
    jobs.calls.clear()
