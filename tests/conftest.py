"""Shared fixtures. Domain factories live in tests/factories/<domain>.py."""
from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from hotlead.accounts.tokens import access_token_encode
from tests.factories.accounts import StaffFactory, totp_device_for
from tests.factories.providers import ProviderFactory


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and cached reports never leak between tests."""
    cache.clear()
    yield
    cache.clear()


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def staff_user(db):
    user = StaffFactory()
    totp_device_for(user)
    return user


@pytest.fixture
def staff_console(staff_user) -> Client:
    """A Django client logged into the console with a verified TOTP device."""
    from django_otp import DEVICE_ID_SESSION_KEY

    client = Client()
    client.force_login(staff_user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = staff_user.totpdevice_set.get().persistent_id
    session.save()
    return client


@pytest.fixture
def staff_headers(staff_user) -> dict:
    """Authorization headers of a staff user who logged in with MFA."""
    token, _ = access_token_encode(user=staff_user, mfa=True)
    return bearer(token)


@pytest.fixture
def provider(db):
    return ProviderFactory()


@pytest.fixture
def provider_headers(provider) -> dict:
    token, _ = access_token_encode(user=provider.user, mfa=False)
    return bearer(token)
