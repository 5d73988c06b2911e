"""The provider's own account (SPEC §7, §13): profile, service areas, notification preferences, MFA set-up.

Domain modules are imported inside the views: this module loads before the app registry is ready.
"""
from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from api.auth import provider_auth, provider_auth_mfa_setup
from api.schemas.providers import (
    MfaConfirmIn,
    MfaConfirmOut,
    MfaSetupOut,
    NotificationPreferencesIn,
    NotificationPreferencesOut,
    ProfileIn,
    ProfileOut,
    ServiceAreasIn,
    ServiceAreasOut,
)
from hotlead.accounts.services import (
    token_pair_issue,
    totp_confirmed_device_exists,
    totp_provisioning_uri,
    totp_secret_base32,
    totp_setup_confirm,
    totp_setup_start,
)
from hotlead.providers.selectors import provider_areas
from hotlead.providers.services import (
    provider_notification_preferences_update,
    provider_profile_update,
    provider_service_areas_set,
)

router = Router(auth=provider_auth)


def _profile(provider) -> dict:
    return {
        "id": provider.pk, "email": provider.user.email, "status": provider.status,
        "company_name": provider.company_name, "contact_name": provider.contact_name, "phone": provider.phone,
        "categories": sorted(provider.categories.values_list("slug", flat=True)), "timezone": provider.timezone,
        "webhook_url": provider.webhook_url or None,
        "mfa_enabled": totp_confirmed_device_exists(user=provider.user),
    }


@router.get("/profile", response=ProfileOut)
def profile_get(request: HttpRequest):
    return _profile(request.auth)


@router.put("/profile", response=ProfileOut, summary="Replace the profile (webhook_url: omit to keep it)")
def profile_put(request: HttpRequest, payload: ProfileIn):
    extra = {"webhook_url": payload.webhook_url} if "webhook_url" in payload.model_fields_set else {}
    provider = provider_profile_update(
        provider_id=request.auth.pk, company_name=payload.company_name, contact_name=payload.contact_name,
        phone=payload.phone, categories=payload.categories, timezone_name=payload.timezone,
        actor=request.user, **extra,
    )
    provider.user = request.auth.user
    return _profile(provider)


@router.get("/service-areas", response=ServiceAreasOut)
def service_areas_get(request: HttpRequest):
    codes, prefixes = provider_areas(provider_id=request.auth.pk)
    return {"postal_codes": codes, "prefixes": prefixes}


@router.put("/service-areas", response=ServiceAreasOut, summary="Replace the exact postal codes and prefixes")
def service_areas_put(request: HttpRequest, payload: ServiceAreasIn):
    codes, prefixes = provider_service_areas_set(
        provider_id=request.auth.pk, postal_codes=payload.postal_codes, prefixes=payload.prefixes,
        actor=request.user,
    )
    return {"postal_codes": codes, "prefixes": prefixes}


@router.get("/notification-preferences", response=NotificationPreferencesOut)
def preferences_get(request: HttpRequest):
    provider = request.auth
    return {"assignment_email": provider.notify_assignments,
            "low_balance_threshold_cents": provider.low_balance_threshold_cents}


@router.put("/notification-preferences", response=NotificationPreferencesOut,
            summary="Assignment e-mails (instant, daily_digest, off) and the low-balance alert threshold")
def preferences_put(request: HttpRequest, payload: NotificationPreferencesIn):
    provider = provider_notification_preferences_update(
        provider_id=request.auth.pk, assignment_email=payload.assignment_email.value,
        low_balance_threshold_cents=payload.low_balance_threshold_cents, actor=request.user,
    )
    return {"assignment_email": provider.notify_assignments,
            "low_balance_threshold_cents": provider.low_balance_threshold_cents}


@router.post("/mfa/setup", response=MfaSetupOut, auth=provider_auth_mfa_setup,
             summary="Start TOTP enrolment: a new unconfirmed device; show the URI as a QR code")
def mfa_setup(request: HttpRequest):
    device = totp_setup_start(user=request.user)
    return {"secret": totp_secret_base32(device), "otpauth_uri": totp_provisioning_uri(device),
            "digits": device.digits, "period": device.step}


@router.post("/mfa/confirm", response=MfaConfirmOut, auth=provider_auth_mfa_setup,
             summary="Confirm the device with its first code; earlier tokens are revoked, a new pair is returned")
def mfa_confirm(request: HttpRequest, payload: MfaConfirmIn):
    totp_setup_confirm(user=request.user, token=payload.otp)
    pair = token_pair_issue(user=request.user, mfa=True)
    return {"mfa_enabled": True, "access_token": pair.access_token, "refresh_token": pair.refresh_token,
            "token_type": pair.token_type, "expires_in": pair.expires_in}
