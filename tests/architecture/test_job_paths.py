"""A job is queued by its dotted path, declared once by the app that owns it: each path names a function.

(The scheduled jobs are checked in tests/ops/test_schedules.py.)
"""
import pytest
from django.utils.module_loading import import_string

from hotlead.distribution import job_paths
from hotlead.notifications.services import DELIVER, DELIVER_MANY
from hotlead.webhooks.services import DELIVER_JOB, REDELIVER_JOB
from reports.services import EXPORT_JOB

DECLARED = [
    *(getattr(job_paths, name) for name in dir(job_paths) if name.isupper()),
    DELIVER, DELIVER_MANY, DELIVER_JOB, REDELIVER_JOB, EXPORT_JOB,
]


@pytest.mark.parametrize("path", sorted(set(DECLARED)))
def test_a_declared_job_path_names_a_function(path):
    assert callable(import_string(path))
