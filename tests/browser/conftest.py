"""Real-browser tests: Playwright driving Debian's Chromium against pytest-django's live server."""
from __future__ import annotations

import os

import pytest

CHROMIUM = os.environ.get("HOTLEAD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def _playwright():
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(_playwright):
    browser = _playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def totp_now(device) -> str:
    """The current TOTP code of a django-otp TOTPDevice, as an authenticator app shows it."""
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def console_login(page, *, email: str, password: str, device) -> None:
    """Log into the console through the two-factor flow: password, then the TOTP code."""
    page.goto("/account/login/?next=/admin/")
    page.fill("input[name='auth-username']", email)
    page.fill("input[name='auth-password']", password)
    page.click("#wizard-next")
    page.fill("input[name='token-otp_token']", totp_now(device))
    page.click("#wizard-next")
    page.wait_for_url("**/admin/**")
