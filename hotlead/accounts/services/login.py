"""Logging in (password, then TOTP), JWT pairs with rotating refresh tokens, logout (SPEC §8)."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone

from hotlead.accounts.lock_objects import refresh_token_lock
from hotlead.accounts.models import RefreshToken, Role, User
from hotlead.accounts.services.mfa import totp_confirmed_device_exists, totp_verify
from hotlead.accounts.services.revocation import refresh_family_revoke
from hotlead.accounts.tokens import access_token_encode, refresh_token_encode, token_decode, token_digest
from hotlead.core.exceptions import (
    ApplicationError,
    Forbidden,
    InvalidCredentials,
    InvalidOtp,
    MfaRequired,
    MfaSetupRequired,
    NotAuthenticated,
    RateLimited,
    TokenExpired,
    TokenRevoked,
)
from hotlead.core.logging import mask_email
from hotlead.core.ratelimit import client_ip_key, rate_limit_hit
from hotlead.core.services import audit_record


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


def email_normalize(email: str) -> str:
    return (email or "").strip().lower()


def login_throttle(*, email: str) -> None:
    """Count one login attempt per IP and per account; raise RateLimited (429) over either limit."""
    rate_limit_hit(scope="login_ip", key=client_ip_key())
    rate_limit_hit(scope="login_account", key=email_normalize(email))


def login_failure_record(*, email: str, reason: str, user: User | None = None, channel: str) -> None:
    """Audit a refused login: the masked e-mail and the reason, never the password or the code."""
    audit_record(
        action="auth.login_failed",
        actor=user,
        object_type="accounts.user",
        object_id=getattr(user, "pk", "") or "",
        changes={"email": mask_email(email_normalize(email)), "reason": reason, "channel": channel},
    )


def login_success_record(*, user: User, mfa: bool, channel: str) -> None:
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    audit_record(
        action="auth.login", actor=user, obj=user, changes={"mfa": mfa, "channel": channel}
    )


# What a non-staff account must satisfy to sign in, by role, added by the app that owns the role's profile
# (providers, from its AppConfig.ready): accounts is ranked below it and does not import it.
_ROLE_LOGIN_CHECKS: dict[str, Callable[[User], None]] = {}


def login_role_check_register(*, role: str, check: Callable[[User], None]) -> None:
    _ROLE_LOGIN_CHECKS[role] = check


def login_allowed_check(*, user: User) -> None:
    """After the password matched: may this account sign in at all? Raise the reason otherwise."""
    if user.role == Role.STAFF:
        if not user.is_staff:
            raise Forbidden("This account may not sign in.")
        return
    check = _ROLE_LOGIN_CHECKS.get(user.role)
    if check is None:
        raise Forbidden("This account may not sign in.")
    check(user)


def password_check(*, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None (Django's backend hashes even for unknown e-mails)."""
    user = authenticate(None, username=email_normalize(email), password=password or "")
    return user if isinstance(user, User) else None


def auth_login(*, email: str, password: str, otp: str | None = None, channel: str = "api") -> TokenPair:
    """Password, then the TOTP code when the account has a device; issue a token pair. Every outcome is audited."""
    try:
        login_throttle(email=email)
    except RateLimited:
        login_failure_record(email=email, reason="rate_limited", channel=channel)
        raise
    user = password_check(email=email, password=password)
    if user is None:
        login_failure_record(email=email, reason="invalid_credentials", channel=channel)
        raise InvalidCredentials()
    try:
        login_allowed_check(user=user)
        mfa = login_second_factor_check(user=user, otp=otp)
    except ApplicationError as exc:
        login_failure_record(email=email, reason=exc.code, user=user, channel=channel)
        raise
    pair = token_pair_issue(user=user, mfa=mfa)
    login_success_record(user=user, mfa=mfa, channel=channel)
    return pair


def login_second_factor_check(*, user: User, otp: str | None) -> bool:
    """True when a TOTP code was verified. Staff must have a device; providers only when they enrolled one."""
    if totp_confirmed_device_exists(user=user):
        if not otp:
            raise MfaRequired()
        if totp_verify(user=user, token=str(otp).strip()) is None:
            raise InvalidOtp()
        return True
    if user.role == Role.STAFF:
        raise MfaSetupRequired(
            "Staff accounts must sign in with two-factor authentication: enrol an authenticator app in the "
            "console first."
        )
    return False


def token_pair_issue(*, user: User, mfa: bool, family: uuid.UUID | None = None) -> TokenPair:
    """A new access token and a new refresh token (of `family`, or of a new family), the latter stored hashed."""
    family = family or uuid.uuid4()
    access, expires_in = access_token_encode(user=user, mfa=mfa)
    refresh, refresh_ttl = refresh_token_encode(user=user, family=family)
    RefreshToken.objects.create(
        user=user, family=family, token_hash=token_digest(refresh), mfa=mfa,
        expires_at=timezone.now() + timedelta(seconds=refresh_ttl),
    )
    return TokenPair(access_token=access, refresh_token=refresh, expires_in=expires_in)


def auth_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate: the presented token is spent and a new pair of the same family is issued.

    Presenting a token that was already rotated means it was copied: the whole family is revoked (the
    revocation is committed before the 401 is raised) and the legitimate holder must sign in again.
    """
    claims = token_decode(refresh_token, expected_type="refresh")
    outcome, result = _refresh_rotate(digest=token_digest(refresh_token), claims=claims)
    if outcome == "reused":
        audit_record(
            action="auth.refresh_reuse_detected", actor=result, obj=result,
            changes={"family": claims.get("fam", "")},
        )
        raise TokenRevoked("This refresh token was already used; the session has been revoked.")
    if outcome != "ok":
        raise TokenRevoked()
    return result


@transaction.atomic
def _refresh_rotate(*, digest: str, claims: dict):
    now = timezone.now()
    row = refresh_token_lock(token_hash=digest)
    if row is None or row.revoked_at is not None:
        return "invalid", None
    if row.rotated_at is not None:
        refresh_family_revoke(family=row.family)
        return "reused", row.user
    user = row.user
    if row.expires_at <= now or not user.is_active or claims.get("ver") != user.token_version:
        return "invalid", None
    try:
        login_allowed_check(user=user)
    except ApplicationError:
        refresh_family_revoke(family=row.family)
        return "invalid", None
    row.rotated_at = now
    row.save(update_fields=["rotated_at"])
    return "ok", token_pair_issue(user=user, mfa=row.mfa, family=row.family)


@transaction.atomic
def auth_logout(*, refresh_token: str) -> None:
    """Revoke the refresh token's whole family. An expired token still identifies its family."""
    try:
        token_decode(refresh_token, expected_type="refresh")
    except TokenExpired:
        pass
    row = RefreshToken.objects.select_related("user").filter(token_hash=token_digest(refresh_token)).first()
    if row is None:
        raise NotAuthenticated("The refresh token is not valid.")
    refresh_family_revoke(family=row.family)
    audit_record(action="auth.logout", actor=row.user, obj=row.user)
