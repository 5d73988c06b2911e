"""Access tokens: algorithm pinned (HS256), signature, issuer, expiry and type checked; revocation (SPEC §8)."""
from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from hotlead.accounts.services import auth_login, user_token_version_bump
from hotlead.accounts.tokens import access_token_encode
from tests.factories.accounts import PASSWORD
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def _claims(user, **overrides) -> dict:
    now = int(time.time())
    claims = {"iss": settings.JWT_ISSUER, "sub": str(user.pk), "typ": "access", "iat": now, "exp": now + 600,
              "jti": "x", "ver": user.token_version, "role": user.role, "mfa": True}
    claims.update(overrides)
    return claims


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _assert_refused(api, token: str, code: str = "not_authenticated") -> None:
    response = api.get("/provider/profile", token=token)
    assert response.status_code == 401, response.content
    assert response.json()["error"]["code"] == code


def test_a_valid_token_is_accepted(api):
    # given: the control case for every refusal below
    provider = ProviderFactory()
    token = jwt.encode(_claims(provider.user), settings.JWT_SIGNING_KEY, algorithm="HS256")
    # when / then
    assert api.get("/provider/profile", token=token).status_code == 200


def test_alg_none_is_refused(api):
    provider = ProviderFactory()
    token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(provider.user))}."
    _assert_refused(api, token)


def test_another_hmac_algorithm_with_the_right_key_is_refused(api):
    provider = ProviderFactory()
    token = jwt.encode(_claims(provider.user), settings.JWT_SIGNING_KEY, algorithm="HS512")
    _assert_refused(api, token)


def test_an_rs256_token_is_refused(api):
    # given: an attacker's own RSA key (algorithm confusion: only HS256 with our secret is accepted)
    provider = ProviderFactory()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    token = jwt.encode(_claims(provider.user), pem, algorithm="RS256")
    _assert_refused(api, token)


def test_hs256_signed_with_another_key_is_refused(api):
    provider = ProviderFactory()
    token = jwt.encode(_claims(provider.user), "an-attacker-key-that-is-long-enough-0123456789", algorithm="HS256")
    _assert_refused(api, token)


def test_a_tampered_payload_is_refused(api):
    # given: a real token of one provider whose subject is swapped for another's
    victim = ProviderFactory()
    attacker = ProviderFactory()
    token, _ = access_token_encode(user=attacker.user, mfa=False)
    header, _payload, signature = token.split(".")
    forged = f"{header}.{_b64(_claims(victim.user, mfa=False))}.{signature}"
    _assert_refused(api, forged)


def test_a_tampered_signature_is_refused(api):
    provider = ProviderFactory()
    token, _ = access_token_encode(user=provider.user, mfa=False)
    header, payload, signature = token.split(".")
    flipped = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    _assert_refused(api, f"{header}.{payload}.{flipped}")


def test_an_expired_token_is_refused_with_token_expired(api):
    provider = ProviderFactory()
    now = int(time.time())
    token = jwt.encode(_claims(provider.user, iat=now - 1000, exp=now - 10), settings.JWT_SIGNING_KEY,
                       algorithm="HS256")
    _assert_refused(api, token, code="token_expired")


def test_another_issuer_is_refused(api):
    provider = ProviderFactory()
    token = jwt.encode(_claims(provider.user, iss="someone-else"), settings.JWT_SIGNING_KEY, algorithm="HS256")
    _assert_refused(api, token)


def test_a_token_without_exp_is_refused(api):
    provider = ProviderFactory()
    claims = _claims(provider.user)
    del claims["exp"]
    _assert_refused(api, jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm="HS256"))


def test_a_refresh_token_cannot_be_used_as_an_access_token(api):
    provider = ProviderFactory()
    pair = auth_login(email=provider.user.email, password=PASSWORD)
    _assert_refused(api, pair.refresh_token)


def test_an_access_token_cannot_be_used_to_refresh(api):
    provider = ProviderFactory()
    pair = auth_login(email=provider.user.email, password=PASSWORD)
    response = api.post("/auth/refresh", {"refresh_token": pair.access_token})
    assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"


def test_a_token_issued_before_a_password_change_is_revoked(api):
    provider = ProviderFactory()
    token, _ = access_token_encode(user=provider.user, mfa=False)
    user_token_version_bump(user=provider.user)
    _assert_refused(api, token)


@pytest.mark.parametrize("header", ["", "Bearer", "Basic dXNlcjpwYXNz", "Bearer not.a.jwt"])
def test_missing_or_malformed_authorization_is_401_with_the_spec_body(api, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = api.get("/provider/profile", **extra)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert set(response.json()["error"]) == {"code", "message", "details"}
