"""JWT access and refresh tokens (PyJWT, HS256 pinned) and the opaque one-time tokens sent by e-mail.

Access claims: iss, sub (user id), typ ("access"), iat, exp, jti, ver (the user's token_version: bumped on
password change, so every older token stops working), role, mfa (a TOTP code was checked at login).
Refresh claims: iss, sub, typ ("refresh"), iat, exp, jti, fam (the rotation family), ver. Refresh tokens are
also stored (as a SHA-256 digest) so that they can be rotated and revoked: hotlead.accounts.services.
"""
from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from typing import TYPE_CHECKING

import jwt
from django.conf import settings

from hotlead.core.exceptions import NotAuthenticated, TokenExpired

if TYPE_CHECKING:
    from hotlead.accounts.models import User

ALGORITHM = "HS256"


def access_token_encode(*, user: User, mfa: bool) -> tuple[str, int]:
    """Return (token, expires_in seconds)."""
    now = int(time.time())
    ttl = settings.JWT_ACCESS_TTL_SECONDS
    claims = {
        "iss": settings.JWT_ISSUER,
        "sub": str(user.pk),
        "typ": "access",
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        "ver": user.token_version,
        "role": user.role,
        "mfa": bool(mfa),
    }
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM), ttl


def refresh_token_encode(*, user: User, family: uuid.UUID) -> tuple[str, int]:
    """Return (token, expires_in seconds) for a new refresh token of `family`."""
    now = int(time.time())
    ttl = settings.JWT_REFRESH_TTL_SECONDS
    claims = {
        "iss": settings.JWT_ISSUER,
        "sub": str(user.pk),
        "typ": "refresh",
        "iat": now,
        "exp": now + ttl,
        "jti": uuid.uuid4().hex,
        "fam": str(family),
        "ver": user.token_version,
    }
    return jwt.encode(claims, settings.JWT_SIGNING_KEY, algorithm=ALGORITHM), ttl


def token_digest(token: str) -> str:
    """The stored form of a token: its SHA-256 hex digest (the token itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def opaque_token_new() -> str:
    """An unguessable URL-safe secret (256 bits) for e-mailed links."""
    return secrets.token_urlsafe(32)


def token_decode(token: str, *, expected_type: str) -> dict:
    """Verify signature, algorithm, issuer, expiry and type; raise 401 errors otherwise."""
    try:
        claims = jwt.decode(
            token,
            settings.JWT_SIGNING_KEY,
            algorithms=[ALGORITHM],
            issuer=settings.JWT_ISSUER,
            options={"require": ["exp", "iat", "iss", "sub", "typ"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenExpired()
    except jwt.PyJWTError:
        raise NotAuthenticated("The token is not valid.")
    if claims.get("typ") != expected_type:
        raise NotAuthenticated("The token is not valid.")
    return claims
