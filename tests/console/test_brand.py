"""One brand: the console's primary colour is the portal's and the form's orange, and every page names the favicon."""
from __future__ import annotations

import pytest
from django.test import Client

from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db
FAVICON = 'href="/static/brand/favicon.svg"'


def test_console_pages_are_orange_with_the_favicon(staff_console):
    html = staff_console.get("/admin/").content.decode()
    assert FAVICON in html
    assert "oklch(55.3% .195 38.402)" in html  # primary-700 = the portal's #c2410c
    assert "oklch(55.8% .288 302.321)" not in html  # unfold's default purple is gone


def test_login_portal_and_form_name_the_favicon():
    client = Client()
    for url in ("/account/login/", "/portal/login/", "/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert FAVICON in response.content.decode(), url
    assert client.get("/favicon.ico")["Location"] == "/static/brand/favicon.svg"


def test_portal_pages_after_login_name_the_favicon():
    provider = ProviderFactory()
    client = Client()
    client.force_login(provider.user)
    assert FAVICON in client.get("/portal/").content.decode()
