"""The portal in a real browser: register, verify by the e-mailed link, enrol TOTP from the QR page,
sign out and back in with a code, edit the service areas."""
from __future__ import annotations

import re

import pytest
from django.core import mail
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotlead.providers.enums import ProviderStatus
from hotlead.providers.models import Provider
from tests.accounts.helpers import totp_code

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "browser.pro@example.com"
PASSWORD = "browser-passphrase-2026"


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_register_verify_enrol_totp_sign_in_again_and_edit_areas(page):
    # register
    page.goto("/portal/register/")
    page.fill("#id_company_name", "Browser Builders")
    page.fill("#id_contact_name", "Robin Browser")
    page.fill("#id_email", EMAIL)
    page.fill("#id_phone", "+1 415 555 0188")
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password_confirm", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/portal/register/check-email/")
    assert Provider.objects.get(user__email=EMAIL).status == ProviderStatus.PENDING_VERIFICATION

    # verify by the e-mailed link
    assert [m.to for m in mail.outbox] == [[EMAIL]]
    link = re.search(r"https?://\S+/portal/verify-email/\S+/", mail.outbox[0].body).group(0)
    page.goto(_path(link))
    page.get_by_role("button", name="Confirm my e-mail address").click()
    page.wait_for_url("**/portal/login/")
    assert page.get_by_text("Your e-mail address is verified").is_visible()
    assert Provider.objects.get(user__email=EMAIL).status == ProviderStatus.ACTIVE

    # sign in with the password (no device yet)
    page.fill("input[name='auth-username']", EMAIL)
    page.fill("input[name='auth-password']", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/portal/")
    assert page.get_by_role("navigation", name="Main").is_visible()

    # enrol TOTP from the QR page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Security").click()
    page.get_by_role("button", name="Set up an authenticator app").click()
    assert page.locator("figure.qr svg").is_visible()
    device = TOTPDevice.objects.get(user__email=EMAIL, confirmed=False)
    assert page.get_by_test_id("totp-secret").inner_text().strip()
    page.fill("#id_otp", totp_code(device))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    assert page.get_by_test_id("mfa-status").inner_text().strip() == "On"

    # sign out, and back in: the password alone is not enough
    page.get_by_test_id("logout").click()
    page.wait_for_url("**/portal/login/")
    page.goto("/portal/service-areas/")
    page.wait_for_url("**/portal/login/?next=/portal/service-areas/")
    page.fill("input[name='auth-username']", EMAIL)
    page.fill("input[name='auth-password']", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    otp_input = page.locator("input[name='token-otp_token']")
    otp_input.wait_for(state="visible")
    assert "/portal/service-areas/" in page.url  # `next` is kept through the token step
    device.refresh_from_db()
    # the enrolment code was spent: the authenticator's next code is accepted (RFC 6238 window of ±1 step)
    otp_input.fill(totp_code(device, offset_steps=1))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url("**/portal/service-areas/")

    # edit the service areas
    page.fill("#id_postal_codes", "94110\nk1a 0b1")
    page.fill("#id_prefixes", "941*, sw1")
    page.get_by_role("button", name="Save service areas").click()
    page.wait_for_url("**/portal/service-areas/")
    assert page.get_by_text("Your service areas have been saved.").is_visible()
    assert page.get_by_test_id("saved-codes").inner_text() == "94110, K1A0B1"
    assert page.get_by_test_id("saved-prefixes").inner_text() == "941*, SW1*"
    provider = Provider.objects.get(user__email=EMAIL)
    assert sorted(provider.service_areas.values_list("kind", "value")) == [
        ("code", "94110"), ("code", "K1A0B1"), ("prefix", "941"), ("prefix", "SW1")]
