"""Portal pages: registration, e-mail verification, password reset, profile, areas, preferences, security."""
from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotlead.accounts.models import User
from hotlead.billing.models import Account
from hotlead.providers.enums import ProviderStatus
from hotlead.providers.models import Provider
from tests.accounts.helpers import totp_code
from tests.factories.accounts import PASSWORD
from tests.factories.leads import CategoryFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db

REGISTRATION = {"company_name": "Portal Plumbing", "contact_name": "Pat", "email": "pat@plumbing.example",
                "phone": "+1 415 555 0142", "password": "a-long-enough-passphrase", "password_confirm":
                "a-long-enough-passphrase"}


def _logged_in(provider) -> Client:
    client = Client()
    client.force_login(provider.user)
    return client


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_register_verify_and_sign_in(django_capture_on_commit_callbacks):
    client = Client()
    # when: registering
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/portal/register/", REGISTRATION)
    # then
    assert response.status_code == 302 and response["Location"] == "/portal/register/check-email/"
    provider = Provider.objects.get(user__email="pat@plumbing.example")
    assert provider.status == ProviderStatus.PENDING_VERIFICATION and Account.objects.filter(provider=provider)
    link = re.search(r"https?://\S+/portal/verify-email/\S+/", mail.outbox[0].body).group(0)
    # when: the link is opened, nothing changes until the button is pressed
    page = client.get(_path(link))
    assert page.status_code == 200 and b"Confirm my e-mail address" in page.content
    assert Provider.objects.get(pk=provider.pk).status == ProviderStatus.PENDING_VERIFICATION
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(_path(link))
    # then
    assert confirmed.status_code == 302 and confirmed["Location"] == "/portal/login/"
    assert Provider.objects.get(pk=provider.pk).status == ProviderStatus.ACTIVE
    assert mail.outbox[-1].subject.startswith("Welcome")
    # the link is spent
    assert client.get(_path(link)).status_code == 400


def test_registration_errors_are_shown_next_to_their_fields():
    ProviderFactory(user__email="taken@example.com")
    response = Client().post("/portal/register/", {**REGISTRATION, "email": "taken@example.com", "phone": "12",
                                                   "password": "short", "password_confirm": "short"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "already exists" in body
    assert "This phone number is not valid." in body or "This is not a phone number." in body
    assert "too short" in body
    assert not User.objects.filter(email="pat@plumbing.example").exists()


def test_forgot_and_reset_password_in_the_portal(django_capture_on_commit_callbacks):
    provider = ProviderFactory()
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/portal/forgot-password/", {"email": provider.user.email}, follow=True)
        unknown = client.post("/portal/forgot-password/", {"email": "nobody@example.com"}, follow=True)
    assert b"If an account exists" in known.content and b"If an account exists" in unknown.content
    assert len(mail.outbox) == 1
    link = _path(re.search(r"https?://\S+/portal/reset-password/\S+/", mail.outbox[0].body).group(0))
    mismatch = client.post(link, {"password": "brand-new-passphrase-1", "password_confirm": "different-one-2"})
    assert b"do not match" in mismatch.content
    done = client.post(link, {"password": "brand-new-passphrase-1", "password_confirm": "brand-new-passphrase-1"})
    assert done.status_code == 302
    provider.user.refresh_from_db()
    assert provider.user.check_password("brand-new-passphrase-1")
    assert client.get(link).status_code == 400


def test_profile_page_saves_and_shows_errors():
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    provider = ProviderFactory()
    client = _logged_in(provider)
    assert b"Roofing" in client.get("/portal/profile/").content
    bad = client.post("/portal/profile/", {"company_name": "X", "contact_name": "Y", "phone": "+14155550100",
                                           "timezone": "Mars/Base", "categories": ["roofing"]})
    assert bad.status_code == 200 and b"Unknown time zone" in bad.content
    ok = client.post("/portal/profile/", {"company_name": "New Co", "contact_name": "Y", "phone": "+14155550100",
                                          "timezone": "UTC", "categories": ["roofing"]})
    assert ok.status_code == 302
    provider.refresh_from_db()
    assert provider.company_name == "New Co" and list(provider.categories.all()) == [roofing]


def test_service_areas_page_normalises_and_names_bad_entries():
    provider = ProviderFactory(areas=["94110"])
    client = _logged_in(provider)
    bad = client.post("/portal/service-areas/", {"postal_codes": "94103, 9!", "prefixes": ""})
    assert bad.status_code == 200 and b"&#x27;9!&#x27; is not a postal code" in bad.content
    assert list(provider.service_areas.values_list("value", flat=True)) == ["94110"]
    ok = client.post("/portal/service-areas/", {"postal_codes": "94103\nk1a 0b1", "prefixes": "941*, sw1"})
    assert ok.status_code == 302
    page = client.get("/portal/service-areas/").content.decode()
    assert "94103, K1A0B1" in page and "941*, SW1*" in page


def test_preferences_page():
    provider = ProviderFactory()
    client = _logged_in(provider)
    response = client.post("/portal/preferences/",
                           {"assignment_email": "daily_digest", "low_balance_threshold": "12.50"})
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.notify_assignments == "daily_digest" and provider.low_balance_threshold_cents == 1250


def test_security_page_enrols_totp_with_an_inline_qr_code():
    provider = ProviderFactory()
    client = _logged_in(provider)
    assert b"Set up an authenticator app" in client.get("/portal/security/").content
    # when: set-up starts
    client.post("/portal/security/mfa/setup/")
    page = client.get("/portal/security/").content.decode()
    # then: an inline SVG QR code and the secret, no external image
    assert "<svg" in page and "<img" not in page
    device = TOTPDevice.objects.get(user=provider.user, confirmed=False)
    # when: a wrong code, then the right one
    client.post("/portal/security/mfa/confirm/", {"otp": f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"})
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is False
    client.post("/portal/security/mfa/confirm/", {"otp": totp_code(device)})
    # then: on, and this session counts as verified (no forced re-login)
    assert TOTPDevice.objects.get(pk=device.pk).confirmed is True
    assert client.get("/portal/").status_code == 200
    # a session that never proved the device must sign in again
    other = _logged_in(provider)
    assert other.get("/portal/").status_code == 302


def test_password_change_in_the_portal_keeps_this_session():
    provider = ProviderFactory()
    client = _logged_in(provider)
    response = client.post("/portal/security/password/", {
        "old_password": PASSWORD, "password": "changed-passphrase-2026", "password_confirm": "changed-passphrase-2026"})
    assert response.status_code == 302
    assert client.get("/portal/").status_code == 200
    provider.user.refresh_from_db()
    assert provider.user.check_password("changed-passphrase-2026") and provider.user.token_version == 1
    wrong = client.post("/portal/security/password/", {
        "old_password": "nope-nope-nope", "password": "another-passphrase-1",
        "password_confirm": "another-passphrase-1"})
    # POST-redirect-GET: the security page shows the error (a reload never re-posts, never a 405)
    assert wrong.status_code == 302 and wrong["Location"] == "/portal/security/"
    assert b"current password is not correct" in client.get("/portal/security/").content


def test_nav_shows_only_pages_that_exist():
    provider = ProviderFactory()
    body = _logged_in(provider).get("/portal/").content.decode()
    assert 'aria-current="page"' in body and 'href="/portal/profile/"' in body


def test_a_password_reset_or_change_ends_every_other_portal_session(django_capture_on_commit_callbacks):
    # given: the provider is signed in on two devices
    provider = ProviderFactory()
    laptop, phone = _logged_in(provider), _logged_in(provider)
    assert laptop.get("/portal/profile/").status_code == phone.get("/portal/profile/").status_code == 200
    # when: the password is changed on the laptop
    changed = laptop.post("/portal/security/password/", {
        "old_password": PASSWORD, "password": "changed-passphrase-2026", "password_confirm": "changed-passphrase-2026"})
    # then: the laptop stays, the phone is signed out
    assert changed.status_code == 302
    assert laptop.get("/portal/profile/").status_code == 200
    response = phone.get("/portal/profile/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/login/")
    # when: someone resets the password through the e-mailed link
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/api/v1/auth/forgot-password", {"email": provider.user.email}, content_type="application/json")
    link = _path(re.search(r"https?://\S+/portal/reset-password/\S+/", mail.outbox[-1].body).group(0))
    Client().post(link, {"password": "reset-passphrase-2027", "password_confirm": "reset-passphrase-2027"})
    # then: the laptop's session has ended too
    response = laptop.get("/portal/profile/")
    assert response.status_code == 302 and response["Location"].startswith("/portal/login/")
