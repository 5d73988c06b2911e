"""Revoking an authenticator in the console (a lost or stolen phone) ends the API tokens proved with it."""
from __future__ import annotations

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from hotlead.accounts.services import auth_login
from hotlead.core.models import AuditLog
from tests.accounts.helpers import totp_code
from tests.factories.accounts import PASSWORD, totp_device_for
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def test_revoking_a_device_in_the_console_revokes_the_users_tokens(api, staff_console, staff_user):
    # given: a provider signed in to the API with their authenticator, and a bystander
    provider = ProviderFactory()
    device = totp_device_for(provider.user)
    pair = auth_login(email=provider.user.email, password=PASSWORD, otp=totp_code(device))
    bystander = ProviderFactory()
    other = auth_login(email=bystander.user.email, password=PASSWORD)
    assert api.get("/provider/profile", token=pair.access_token).status_code == 200
    # when: staff revoke the device (confirmation page, then POST)
    url = f"/admin/otp_totp/totpdevice/{device.pk}/delete/"
    assert staff_console.get(url).status_code == 200
    response = staff_console.post(url, {"post": "yes"})
    # then
    assert response.status_code == 302 and not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert api.get("/provider/profile", token=pair.access_token).status_code == 401
    assert api.post("/auth/refresh", {"refresh_token": pair.refresh_token}).status_code == 401
    entry = AuditLog.objects.get(action="mfa.device_revoked")
    assert entry.actor_id == staff_user.pk and entry.changes["tokens_revoked"] is True
    assert provider.user.email not in str(entry.changes)
    # and nobody else is signed out
    assert api.get("/provider/profile", token=other.access_token).status_code == 200
    # and the provider signs in again with the password alone (no device any more)
    assert api.post("/auth/login", {"email": provider.user.email, "password": PASSWORD}).status_code == 200


def test_bulk_revocation_revokes_each_users_tokens(api, staff_console):
    # given
    providers = [ProviderFactory() for _ in range(2)]
    devices = [totp_device_for(p.user) for p in providers]
    pairs = [auth_login(email=p.user.email, password=PASSWORD, otp=totp_code(d)) for p, d in zip(providers, devices)]
    # when
    response = staff_console.post("/admin/otp_totp/totpdevice/", {
        "action": "delete_selected", "_selected_action": [d.pk for d in devices], "post": "yes"})
    # then
    assert response.status_code == 302 and not TOTPDevice.objects.filter(pk__in=[d.pk for d in devices]).exists()
    for pair in pairs:
        assert api.get("/provider/profile", token=pair.access_token).status_code == 401
    assert AuditLog.objects.filter(action="mfa.device_revoked").count() == 2
