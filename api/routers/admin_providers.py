"""Admin: providers (SPEC §8.1) — list, detail, update, suspend, reinstate. Staff with MFA only.

Domain modules are imported inside the views: this module loads before the app registry is ready.
"""
from __future__ import annotations

from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice
from ninja import Query, Router

from api.auth import staff_auth
from api.schemas.providers import (
    AdminProviderListOut,
    AdminProviderListQuery,
    AdminProviderOut,
    AdminProviderUpdateIn,
    ReasonIn,
)
from hotlead.core.exceptions import NotFound
from hotlead.distribution.selectors.providers import provider_detail_for_admin, provider_list_for_admin
from hotlead.providers.selectors import provider_areas
from hotlead.providers.services import provider_admin_update
from hotlead.providers.services import provider_reinstate as reinstate
from hotlead.providers.services import provider_suspend as suspend

router = Router(auth=staff_auth)


def _row(provider) -> dict:
    return {
        "id": provider.pk, "email": provider.user.email, "company_name": provider.company_name,
        "contact_name": provider.contact_name, "status": provider.status,
        "categories": sorted(c.slug for c in provider.categories.all()), "areas_count": provider.areas_count,
        "balance_cents": provider.balance_cents, "last_assigned_at": provider.last_assigned_at,
        "flagged": provider.flagged, "created_at": provider.created_at,
    }


def _detail(provider_id: int) -> dict:
    provider = provider_detail_for_admin(provider_id=provider_id)
    if provider is None:
        raise NotFound()
    codes, prefixes = provider_areas(provider_id=provider.pk)
    return {
        **_row(provider),
        "phone": provider.phone, "timezone": provider.timezone, "webhook_url": provider.webhook_url or None,
        "email_verified_at": provider.email_verified_at, "suspended_reason": provider.suspended_reason,
        "suspended_at": provider.suspended_at, "flagged_reason": provider.flagged_reason,
        "assignment_email": provider.notify_assignments,
        "low_balance_threshold_cents": provider.low_balance_threshold_cents,
        "postal_codes": codes, "prefixes": prefixes,
        "mfa_enabled": TOTPDevice.objects.filter(user_id=provider.user_id, confirmed=True).exists(),
    }


@router.get("/providers", response=AdminProviderListOut,
            summary="Providers, newest first, with balance, areas count and last lead (cursor pagination)")
def provider_list(request: HttpRequest, filters: Query[AdminProviderListQuery]):
    page, next_cursor = provider_list_for_admin(
        status=filters.status, category=filters.category, q=filters.q, flagged=filters.flagged,
        cursor=filters.cursor, limit=filters.limit,
    )
    return {"items": [_row(p) for p in page], "next_cursor": next_cursor}


@router.get("/providers/{provider_id}", response=AdminProviderOut)
def provider_detail(request: HttpRequest, provider_id: int):
    return _detail(provider_id)


@router.put("/providers/{provider_id}", response=AdminProviderOut,
            summary="Replace the profile (and, when given, the areas and preferences); status has its own endpoints")
def provider_update(request: HttpRequest, provider_id: int, payload: AdminProviderUpdateIn):
    extra = {"webhook_url": payload.webhook_url} if "webhook_url" in payload.model_fields_set else {}
    areas = payload.service_areas
    prefs = payload.notification_preferences
    provider_admin_update(
        provider_id=provider_id, company_name=payload.company_name, contact_name=payload.contact_name,
        phone=payload.phone, categories=payload.categories, timezone_name=payload.timezone,
        postal_codes=areas.postal_codes if areas else None, prefixes=areas.prefixes if areas else None,
        assignment_email=prefs.assignment_email.value if prefs else None,
        low_balance_threshold_cents=prefs.low_balance_threshold_cents if prefs else None,
        actor=request.auth, **extra,
    )
    return _detail(provider_id)


@router.post("/providers/{provider_id}/suspend", response=AdminProviderOut,
             summary="Suspend: no leads, no portal or API access; the provider's refresh tokens are revoked")
def provider_suspend(request: HttpRequest, provider_id: int, payload: ReasonIn):
    suspend(provider_id=provider_id, reason=payload.reason, actor=request.auth)
    return _detail(provider_id)


@router.post("/providers/{provider_id}/reinstate", response=AdminProviderOut, summary="Lift a suspension")
def provider_reinstate(request: HttpRequest, provider_id: int, payload: ReasonIn):
    reinstate(provider_id=provider_id, reason=payload.reason, actor=request.auth)
    return _detail(provider_id)
