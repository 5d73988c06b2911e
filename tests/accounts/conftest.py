import pytest

from tests.accounts.helpers import Api


@pytest.fixture
def api() -> Api:
    return Api()
