"""The portal shell: sign-in through two-factor's wizard, the access rule, logout."""
from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django_otp.oath import TOTP

from hotlead.core.models import AuditLog
from hotlead.providers.enums import ProviderStatus
from tests.factories.accounts import PASSWORD, StaffFactory, totp_device_for
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def _code(device) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():06d}"


def _password_step(client: Client, email: str, password: str = PASSWORD, next_url: str = ""):
    url = "/portal/login/" + (f"?next={next_url}" if next_url else "")
    return client.post(url, {
        "portal_login_view-current_step": "auth", "auth-username": email, "auth-password": password,
    })


def _token_step(client: Client, code: str, next_url: str = ""):
    url = "/portal/login/" + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"portal_login_view-current_step": "token", "token-otp_token": code})


def test_anonymous_visitor_is_sent_to_the_login_page_with_next():
    # when
    response = Client().get("/portal/profile/")
    # then
    assert response.status_code == 302
    assert response["Location"] == "/portal/login/?next=/portal/profile/"


def test_login_page_is_self_hosted_and_csrf_protected():
    # when
    response = Client(enforce_csrf_checks=True).get("/portal/login/")
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert "/static/portal/portal.css" in body
    assert "csrfmiddlewaretoken" in body
    assert "https://" not in body  # no CDN
    # a POST without the CSRF token is refused
    refused = Client(enforce_csrf_checks=True).post("/portal/login/", {"auth-username": "x@example.com"})
    assert refused.status_code == 403


def test_provider_without_device_signs_in_with_password_and_lands_on_home():
    # given
    provider = ProviderFactory()
    client = Client()
    # when
    response = _password_step(client, provider.user.email)
    # then
    assert response.status_code == 302 and response["Location"] == "/portal/"
    home = client.get("/portal/")
    assert home.status_code == 200
    body = home.content.decode()
    for label in ("Home", "Profile", "Service areas", "Preferences", "Security", "Log out"):
        assert label in body
    assert AuditLog.objects.filter(action="auth.login", actor=provider.user, changes__channel="portal").count() == 1


def test_provider_with_device_must_give_the_code_and_a_code_works_once():
    # given
    provider = ProviderFactory()
    device = totp_device_for(provider.user)
    client = Client()
    # when: the password step
    response = _password_step(client, provider.user.email, next_url="/portal/profile/")
    # then: the token step is shown, nothing is accessible yet
    assert response.status_code == 200 and b"token-otp_token" in response.content
    assert client.get("/portal/profile/").status_code == 302
    # when: the code
    code = _code(device)
    response = _token_step(client, code, next_url="/portal/profile/")
    # then
    assert response.status_code == 302 and response["Location"] == "/portal/profile/"
    assert client.get("/portal/profile/").status_code == 200
    # and the same code cannot sign in a second browser
    other = Client()
    _password_step(other, provider.user.email)
    replay = _token_step(other, code)
    assert replay.status_code == 200 and b"token-otp_token" in replay.content
    assert other.get("/portal/").status_code == 302
    assert AuditLog.objects.filter(action="auth.login_failed", changes__reason="invalid_otp").count() == 1


def test_wrong_password_is_refused_and_audited_without_the_password():
    # given
    provider = ProviderFactory()
    client = Client()
    # when
    response = _password_step(client, provider.user.email, password="not-the-password-at-all")
    # then
    assert response.status_code == 200
    assert b"The e-mail or password is not correct." in response.content
    entry = AuditLog.objects.get(action="auth.login_failed")
    assert entry.changes["reason"] == "invalid_credentials"
    assert "not-the-password-at-all" not in str(entry.changes)
    assert client.get("/portal/").status_code == 302


@pytest.mark.parametrize("status, message", [
    (ProviderStatus.SUSPENDED, b"suspended"),
    (ProviderStatus.PENDING_VERIFICATION, b"Verify your e-mail address first"),
])
def test_inactive_providers_cannot_sign_in(status, message):
    # given
    provider = ProviderFactory(status=status)
    client = Client()
    # when
    response = _password_step(client, provider.user.email)
    # then
    assert response.status_code == 200 and message in response.content
    assert client.get("/portal/").status_code == 302


def test_a_provider_suspended_during_a_session_is_signed_out_on_the_next_page():
    # given
    provider = ProviderFactory()
    client = Client()
    _password_step(client, provider.user.email)
    # when
    provider.status = ProviderStatus.SUSPENDED
    provider.save()
    response = client.get("/portal/")
    # then
    assert response.status_code == 302 and response["Location"] == "/portal/login/"
    assert "_auth_user_id" not in client.session


def test_staff_cannot_use_the_portal():
    # given
    staff = StaffFactory()
    client = Client()
    # when
    response = _password_step(client, staff.email)
    # then
    assert response.status_code == 200 and b"console" in response.content
    client.force_login(staff)
    assert client.get("/portal/").status_code == 302


@override_settings(HOTLEAD_REQUIRE_PROVIDER_MFA=True)
def test_when_mfa_is_required_a_provider_without_device_is_sent_to_enrol():
    # given
    provider = ProviderFactory()
    client = Client()
    _password_step(client, provider.user.email)
    # when
    response = client.get("/portal/profile/")
    # then
    assert response.status_code == 302 and response["Location"] == "/portal/security/"
    assert client.get("/portal/security/").status_code == 200


def test_logout_needs_post_and_ends_the_session():
    # given
    provider = ProviderFactory()
    client = Client()
    client.force_login(provider.user)
    # when / then
    # a GET (a reload, a link) does not sign out, and is no 405 either: it goes back to the portal
    get = client.get("/portal/logout/")
    assert get.status_code == 302 and get["Location"] == "/portal/" and client.get("/portal/").status_code == 200
    response = client.post("/portal/logout/")
    assert response.status_code == 302 and response["Location"] == "/portal/login/"
    assert client.get("/portal/").status_code == 302


def test_any_confirmed_authenticator_triggers_the_code_step_whatever_its_name():
    # given: a device not named "default" (two-factor's own lookup would miss it)
    from django_otp.plugins.otp_totp.models import TOTPDevice

    provider = ProviderFactory()
    device = TOTPDevice.objects.create(user=provider.user, name="My phone", confirmed=True)
    client = Client()
    # when
    response = _password_step(client, provider.user.email)
    # then
    assert response.status_code == 200 and b"token-otp_token" in response.content
    assert client.get("/portal/").status_code == 302
    assert _token_step(client, _code(device)).status_code == 302
    assert client.get("/portal/").status_code == 200


@pytest.mark.parametrize("next_url", ["https://evil.example/steal", "//evil.example/steal", "/portal/profile/"])
def test_sign_in_never_redirects_off_site_and_a_local_next_is_kept(next_url):
    # given
    provider = ProviderFactory()
    client = Client()
    # when
    response = _password_step(client, provider.user.email, next_url=next_url)
    # then
    assert response.status_code == 302
    expected = next_url if next_url.startswith("/") and not next_url.startswith("//") else "/portal/"
    assert response["Location"] == expected
