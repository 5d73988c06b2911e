"""The console's MFA in a real browser: password + TOTP code; enrolment for staff without a device."""
from __future__ import annotations

from base64 import b32decode

from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.conftest import console_login, totp_now
from tests.factories.accounts import PASSWORD, StaffFactory, totp_device_for


def test_staff_logs_in_with_password_and_code_and_sees_the_dashboard(page, db):
    # given
    staff = StaffFactory()
    device = totp_device_for(staff)
    # when
    console_login(page, email=staff.email, password=PASSWORD, device=device)
    # then
    assert page.url.endswith("/admin/")
    assert page.locator("#dashboard").is_visible()
    assert page.locator('[data-kpi="revenue"]').is_visible()
    assert page.locator("#nav-sidebar, nav").first.is_visible()
    page.screenshot(path="/tmp/console-dashboard.png", full_page=True)


def test_staff_without_a_device_is_sent_to_enrol_and_reaches_the_console(page, db):
    # given: a staff user with a password and no authenticator yet
    staff = StaffFactory()
    # when: they log in
    page.goto("/admin/")
    page.wait_for_url("**/account/login/**")
    page.fill("input[name='auth-username']", staff.email)
    page.fill("input[name='auth-password']", PASSWORD)
    page.click("#wizard-next")
    # then: the enrolment wizard, not the console
    page.wait_for_url("**/account/two_factor/setup/**")
    page.click("#wizard-next")  # start
    secret = page.locator("[data-testid='totp-secret']").inner_text().strip()
    qr = page.request.get(page.locator("img.hl-qr").get_attribute("src"))
    assert qr.status == 200 and qr.headers["content-type"].startswith("image/svg")
    page.screenshot(path="/tmp/console-enrol.png", full_page=True)
    # when: they type the code their app computes from the secret on the page
    page.fill("input[name='generator-token']", totp_now(TOTPDevice(key=b32decode(secret).hex())))
    page.click("#wizard-next")
    # then: the console's dashboard, with a confirmed device
    page.wait_for_url("**/admin/")
    assert page.locator("#dashboard").is_visible()
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).count() == 1
