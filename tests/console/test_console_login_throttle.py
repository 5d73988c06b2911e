"""The console's password step is rate limited like the API and portal logins (SPEC §8)."""
from django.test import Client

from tests.factories.accounts import StaffFactory, totp_device_for

LOGIN_URL = "/account/login/"


def _password_step(client: Client, email: str, password: str):
    return client.post(LOGIN_URL, {
        "login_view-current_step": "auth",
        "auth-username": email,
        "auth-password": password,
    })


def test_console_login_refuses_after_the_account_limit_even_with_the_right_password(db, settings):
    # given a staff user with a device, and a limit of 3 attempts per account
    limits = {**settings.HOTLEAD["RATE_LIMITS"], "login_account": "3/900"}
    settings.HOTLEAD = {**settings.HOTLEAD, "RATE_LIMITS": limits}
    user = StaffFactory()
    totp_device_for(user)
    client = Client()
    # when three wrong passwords are tried
    for _ in range(3):
        response = _password_step(client, user.email, "wrong-password-123")
        assert response.status_code == 200
        assert "Too many sign-in attempts" not in response.content.decode()
    # then the fourth attempt is refused before the password is checked, even the right one
    response = _password_step(client, user.email, "correct-horse-battery-staple")
    body = response.content.decode()
    assert "Too many sign-in attempts" in body
    assert 'name="token-otp_token"' not in body  # never reached the code step


def test_console_login_password_step_leads_to_the_code_step(db):
    user = StaffFactory()
    totp_device_for(user)
    response = _password_step(Client(), user.email, "correct-horse-battery-staple")
    assert response.status_code == 200
    assert 'name="token-otp_token"' in response.content.decode()
