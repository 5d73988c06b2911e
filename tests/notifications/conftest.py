import copy
from pathlib import Path

import pytest

from tests.ops import jobs


@pytest.fixture(autouse=True)
def test_templates(settings):
    """A message of the tests' own (tests/notifications/templates/emails/test_notice.*) beside the real ones."""
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [*templates[0]["DIRS"], Path(__file__).parent / "templates"]
    settings.TEMPLATES = templates


@pytest.fixture(autouse=True)
def _job_state():
    jobs.calls.clear()
    yield
    jobs.calls.clear()
