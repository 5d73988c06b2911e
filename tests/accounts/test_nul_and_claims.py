"""NUL characters (PostgreSQL cannot store them) and tokens with a malformed subject: 422 or 401, never a 500."""
from __future__ import annotations

import time

import jwt
import pytest
from django.conf import settings

from hotlead.accounts.models import OneTimeToken, User
from hotlead.accounts.tokens import access_token_encode
from hotlead.core.models import AuditLog
from hotlead.providers.models import Provider
from tests.factories.accounts import StaffFactory, totp_device_for
from tests.factories.leads import CategoryFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db

NUL = "\x00"
REGISTER = {"email": "owner@roofers.example", "password": "sturdy-roof-passphrase-1", "company_name": "Bay Roofers",
            "contact_name": "Dana Roof", "phone": "(415) 555-0134"}


def _assert_422_on(response, field: str) -> None:
    assert response.status_code == 422, response.content
    body = response.json()["error"]
    assert body["code"] == "validation_error"
    assert [f["field"] for f in body["details"]["fields"]] == [field]


@pytest.mark.parametrize("path, payload, field", [
    ("/auth/login", {"email": f"a{NUL}@example.com", "password": "x"}, "email"),
    ("/auth/login", {"email": "a@example.com", "password": f"x{NUL}"}, "password"),
    ("/auth/forgot-password", {"email": f"a{NUL}@example.com"}, "email"),
    ("/auth/resend-verification", {"email": f"a{NUL}@example.com"}, "email"),
    ("/auth/register", {**REGISTER, "company_name": f"Bay{NUL}Roofers"}, "company_name"),
    ("/auth/register", {**REGISTER, "password": f"sturdy-roof{NUL}-passphrase-1"}, "password"),
])
def test_public_auth_endpoints_refuse_nul_characters_and_change_nothing(api, path, payload, field):
    # when
    response = api.post(path, payload)
    # then
    _assert_422_on(response, field)
    assert not User.objects.exists() and not Provider.objects.exists() and not OneTimeToken.objects.exists()
    assert not AuditLog.objects.filter(action__startswith="auth.").exists()


@pytest.mark.parametrize("path, payload, field", [
    ("/provider/profile", {"company_name": "A", "contact_name": "B", "phone": "+14155550123",
                           "categories": [f"roofing{NUL}"], "timezone": "UTC"}, "categories.0"),
    ("/provider/profile", {"company_name": "A", "contact_name": f"B{NUL}", "phone": "+14155550123",
                           "categories": [], "timezone": "UTC"}, "contact_name"),
    ("/provider/service-areas", {"postal_codes": ["94110"], "prefixes": [f"94{NUL}"]}, "prefixes.0"),
])
def test_provider_account_endpoints_refuse_nul_characters_and_change_nothing(api, path, payload, field):
    # given
    roofing = CategoryFactory(slug="roofing")
    provider = ProviderFactory(company_name="Before", categories=[roofing], areas=["94110"])
    token, _ = access_token_encode(user=provider.user, mfa=False)
    # when
    response = api.put(path, payload, token=token)
    # then
    _assert_422_on(response, field)
    provider.refresh_from_db()
    assert provider.company_name == "Before"
    assert list(provider.categories.values_list("slug", flat=True)) == ["roofing"]
    assert list(provider.service_areas.values_list("value", flat=True)) == ["94110"]


@pytest.mark.parametrize("param", ["q", "category"])
def test_admin_provider_list_refuses_nul_in_its_filters(api, param):
    # given
    staff = StaffFactory()
    totp_device_for(staff)
    token, _ = access_token_encode(user=staff, mfa=True)
    # when
    response = api.get(f"/admin/providers?{param}=%00", token=token)
    # then
    _assert_422_on(response, param)


@pytest.mark.parametrize("sub", ["abc", "1.5", "-1", ""])
def test_a_well_signed_token_with_a_malformed_subject_is_401(api, sub):
    # given: only the signing key could mint this; still no 500
    ProviderFactory()
    now = int(time.time())
    claims = {"iss": settings.JWT_ISSUER, "sub": sub, "typ": "access", "iat": now, "exp": now + 600, "ver": 0,
              "mfa": True}
    token = jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm="HS256")
    # when / then
    for path in ("/provider/profile", "/admin/providers"):
        response = api.get(path, token=token)
        assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
