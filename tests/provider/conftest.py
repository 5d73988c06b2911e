"""Fixtures of the provider's leads tests: a second provider, and a shared category and level."""
from __future__ import annotations

import pytest

from hotlead.accounts.tokens import access_token_encode
from tests.conftest import bearer
from tests.factories.leads import CategoryFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory


@pytest.fixture
def roofing(db):
    return CategoryFactory(slug="roofing", name="Roofing")


@pytest.fixture
def plumbing(db):
    return CategoryFactory(slug="plumbing", name="Plumbing")


@pytest.fixture
def shared_level(db):
    return LevelFactory(name="Semi-exclusive", slug="semi-exclusive", rank=2, price_cents=6000, max_recipients=3)


@pytest.fixture
def other_provider(db):
    return ProviderFactory()


@pytest.fixture
def other_headers(other_provider) -> dict:
    token, _ = access_token_encode(user=other_provider.user, mfa=False)
    return bearer(token)
