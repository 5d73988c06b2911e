"""TOTP enrolment through the API, and HOTLEAD_REQUIRE_PROVIDER_MFA (SPEC §7)."""
from __future__ import annotations

import base64
import threading

import pytest
from django.db import connection
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotlead.accounts.services import auth_login, totp_verify
from hotlead.accounts.tokens import token_decode
from hotlead.core.models import AuditLog
from tests.accounts.helpers import totp_code
from tests.factories.accounts import PASSWORD, totp_device_for
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def test_setup_then_confirm_turns_mfa_on_and_returns_an_mfa_pair(api):
    # given
    provider = ProviderFactory()
    old = auth_login(email=provider.user.email, password=PASSWORD)
    # when: set-up
    setup = api.post("/provider/mfa/setup", token=old.access_token)
    # then
    assert setup.status_code == 200
    body = setup.json()
    device = TOTPDevice.objects.get(user=provider.user)
    assert device.confirmed is False
    assert base64.b32decode(body["secret"] + "=" * (-len(body["secret"]) % 8)) == device.bin_key
    assert body["otpauth_uri"].startswith("otpauth://totp/") and f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["digits"] == 6 and body["period"] == 30
    # when: a wrong code, then the right one
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    assert api.post("/provider/mfa/confirm", {"otp": wrong}, token=old.access_token).json()["error"]["code"] \
        == "invalid_otp"
    confirm = api.post("/provider/mfa/confirm", {"otp": totp_code(device)}, token=old.access_token)
    # then
    assert confirm.status_code == 200
    pair = confirm.json()
    assert pair["mfa_enabled"] is True
    assert token_decode(pair["access_token"], expected_type="access")["mfa"] is True
    assert TOTPDevice.objects.get(user=provider.user).confirmed is True
    # tokens issued without the second factor are revoked
    assert api.get("/provider/profile", token=old.access_token).status_code == 401
    assert api.post("/auth/refresh", {"refresh_token": old.refresh_token}).status_code == 401
    assert api.get("/provider/profile", token=pair["access_token"]).json()["mfa_enabled"] is True
    # and a password alone no longer signs in
    login = api.post("/auth/login", {"email": provider.user.email, "password": PASSWORD})
    assert login.json()["error"]["code"] == "mfa_required"
    assert list(AuditLog.objects.filter(action__startswith="mfa.").order_by("id").values_list("action", flat=True)) \
        == ["mfa.setup_started", "mfa.enabled"]


def test_setup_when_already_enabled_is_a_conflict(api):
    # given
    provider = ProviderFactory()
    device = totp_device_for(provider.user)
    pair = auth_login(email=provider.user.email, password=PASSWORD, otp=totp_code(device))
    # when
    response = api.post("/provider/mfa/setup", token=pair.access_token)
    # then
    assert response.status_code == 409 and response.json()["error"]["code"] == "mfa_already_enabled"
    assert TOTPDevice.objects.filter(user=provider.user).count() == 1


def test_confirm_without_setup_is_a_conflict(api, provider_headers):
    response = api.client.post("/api/v1/provider/mfa/confirm", data={"otp": "123456"},
                               content_type="application/json", **provider_headers)
    assert response.status_code == 409 and response.json()["error"]["code"] == "mfa_setup_not_started"


@override_settings(HOTLEAD_REQUIRE_PROVIDER_MFA=True)
def test_when_mfa_is_required_a_token_without_it_only_reaches_the_setup(api):
    # given
    provider = ProviderFactory()
    pair = auth_login(email=provider.user.email, password=PASSWORD)
    # when / then
    refused = api.get("/provider/profile", token=pair.access_token)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "mfa_setup_required"
    assert api.post("/provider/mfa/setup", token=pair.access_token).status_code == 200
    device = TOTPDevice.objects.get(user=provider.user)
    confirmed = api.post("/provider/mfa/confirm", {"otp": totp_code(device)}, token=pair.access_token).json()
    assert api.get("/provider/profile", token=confirmed["access_token"]).status_code == 200


def test_provider_mfa_is_optional_by_default(api, provider_headers):
    assert api.client.get("/api/v1/provider/profile", **provider_headers).status_code == 200


def test_totp_verify_accepts_a_code_once():
    # given
    provider = ProviderFactory()
    device = totp_device_for(provider.user)
    code = totp_code(device)
    # when / then
    assert totp_verify(user=provider.user, token=code) == device
    assert totp_verify(user=provider.user, token=code) is None
    assert totp_verify(user=provider.user, token="abc") is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_verifications_of_one_code_accept_it_exactly_once():
    # given
    provider = ProviderFactory()
    device = totp_device_for(provider.user)
    code = totp_code(device)
    barrier = threading.Barrier(4)
    accepted: list[bool] = []

    def attempt():
        try:
            barrier.wait(timeout=10)
            accepted.append(totp_verify(user=provider.user, token=code) is not None)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then
    assert sorted(accepted) == [False, False, False, True]
