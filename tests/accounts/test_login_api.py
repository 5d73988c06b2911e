"""POST /auth/login: passwords, TOTP (RFC 6238), account states, throttling, audit (SPEC §8)."""
from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import override_settings

from hotlead.accounts.tokens import token_decode
from hotlead.core.models import AuditLog
from hotlead.providers.enums import ProviderStatus
from tests.accounts.helpers import Api, totp_code
from tests.factories.accounts import PASSWORD, StaffFactory, totp_device_for
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def _login(api, email, password=PASSWORD, otp=None, **headers):
    body = {"email": email, "password": password, **({"otp": otp} if otp is not None else {})}
    return api.post("/auth/login", body, **headers)


def test_provider_without_mfa_gets_a_bearer_pair_that_opens_the_provider_api(api):
    # given
    provider = ProviderFactory()
    # when
    response = _login(api, provider.user.email.upper())
    # then
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    claims = token_decode(body["access_token"], expected_type="access")
    assert claims["sub"] == str(provider.user.pk) and claims["mfa"] is False and claims["role"] == "provider"
    assert api.get("/provider/profile", token=body["access_token"]).status_code == 200
    entry = AuditLog.objects.get(action="auth.login")
    assert entry.actor_id == provider.user.pk and entry.changes == {"mfa": False, "channel": "api"}


def test_wrong_password_and_unknown_email_get_the_same_answer_and_are_audited_without_the_password(api):
    # given
    provider = ProviderFactory()
    # when
    wrong = _login(api, provider.user.email, password="Wrong-password-123")
    unknown = _login(api, "nobody@example.com", password="Wrong-password-123")
    # then
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    failures = AuditLog.objects.filter(action="auth.login_failed").order_by("id")
    assert [f.changes["reason"] for f in failures] == ["invalid_credentials", "invalid_credentials"]
    assert all("Wrong-password" not in str(f.changes) for f in failures)
    assert failures[1].changes["email"] == "n***@example.com"
    assert not AuditLog.objects.filter(action="auth.login").exists()


def test_account_with_a_device_needs_the_code_then_a_code_is_accepted_once(api):
    # given
    provider = ProviderFactory()
    device = totp_device_for(provider.user)
    # when: no code
    missing = _login(api, provider.user.email)
    # then
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "mfa_required"
    # when: the right code
    code = totp_code(device)
    ok = _login(api, provider.user.email, otp=code)
    assert ok.status_code == 200
    assert token_decode(ok.json()["access_token"], expected_type="access")["mfa"] is True
    # when: the same code again (a replay)
    replay = _login(api, provider.user.email, otp=code)
    # then
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "invalid_otp"
    reasons = list(AuditLog.objects.filter(action="auth.login_failed").order_by("id")
                   .values_list("changes__reason", flat=True))
    assert reasons == ["mfa_required", "invalid_otp"]


def test_a_wrong_code_is_refused_with_invalid_otp(api):
    # given
    provider = ProviderFactory()
    device = totp_device_for(provider.user)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    # when
    response = _login(api, provider.user.email, otp=wrong)
    # then
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_otp"
    device.refresh_from_db()
    assert device.throttling_failure_count == 1


def test_an_unconfirmed_device_does_not_count(api):
    # given: enrolment started but never confirmed
    provider = ProviderFactory()
    totp_device_for(provider.user, confirmed=False)
    # when
    response = _login(api, provider.user.email)
    # then
    assert response.status_code == 200


def test_staff_without_a_device_is_refused_with_a_clear_error(api):
    # given
    staff = StaffFactory()
    # when
    response = _login(api, staff.email)
    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "mfa_setup_required"
    assert "authenticator" in response.json()["error"]["message"]


def test_staff_with_a_device_gets_an_mfa_token_that_opens_the_admin_api(api):
    # given
    staff = StaffFactory()
    device = totp_device_for(staff)
    # when
    response = _login(api, staff.email, otp=totp_code(device))
    # then
    assert response.status_code == 200
    token = response.json()["access_token"]
    assert token_decode(token, expected_type="access")["mfa"] is True
    assert api.get("/admin/providers", token=token).status_code == 200


@pytest.mark.parametrize("status, http_status, code", [
    (ProviderStatus.SUSPENDED, 401, "account_suspended"),
    (ProviderStatus.PENDING_VERIFICATION, 403, "email_not_verified"),
])
def test_providers_that_may_not_work_are_refused_after_the_password(api, status, http_status, code):
    # given
    provider = ProviderFactory(status=status)
    # when
    response = _login(api, provider.user.email)
    # then
    assert response.status_code == http_status and response.json()["error"]["code"] == code
    assert not provider.user.refresh_tokens.exists()


def test_a_deactivated_user_cannot_log_in(api):
    # given
    provider = ProviderFactory()
    provider.user.is_active = False
    provider.user.save()
    # when
    response = _login(api, provider.user.email)
    # then
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_credentials"


@override_settings(HOTLEAD={**__import__("django.conf").conf.settings.HOTLEAD,
                            "RATE_LIMITS": {"login_ip": "100/900", "login_account": "3/900"}})
def test_login_is_throttled_per_account_with_retry_after(api):
    # given
    provider = ProviderFactory()
    for _ in range(3):
        assert _login(api, provider.user.email, password="Wrong-password-123").status_code == 401
    # when: even the right password is refused once over the limit
    response = _login(api, provider.user.email)
    # then
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 900
    assert not provider.user.refresh_tokens.exists()
    assert AuditLog.objects.filter(action="auth.login_failed", changes__reason="rate_limited").count() == 1
    # and another account from the same address is not affected
    other = ProviderFactory()
    assert _login(api, other.user.email).status_code == 200


@override_settings(HOTLEAD={**__import__("django.conf").conf.settings.HOTLEAD,
                            "RATE_LIMITS": {"login_ip": "3/900", "login_account": "100/900"}})
def test_login_is_throttled_per_ip_across_accounts(api):
    # given
    providers = [ProviderFactory() for _ in range(4)]
    for provider in providers[:3]:
        assert _login(api, provider.user.email, password="Wrong-password-123").status_code == 401
    # when
    response = _login(api, providers[3].user.email)
    # then
    assert response.status_code == 429 and "Retry-After" in response
    # and another address is not affected
    assert _login(api, providers[3].user.email, REMOTE_ADDR="10.9.8.7").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_logins_with_the_same_code_exactly_one_succeeds():
    # given
    provider = ProviderFactory()
    device = totp_device_for(provider.user)
    code = totp_code(device)
    barrier = threading.Barrier(4)
    results: list[int] = []

    def attempt():
        try:
            barrier.wait(timeout=10)
            response = Api().post("/auth/login", {"email": provider.user.email, "password": PASSWORD, "otp": code})
            results.append(response.status_code)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then
    assert sorted(results) == [200, 401, 401, 401]
    assert provider.user.refresh_tokens.count() == 1
