"""Public auth endpoints (SPEC §8): register, verify e-mail, login, refresh, logout, password reset.

Domain modules are imported inside the views: this module loads before the app registry is ready.
"""
from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from api.schemas.auth import (
    AcceptedOut,
    EmailIn,
    ForgotPasswordIn,
    LoginIn,
    RefreshIn,
    RegisterIn,
    RegisterOut,
    ResetPasswordIn,
    TokenOut,
    VerifyEmailIn,
    VerifyEmailOut,
)
from hotlead.accounts.services import (
    auth_login,
    auth_logout,
    auth_refresh,
    password_reset_complete,
    password_reset_request,
)
from hotlead.providers.services import provider_email_verify, provider_register, provider_verification_resend

router = Router()

FORGOT_PASSWORD_ANSWER = "If an account exists for this e-mail address, a reset link has been sent to it."
RESEND_ANSWER = "If this e-mail address is waiting for verification, a new link has been sent to it."


@router.post("/register", response={201: RegisterOut}, summary="Register a provider (pending e-mail verification)")
def register(request: HttpRequest, payload: RegisterIn):
    provider = provider_register(
        email=payload.email, password=payload.password, company_name=payload.company_name,
        contact_name=payload.contact_name, phone=payload.phone, timezone_name=payload.timezone,
    )
    return Status(201, {"id": provider.pk, "email": provider.user.email, "status": provider.status})


@router.post("/verify-email", response=VerifyEmailOut, summary="Spend the e-mailed verification token")
def verify_email(request: HttpRequest, payload: VerifyEmailIn):
    provider = provider_email_verify(token=payload.token)
    return {"id": provider.pk, "email": provider.user.email, "status": provider.status}


@router.post("/resend-verification", response={202: AcceptedOut}, summary="Send a new verification link")
def resend_verification(request: HttpRequest, payload: EmailIn):
    provider_verification_resend(email=payload.email)
    return Status(202, {"detail": RESEND_ANSWER})


@router.post("/login", response=TokenOut, summary="Password (and TOTP code when enrolled) → token pair")
def login(request: HttpRequest, payload: LoginIn):
    return auth_login(email=payload.email, password=payload.password, otp=payload.otp)


@router.post("/refresh", response=TokenOut, summary="Rotate a refresh token (reuse revokes the whole family)")
def refresh(request: HttpRequest, payload: RefreshIn):
    return auth_refresh(refresh_token=payload.refresh_token)


@router.post("/logout", response={204: None}, summary="Revoke the refresh token's family")
def logout(request: HttpRequest, payload: RefreshIn):
    auth_logout(refresh_token=payload.refresh_token)
    return Status(204, None)


@router.post("/forgot-password", response={202: AcceptedOut},
             summary="E-mail a reset link; always the same answer (no account enumeration)")
def forgot_password(request: HttpRequest, payload: ForgotPasswordIn):
    password_reset_request(email=payload.email)
    return Status(202, {"detail": FORGOT_PASSWORD_ANSWER})


@router.post("/reset-password", response={204: None}, summary="Set a new password with the e-mailed token")
def reset_password(request: HttpRequest, payload: ResetPasswordIn):
    password_reset_complete(token=payload.token, password=payload.password)
    return Status(204, None)
