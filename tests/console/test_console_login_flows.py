"""The console's MFA flows end to end through two-factor's wizards (Django client).

Enrolment for staff without a device (no redirect loop), password + TOTP code for staff with one,
sign-out from any state, and two-factor's pages served without a CDN in the console's look.
"""
from __future__ import annotations

import re
from base64 import b32decode

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories.accounts import PASSWORD, StaffFactory, totp_device_for

pytestmark = pytest.mark.django_db

LOGIN = "/account/login/"
SETUP = "/account/two_factor/setup/"


def code_for(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def code_for_secret(b32_secret: str) -> str:
    device = TOTPDevice(key=b32decode(b32_secret).hex())
    return code_for(device)


def password_step(client: Client, email: str, password: str = PASSWORD, next_url: str = "/admin/"):
    return client.post(f"{LOGIN}?next={next_url}", {
        "login_view-current_step": "auth", "auth-username": email, "auth-password": password,
    })


def token_step(client: Client, code: str, next_url: str = "/admin/"):
    return client.post(f"{LOGIN}?next={next_url}", {"login_view-current_step": "token", "token-otp_token": code})


def enrol(client: Client, setup_url: str):
    """Walk the setup wizard like a person: start, read the secret from the page, type the app's code."""
    welcome = client.get(setup_url)
    assert welcome.status_code == 200
    generator = client.post(setup_url, {"setup_view-current_step": "welcome"})
    assert generator.status_code == 200
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', generator.content.decode()).group(1)
    return client.post(setup_url, {"setup_view-current_step": "generator", "generator-token": code_for_secret(secret)})


def test_staff_without_a_device_is_led_from_login_to_enrolment_and_into_the_console():
    # given: a staff user who never set up two-factor authentication
    staff = StaffFactory()
    client = Client()
    # when: they log in with their password
    response = password_step(client, staff.email)
    # then: they are sent to enrolment, not into the console
    assert response.status_code == 302 and response["Location"] == SETUP
    assert client.get("/admin/").status_code == 302
    # when: they enrol with an authenticator app
    done = enrol(client, SETUP)
    # then: they land in the console, verified, with one confirmed device
    assert done.status_code == 302
    final = client.get(done["Location"], follow=True)
    assert final.status_code == 200 and final.request["PATH_INFO"] == "/admin/"
    assert list(TOTPDevice.objects.filter(user=staff).values_list("name", "confirmed")) == [("default", True)]
    # and the enrolment is in the audit log (an MFA change is a critical action)
    from hotlead.core.models import AuditLog

    assert list(AuditLog.objects.filter(action="mfa.enabled").values_list("actor_id", "changes")) == [
        (staff.pk, {"channel": "console"})]


def test_a_logged_in_staff_user_without_a_device_opening_a_console_page_is_sent_to_enrol_without_a_loop():
    staff = StaffFactory()
    client = Client()
    client.force_login(staff)
    # when
    response = client.get("/admin/core/auditlog/", follow=True)
    # then: a short chain ending on the enrolment page, which returns to the page asked for
    assert response.status_code == 200
    assert [url for url, _ in response.redirect_chain] == [
        "/admin/login/?next=/admin/core/auditlog/",
        f"{SETUP}?next=%2Fadmin%2Fcore%2Fauditlog%2F",
    ]
    done = enrol(client, f"{SETUP}?next=%2Fadmin%2Fcore%2Fauditlog%2F")
    assert done.status_code == 302 and done["Location"] == "/admin/core/auditlog/"
    assert client.get("/admin/core/auditlog/").status_code == 200


def test_staff_with_a_device_logs_in_with_password_then_code():
    staff = StaffFactory()
    device = totp_device_for(staff)
    client = Client()
    # when: the password is right
    after_password = password_step(client, staff.email)
    # then: the code is asked for, and the console is still closed
    assert after_password.status_code == 200
    assert b'name="token-otp_token"' in after_password.content
    assert client.get("/admin/").status_code == 302
    # when: the code from the app
    right = token_step(client, code_for(device))
    # then
    assert right.status_code == 302 and right["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_keeps_the_console_closed_and_throttles_the_next_try():
    staff = StaffFactory()
    device = totp_device_for(staff)
    client = Client()
    password_step(client, staff.email)
    # when: a wrong code
    wrong = token_step(client, code_for(device, offset_steps=40))
    # then: refused, still closed
    assert wrong.status_code == 200 and b'name="token-otp_token"' in wrong.content
    assert client.get("/admin/").status_code == 302
    # and even the right code is refused until the throttle delay has passed (no brute force)
    again = token_step(client, code_for(device))
    assert again.status_code == 200 and b'name="token-otp_token"' in again.content
    assert client.get("/admin/").status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count >= 1


def test_a_wrong_password_never_reaches_the_code_step():
    staff = StaffFactory()
    totp_device_for(staff)
    client = Client()
    response = password_step(client, staff.email, password="not-the-password-at-all")
    assert response.status_code == 200
    assert b'name="auth-password"' in response.content and b'name="token-otp_token"' not in response.content
    assert client.get("/admin/").status_code == 302


def test_staff_with_a_device_but_an_unverified_session_logs_in_again_rather_than_re_enrolling():
    staff = StaffFactory()
    totp_device_for(staff)
    client = Client()
    client.force_login(staff)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == f"{LOGIN}?next=/admin/"
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_sign_out_works_while_half_enrolled():
    staff = StaffFactory()
    client = Client()
    client.force_login(staff)
    assert client.get("/admin/signout/").status_code == 405  # POST only
    response = client.post("/admin/signout/")
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session


ASSET = re.compile(r'<(?:link|script|img)[^>]+(?:href|src)="([^"]+)"')


@pytest.mark.parametrize("page", ["login", "setup", "profile", "backup_tokens"])
def test_two_factor_pages_use_only_local_assets_and_the_console_look(page, staff_console):
    if page == "login":
        client, url = Client(), LOGIN
    elif page == "setup":
        client = Client()
        client.force_login(StaffFactory())
        url = SETUP
    else:
        client, url = staff_console, {"profile": "/account/two_factor/", "backup_tokens":
                                      "/account/two_factor/backup/tokens/"}[page]
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assets = ASSET.findall(html)
    assert "/static/unfold/css/styles.css" in assets and "/static/console/console.css" in assets
    external = [a for a in assets if not a.startswith("/") or a.startswith("//")]
    assert external == []
    assert "bootstrap" not in html.lower() and "jquery" not in html.lower()
    assert "--color-primary-600" in html  # unfold's theme colours reached the page


def test_console_logins_and_failures_are_audit_logged_without_secrets():
    from hotlead.core.models import AuditLog

    staff = StaffFactory(email="ops.person@hotlead.test")
    device = totp_device_for(staff)
    client = Client()
    password_step(client, staff.email, password="wrong-password-123")
    password_step(client, staff.email)
    token_step(client, code_for(device))
    entries = list(AuditLog.objects.filter(action__startswith="auth.").order_by("id").values("action", "changes"))
    assert entries == [
        {"action": "auth.login_failed",
         "changes": {"email": "o***@hotlead.test", "reason": "invalid_credentials", "channel": "console"}},
        {"action": "auth.login", "changes": {"mfa": True, "channel": "console"}},
    ]
    assert "wrong-password" not in str(AuditLog.objects.values_list("changes", flat=True))


def test_turning_two_factor_off_is_audit_logged(staff_console, staff_user):
    from hotlead.core.models import AuditLog

    response = staff_console.post("/account/two_factor/disable/", {"understand": "on"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=staff_user).exists()
    assert list(AuditLog.objects.filter(action="mfa.disabled").values_list("actor_id", flat=True)) == [staff_user.pk]
