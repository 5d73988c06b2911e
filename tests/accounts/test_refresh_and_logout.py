"""Rotating refresh tokens with families; logout; password change revokes everything (SPEC §8)."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from hotlead.accounts.models import RefreshToken
from hotlead.accounts.services import auth_login, user_password_change
from hotlead.accounts.tokens import token_digest
from hotlead.core.exceptions import InvalidCredentials, ValidationFailed
from hotlead.core.models import AuditLog
from hotlead.providers.services import provider_suspend
from tests.accounts.helpers import Api
from tests.factories.accounts import PASSWORD, StaffFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-much-better-passphrase-42"


def _pair(provider):
    return auth_login(email=provider.user.email, password=PASSWORD)


def test_refresh_rotates_the_pair_and_stores_only_digests(api):
    # given
    provider = ProviderFactory()
    first = _pair(provider)
    # when
    response = api.post("/auth/refresh", {"refresh_token": first.refresh_token})
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["refresh_token"] != first.refresh_token
    assert api.get("/provider/profile", token=body["access_token"]).status_code == 200
    rows = list(RefreshToken.objects.filter(user=provider.user).order_by("id"))
    assert len(rows) == 2 and rows[0].family == rows[1].family
    assert rows[0].rotated_at is not None and rows[1].rotated_at is None
    assert rows[0].token_hash == token_digest(first.refresh_token)
    assert not RefreshToken.objects.filter(token_hash=first.refresh_token).exists()


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(api):
    # given: the legitimate client rotated once; a thief replays the old token
    provider = ProviderFactory()
    stolen = _pair(provider)
    other_session = _pair(provider)
    current = api.post("/auth/refresh", {"refresh_token": stolen.refresh_token}).json()
    # when
    replay = api.post("/auth/refresh", {"refresh_token": stolen.refresh_token})
    # then
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "token_revoked"
    # the token the legitimate client holds is dead too
    after = api.post("/auth/refresh", {"refresh_token": current["refresh_token"]})
    assert after.status_code == 401
    # another login's family is untouched
    assert api.post("/auth/refresh", {"refresh_token": other_session.refresh_token}).status_code == 200
    assert AuditLog.objects.filter(action="auth.refresh_reuse_detected", actor=provider.user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_of_one_token_exactly_one_succeeds_and_the_family_is_revoked():
    # given: one refresh token presented twice at the same moment (a copied token racing its owner)
    provider = ProviderFactory()
    pair = _pair(provider)
    family = RefreshToken.objects.get(user=provider.user).family
    barrier = threading.Barrier(2)
    results: list[tuple[int, dict]] = []

    def attempt():
        try:
            barrier.wait(timeout=10)
            response = Api().post("/auth/refresh", {"refresh_token": pair.refresh_token})
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # then: one new pair was issued, the other request was treated as reuse
    assert sorted(status for status, _ in results) == [200, 401]
    refused = next(body for status, body in results if status == 401)
    assert refused["error"]["code"] == "token_revoked"
    assert RefreshToken.objects.filter(family=family).count() == 2
    # and the whole family is revoked, including the token the winner just received
    assert not RefreshToken.objects.filter(family=family, revoked_at__isnull=True).exists()
    winner = next(body for status, body in results if status == 200)
    assert Api().post("/auth/refresh", {"refresh_token": winner["refresh_token"]}).status_code == 401
    assert AuditLog.objects.filter(action="auth.refresh_reuse_detected", actor=provider.user).count() == 1


def test_logout_revokes_the_family_and_answers_204(api):
    # given
    provider = ProviderFactory()
    pair = _pair(provider)
    rotated = api.post("/auth/refresh", {"refresh_token": pair.refresh_token}).json()
    # when
    response = api.post("/auth/logout", {"refresh_token": rotated["refresh_token"]})
    # then
    assert response.status_code == 204 and response.content == b""
    assert api.post("/auth/refresh", {"refresh_token": rotated["refresh_token"]}).status_code == 401
    assert not RefreshToken.objects.filter(user=provider.user, revoked_at__isnull=True).exists()


def test_logout_with_a_forged_token_is_401(api):
    response = api.post("/auth/logout", {"refresh_token": "not-a-token"})
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


def test_a_password_change_revokes_every_access_and_refresh_token(api):
    # given
    provider = ProviderFactory()
    pairs = [_pair(provider), _pair(provider)]
    # when
    user_password_change(user=provider.user, old_password=PASSWORD, new_password=NEW_PASSWORD)
    # then
    for pair in pairs:
        assert api.get("/provider/profile", token=pair.access_token).status_code == 401
        assert api.post("/auth/refresh", {"refresh_token": pair.refresh_token}).status_code == 401
    assert api.post("/auth/login", {"email": provider.user.email, "password": NEW_PASSWORD}).status_code == 200
    assert AuditLog.objects.filter(action="auth.password_changed", actor=provider.user).count() == 1


def test_a_password_change_needs_the_current_password_and_a_strong_new_one():
    # given
    provider = ProviderFactory()
    version = provider.user.token_version
    # when / then
    with pytest.raises(InvalidCredentials):
        user_password_change(user=provider.user, old_password="wrong-password-000", new_password=NEW_PASSWORD)
    with pytest.raises(ValidationFailed) as exc:
        user_password_change(user=provider.user, old_password=PASSWORD, new_password="short")
    assert exc.value.details["fields"][0]["field"] == "new_password"
    provider.user.refresh_from_db()
    assert provider.user.check_password(PASSWORD) and provider.user.token_version == version


def test_a_suspended_providers_refresh_token_stops_working(api):
    # given
    provider = ProviderFactory()
    pair = _pair(provider)
    # when
    provider_suspend(provider_id=provider.pk, reason="Chargeback investigation", actor=StaffFactory())
    # then
    assert api.get("/provider/profile", token=pair.access_token).json()["error"]["code"] == "account_suspended"
    assert api.post("/auth/refresh", {"refresh_token": pair.refresh_token}).status_code == 401


def test_refresh_keeps_the_mfa_claim_of_the_login():
    from hotlead.accounts.services import auth_refresh
    from hotlead.accounts.tokens import token_decode
    from tests.accounts.helpers import totp_code
    from tests.factories.accounts import totp_device_for

    # given
    staff = StaffFactory()
    device = totp_device_for(staff)
    pair = auth_login(email=staff.email, password=PASSWORD, otp=totp_code(device))
    # when
    rotated = auth_refresh(refresh_token=pair.refresh_token)
    # then
    assert token_decode(rotated.access_token, expected_type="access")["mfa"] is True
